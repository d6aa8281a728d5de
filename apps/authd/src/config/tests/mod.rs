//! The contract of the environment keys, the defaults and the precedence of the layers; what is refused
//! and how (`refusals`); what the sections make of their keys (`sections`).

use std::collections::HashMap;

use authd_identity::ScryptCost;
use authd_store::DatabaseUrl;

use super::*;

mod refusals;
mod sections;

pub(super) fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Settings::load(None, &env_of(env))
}

pub(super) fn env_of(env: &[(&str, &str)]) -> HashMap<String, String> {
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
        ("AUTHD__SERVER__METRICS_BIND", "10.1.2.3:9100"),
    ])
    .unwrap();
    assert_eq!(s.server.bind.to_string(), "0.0.0.0:9000");
    assert_eq!(
        s.server.metrics_bind.map(|a| a.to_string()).as_deref(),
        Some("10.1.2.3:9100")
    );
    assert!(load(&[]).unwrap().server.metrics_bind.is_none());
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
