//! Configuration: built-in defaults (`defaults.toml`), then an optional TOML file, then `AUTHD__SECTION__KEY`
//! environment variables and the conventional `DATABASE_URL`. Loaded only here; the domain crates receive
//! plain values.
//!
//! Every value is typed as it is read (addresses, URLs, origins, keys, counts that cannot be 0), so an
//! invalid one stops start-up with a message naming its key, and wiring reads values without parsing them
//! again. One file per section; `load` layers the sources and checks the few rules that span two keys.

mod cookies;
mod database;
mod email;
mod load;
mod mfa;
mod oauth;
mod passkey;
mod password;
mod rate_limit;
mod secrets;
mod security;
mod server;
mod smtp;
mod tokens;
mod values;

#[cfg(test)]
mod tests;

use authd_webauthn::RpConfig;
use serde::Deserialize;

pub use cookies::CookieSettings;
pub use database::DatabaseSettings;
pub use email::EmailSettings;
pub use mfa::MfaSettings;
pub use oauth::{GitHubSettings, GoogleSettings, OAuthSettings};
pub use passkey::PasskeySettings;
pub use password::PasswordSettings;
pub use rate_limit::RateLimitSettings;
pub use secrets::SecretSettings;
pub use security::SecuritySettings;
pub use server::ServerSettings;
pub use smtp::{SmtpSettings, SmtpTlsSetting};
pub use tokens::TokenSettings;
pub use values::{HttpUrl, Origin, RpId};

/// Every setting of the service. Unknown keys are refused, so a typo cannot silently fall back to a
/// default. `Debug` shows no secret: each one is held in a type whose `Debug` redacts it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `[database]`
    pub database: DatabaseSettings,
    /// `[server]`
    pub server: ServerSettings,
    /// `[cookies]`
    pub cookies: CookieSettings,
    /// `[password]`
    pub password: PasswordSettings,
    /// `[tokens]`
    pub tokens: TokenSettings,
    /// `[rate_limit]`
    pub rate_limit: RateLimitSettings,
    /// `[smtp]`
    pub smtp: SmtpSettings,
    /// `[email]`
    pub email: EmailSettings,
    /// `[mfa]`
    pub mfa: MfaSettings,
    /// `[secrets]` (a section with nothing set by default, which TOML may leave out).
    #[serde(default)]
    pub secrets: SecretSettings,
    /// `[security]`
    pub security: SecuritySettings,
    /// `[passkey]`
    pub passkey: PasskeySettings,
    /// `[oauth]`
    pub oauth: OAuthSettings,
}

impl Settings {
    /// The link target of reset emails: configured, or the frontend's reset page.
    pub fn reset_url(&self) -> String {
        self.email.reset_url.as_ref().map_or_else(
            || format!("{}/reset-password", self.server.frontend_base()),
            |url| url.as_str().to_owned(),
        )
    }

    /// The WebAuthn relying party: configured, or the frontend.
    pub fn relying_party(&self) -> RpConfig {
        self.passkey
            .relying_party(self.server.frontend_url.origin())
    }
}

/// Why the configuration was refused; the message names the key and its environment variable.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// The error for `key` (`section.key`), naming its environment variable too.
fn invalid(key: &str, problem: impl std::fmt::Display) -> ConfigError {
    ConfigError(named(key, problem))
}

/// `` `key` (AUTHD__KEY): problem ``: the text of [`invalid`], for a section that reports through serde.
fn named(key: &str, problem: impl std::fmt::Display) -> String {
    let env = format!("AUTHD__{}", key.replace('.', "__").to_uppercase());
    format!("`{key}` ({env}): {problem}")
}
