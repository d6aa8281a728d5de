//! The contract of the environment keys, the defaults and the precedence of the layers.

use std::collections::HashMap;

use authd_identity::ScryptCost;
use authd_store::DatabaseUrl;

use super::*;

fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::load(None, &env_of(env))
}

fn env_of(env: &[(&str, &str)]) -> HashMap<String, String> {
    env.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn database(url: &str) -> DatabaseUrl {
    DatabaseUrl::parse(url).unwrap()
}

#[test]
fn defaults_match_the_contract() {
    let s = load(&[]).unwrap();
    assert_eq!(s.database.url, database("sqlite://authd.db"));
    assert_eq!(s.database.max_connections.get(), 10);
    assert_eq!(s.server.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.server.public_url.as_str(), "http://localhost:8080");
    assert_eq!(s.server.frontend_url.as_str(), "http://localhost:3000");
    assert!(s.cookies.secure);
    assert_eq!(s.password.cost(), ScryptCost::default());
    assert_eq!(
        s.password.cost(),
        ScryptCost {
            log_n: 17,
            r: 8,
            p: 1
        }
    );
    assert_eq!(
        (
            s.tokens.access_ttl_secs.get(),
            s.tokens.refresh_ttl_secs.get()
        ),
        (900, 2_592_000)
    );
    assert_eq!(
        (
            s.tokens.mfa_pending_ttl_secs.get(),
            s.tokens.reset_ttl_secs.get()
        ),
        (300, 3600)
    );
    assert!(s.tokens.signing_key.is_none());
    assert!(s.rate_limit.enabled);
    assert!(s.smtp.host.is_none());
    assert_eq!(s.smtp.effective_port(), 587);
    assert!(s.secrets.encryption_key.is_none());
    assert!(s.oauth.github.client_id.is_none());
    assert_eq!(s.reset_url(), "http://localhost:3000/reset-password");
}

#[test]
fn smtp_settings_come_from_the_contract_keys() {
    let s = load(&[
        ("AUTHD__SMTP__HOST", "mail.example.com"),
        ("AUTHD__SMTP__TLS", "tls"),
        ("AUTHD__SMTP__USERNAME", "authd"),
        ("AUTHD__SMTP__PASSWORD", "hunter2"),
        ("AUTHD__SMTP__FROM", "Example <no-reply@example.com>"),
        ("AUTHD__EMAIL__RESET_URL", "https://app.example.com/reset"),
    ])
    .unwrap();
    assert_eq!(s.smtp.host.as_deref(), Some("mail.example.com"));
    assert_eq!(s.smtp.tls, SmtpTlsSetting::Tls);
    assert_eq!(s.smtp.effective_port(), 465);
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
fn environment_variables_override_defaults() {
    let s = load(&[
        ("AUTHD__SERVER__BIND", "0.0.0.0:9000"),
        ("AUTHD__COOKIES__SECURE", "false"),
        ("AUTHD__PASSWORD__SCRYPT_LOG_N", "10"),
        ("AUTHD__RATE_LIMIT__ENABLED", "false"),
        (
            "AUTHD__SERVER__ALLOWED_ORIGINS",
            "https://a.example, https://B.example/path",
        ),
        ("AUTHD__SERVER__TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.7"),
    ])
    .unwrap();
    assert_eq!(s.server.bind.to_string(), "0.0.0.0:9000");
    assert!(!s.cookies.secure);
    assert_eq!(s.password.scrypt_log_n, 10);
    assert!(!s.rate_limit.enabled);
    assert_eq!(
        s.server.all_allowed_origins(),
        [
            "http://localhost:3000",
            "https://a.example",
            "https://b.example"
        ]
    );
    let proxies: Vec<String> = s
        .server
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(proxies, ["10.0.0.0/8", "192.0.2.7/32"]);
}

#[test]
fn database_url_comes_from_either_variable_and_the_authd_one_wins() {
    assert_eq!(
        load(&[("DATABASE_URL", "postgres://u@h/db")])
            .unwrap()
            .database
            .url,
        database("postgres://u@h/db")
    );
    let both = load(&[
        ("DATABASE_URL", "postgres://u@h/db"),
        ("AUTHD__DATABASE__URL", "sqlite://x.db"),
    ]);
    assert_eq!(both.unwrap().database.url, database("sqlite://x.db"));
}

#[test]
fn a_toml_file_sits_between_defaults_and_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authd.toml");
    std::fs::write(
        &path,
        "[server]\nbind = \"127.0.0.1:7000\"\ntrusted_proxies = [\"10.0.0.1\"]\n\
         [cookies]\nsecure = false\n[database]\nurl = \"sqlite://file.db\"\n",
    )
    .unwrap();
    let env = env_of(&[
        ("AUTHD__SERVER__BIND", "127.0.0.1:7001"),
        ("DATABASE_URL", "postgres://u@h/db"),
    ]);
    let s = Settings::load(Some(&path), &env).unwrap();
    assert_eq!(s.server.bind.to_string(), "127.0.0.1:7001");
    assert_eq!(s.server.trusted_proxies.len(), 1);
    assert!(!s.cookies.secure);
    assert_eq!(s.database.url, database("postgres://u@h/db"));
}

#[test]
fn invalid_values_are_refused_with_the_key_named() {
    let cases: &[(&str, &str, &str)] = &[
        ("AUTHD__SERVER__BIND", "nonsense", "server.bind"),
        ("AUTHD__DATABASE__URL", "mysql://x", "database.url"),
        (
            "AUTHD__DATABASE__MAX_CONNECTIONS",
            "0",
            "database.max_connections",
        ),
        (
            "AUTHD__PASSWORD__SCRYPT_LOG_N",
            "40",
            "password.scrypt_log_n",
        ),
        ("AUTHD__PASSWORD__SCRYPT_LOG_N", "abc", "scrypt_log_n"),
        ("AUTHD__PASSWORD__SCRYPT_R", "0", "password.scrypt_r"),
        ("AUTHD__PASSWORD__HASH_QUEUE", "0", "password.hash_queue"),
        (
            "AUTHD__SERVER__FRONTEND_URL",
            "localhost:3000",
            "server.frontend_url",
        ),
        (
            "AUTHD__SERVER__ALLOWED_ORIGINS",
            "https://ok.example,ftp://x",
            "server.allowed_origins",
        ),
        (
            "AUTHD__SERVER__MAX_BODY_BYTES",
            "10",
            "server.max_body_bytes",
        ),
        (
            "AUTHD__TOKENS__ACCESS_TTL_SECS",
            "0",
            "tokens.access_ttl_secs",
        ),
        ("AUTHD__RATE_LIMIT__MFA_WINDOW_SECS", "86401", "rate_limit"),
        (
            "AUTHD__SERVER__TRUSTED_PROXIES",
            "10.0.0.0/8,bogus",
            "server.trusted_proxies",
        ),
        ("AUTHD__TOKENS__SIGNING_KEY", "abcd", "tokens.signing_key"),
        ("AUTHD__SERVER__NO_SUCH_KEY", "1", "no_such_key"),
        ("AUTHD__SMTP__TLS", "ssl", "tls"),
        ("AUTHD__SMTP__HOST", "mail example", "smtp.host"),
        ("AUTHD__SMTP__FROM", "nobody", "smtp.from"),
        ("AUTHD__SMTP__USERNAME", "only-half", "smtp.username"),
        ("AUTHD__EMAIL__RESET_URL", "/relative", "email.reset_url"),
        ("AUTHD__EMAIL__MAX_ATTEMPTS", "0", "email.max_attempts"),
        (
            "AUTHD__SECRETS__ENCRYPTION_KEY",
            "abcd",
            "secrets.encryption_key",
        ),
        ("AUTHD__MFA__ISSUER", "a:b", "mfa.issuer"),
        (
            "AUTHD__OAUTH__GITHUB__TOKEN_URL",
            "github.com/token",
            "oauth.github.token_url",
        ),
    ];
    for (key, value, named) in cases {
        let err = load(&[(key, value)]).expect_err(key).to_string();
        assert!(err.contains(named), "{key}={value}: {err}");
        assert!(err.starts_with("invalid configuration: "), "{err}");
    }
}

#[test]
fn an_invalid_value_names_its_environment_variable() {
    let err = load(&[("AUTHD__SERVER__BIND", "nonsense")])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "invalid configuration: `server.bind` (AUTHD__SERVER__BIND): must be IP:PORT, e.g. 127.0.0.1:8080"
    );
    let err = load(&[("AUTHD__TOKENS__SIGNING_KEY", "abcd")])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "invalid configuration: `tokens.signing_key` (AUTHD__TOKENS__SIGNING_KEY): "
        ),
        "{err}"
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
