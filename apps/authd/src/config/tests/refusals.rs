//! What the configuration refuses, and that the refusal names the key and its environment variable.

use super::load;

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
