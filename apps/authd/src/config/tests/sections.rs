//! What the sections make of their keys: mail, relying party, signing key, providers, and secrets that
//! never show in `Debug`.

use super::load;
use crate::config::SmtpTlsSetting;

#[test]
fn smtp_settings_come_from_the_contract_keys() {
    let s = load(&[
        ("AUTHD__SMTP__HOST", "mail.example.com"),
        ("AUTHD__SMTP__TLS", "tls"),
        ("AUTHD__SMTP__PORT", "2465"),
        ("AUTHD__SMTP__USERNAME", "authd"),
        ("AUTHD__SMTP__PASSWORD", "hunter2"),
        ("AUTHD__SMTP__FROM", "Example <no-reply@example.com>"),
        ("AUTHD__EMAIL__RESET_URL", "https://app.example.com/reset"),
    ])
    .unwrap();
    assert_eq!(s.smtp.host.as_deref(), Some("mail.example.com"));
    assert_eq!(s.smtp.tls, SmtpTlsSetting::Tls);
    assert_eq!(s.smtp.effective_port(), 2465);
    assert_eq!(s.reset_url(), "https://app.example.com/reset");
    assert!(
        !format!("{s:?}").contains("hunter2"),
        "the SMTP password leaked into Debug"
    );
    let digits = load(&[
        ("AUTHD__SMTP__USERNAME", "u"),
        ("AUTHD__SMTP__PASSWORD", "007"),
    ])
    .unwrap();
    assert_eq!(
        digits
            .smtp
            .password
            .as_ref()
            .map(authd_kernel::Secret::expose),
        Some("007"),
        "a numeric-looking secret was reinterpreted"
    );
}

#[test]
fn the_relying_party_defaults_to_the_frontend() {
    let s = load(&[("AUTHD__SERVER__FRONTEND_URL", "https://app.example.com/")]).unwrap();
    assert_eq!(s.relying_party().rp_id, "app.example.com");
    assert_eq!(s.relying_party().rp_origin, "https://app.example.com");
    assert_eq!(load(&[]).unwrap().relying_party().rp_id, "localhost");
    let s = load(&[
        ("AUTHD__PASSKEY__RP_ID", "Example.com"),
        ("AUTHD__PASSKEY__RP_ORIGIN", "https://login.example.com"),
    ])
    .unwrap();
    assert_eq!(s.relying_party().rp_id, "example.com");
    assert_eq!(s.relying_party().rp_origin, "https://login.example.com");
    assert!(load(&[("AUTHD__PASSKEY__RP_ID", "https://example.com")]).is_err());
    let mismatch = load(&[("AUTHD__PASSKEY__RP_ID", "example.org")])
        .unwrap_err()
        .to_string();
    assert!(mismatch.contains("passkey.rp_id"), "{mismatch}");
    let ipv6 = load(&[("AUTHD__SERVER__FRONTEND_URL", "http://[::1]:3000")])
        .unwrap_err()
        .to_string();
    assert!(ipv6.contains("passkey.rp_id"), "{ipv6}");
}

#[test]
fn a_configured_signing_key_carries_its_configured_id() {
    let s = load(&[
        ("AUTHD__TOKENS__SIGNING_KEY", &"5e".repeat(32)),
        ("AUTHD__TOKENS__SIGNING_KEY_ID", "7"),
    ])
    .unwrap();
    let key = s.tokens.signing_key.unwrap();
    assert_eq!(key.kid(), authd_session::KeyId(7));
}

#[test]
fn oauth_providers_come_from_the_contract_keys() {
    let s = load(&[
        ("AUTHD__OAUTH__GITHUB__CLIENT_ID", "gh-id"),
        ("AUTHD__OAUTH__GITHUB__CLIENT_SECRET", "gh-secret"),
        (
            "AUTHD__OAUTH__GITHUB__API_URL",
            "https://github.example.com/api/v3",
        ),
        ("AUTHD__OAUTH__GOOGLE__ISSUER_URL", "http://127.0.0.1:9999"),
    ])
    .unwrap();
    assert_eq!(s.oauth.github.client_id.as_deref(), Some("gh-id"));
    assert_eq!(
        s.oauth.github.api_url.as_str(),
        "https://github.example.com/api/v3"
    );
    assert!(s.oauth.google.client_id.is_none());
    let err = load(&[("AUTHD__OAUTH__GOOGLE__CLIENT_ID", "x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("oauth.google.client_secret"), "{err}");
}

#[test]
fn printing_the_whole_settings_shows_no_secret() {
    let secrets = [
        "db-password-4711",
        &"5e".repeat(32),
        &"a7".repeat(32),
        "smtp-password-4711",
        "github-secret-4711",
        "google-secret-4711",
    ];
    let database_url = format!("postgres://authd:{}@db.example.com/authd", secrets[0]);
    let s = load(&[
        ("DATABASE_URL", &database_url),
        ("AUTHD__TOKENS__SIGNING_KEY", secrets[1]),
        ("AUTHD__SECRETS__ENCRYPTION_KEY", secrets[2]),
        ("AUTHD__SMTP__USERNAME", "authd"),
        ("AUTHD__SMTP__PASSWORD", secrets[3]),
        ("AUTHD__OAUTH__GITHUB__CLIENT_ID", "gh-id"),
        ("AUTHD__OAUTH__GITHUB__CLIENT_SECRET", secrets[4]),
        ("AUTHD__OAUTH__GOOGLE__CLIENT_ID", "google-id"),
        ("AUTHD__OAUTH__GOOGLE__CLIENT_SECRET", secrets[5]),
    ])
    .unwrap();
    assert!(s.tokens.signing_key.is_some() && s.secrets.encryption_key.is_some());
    let printed = format!("{s:?} {s:#?}");
    assert!(
        printed.contains("gh-id"),
        "Debug shows the settings: {printed}"
    );
    for secret in secrets {
        assert!(!printed.contains(secret), "{secret} leaked into Debug");
    }
}
