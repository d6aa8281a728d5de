//! Configuration: built-in defaults, then an optional TOML file, then `AUTHD__SECTION__KEY` environment
//! variables and the conventional `DATABASE_URL`. Loaded only here; the domain crates receive plain values.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

use authd_identity::ScryptCost;
use authd_session::SessionPolicy;
use authd_store::DatabaseUrl;
use config::{Config, Environment, File, FileFormat};
use ipnet::IpNet;
use serde::Deserialize;
use time::Duration;

/// Every setting of the service. Unknown keys are refused, so a typo cannot silently fall back to a default.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
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
    /// `[secrets]`
    pub secrets: SecretSettings,
    /// `[passkey]`
    pub passkey: PasskeySettings,
    /// `[oauth]`
    pub oauth: OAuthSettings,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://...`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://authd.db".into(),
            max_connections: 10,
        }
    }
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Listen address.
    pub bind: String,
    /// This service's external base URL.
    pub public_url: String,
    /// Where browser redirects land; also an allowed origin.
    pub frontend_url: String,
    /// Further allowed origins (CORS with credentials, CSRF check).
    #[serde(deserialize_with = "comma_list")]
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed (IPs or CIDRs).
    #[serde(deserialize_with = "comma_list")]
    pub trusted_proxies: Vec<String>,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Largest accepted JSON body, in bytes.
    pub max_body_bytes: usize,
    /// Seconds a client may take to send a request body once its headers arrived; a body still incomplete
    /// then gets 408 (a trickled body must not hold a connection forever).
    pub body_timeout_secs: u32,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            public_url: "http://localhost:8080".into(),
            frontend_url: "http://localhost:3000".into(),
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            workers: 0,
            max_body_bytes: 64 * 1024,
            body_timeout_secs: 10,
        }
    }
}

/// `[cookies]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CookieSettings {
    /// `Secure` attribute; turn off only for plain-http local development.
    pub secure: bool,
}

impl Default for CookieSettings {
    fn default() -> Self {
        Self { secure: true }
    }
}

/// `[password]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordSettings {
    /// scrypt log2(N).
    pub scrypt_log_n: u8,
    /// scrypt r.
    pub scrypt_r: u32,
    /// scrypt p.
    pub scrypt_p: u32,
    /// Hashes computed at once; 0 means one per core.
    pub max_concurrent_hashes: usize,
    /// Hash requests allowed to wait for a slot before the service answers 503.
    pub hash_queue: usize,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        let cost = ScryptCost::default();
        Self {
            scrypt_log_n: cost.log_n,
            scrypt_r: cost.r,
            scrypt_p: cost.p,
            max_concurrent_hashes: 0,
            hash_queue: 32,
        }
    }
}

impl PasswordSettings {
    /// The scrypt cost.
    pub fn cost(&self) -> ScryptCost {
        ScryptCost {
            log_n: self.scrypt_log_n,
            r: self.scrypt_r,
            p: self.scrypt_p,
        }
    }

    /// Concurrent hashes, with 0 resolved to the number of cores.
    pub fn concurrency(&self) -> usize {
        match self.max_concurrent_hashes {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }
}

/// `[tokens]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// Access token lifetime.
    pub access_ttl_secs: u32,
    /// Refresh token lifetime.
    pub refresh_ttl_secs: u32,
    /// Lifetime of an MFA-pending session.
    pub mfa_pending_ttl_secs: u32,
    /// Password-reset token lifetime.
    pub reset_ttl_secs: u32,
    /// An Ed25519 private key (64 hex characters) to sign with instead of the one stored in the database.
    pub signing_key: Option<String>,
    /// The key id of `signing_key`.
    pub signing_key_id: u32,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_ttl_secs: 900,
            refresh_ttl_secs: 2_592_000,
            mfa_pending_ttl_secs: 300,
            reset_ttl_secs: 3600,
            signing_key: None,
            signing_key_id: 1,
        }
    }
}

impl TokenSettings {
    /// The session lifetimes.
    pub fn policy(&self) -> SessionPolicy {
        SessionPolicy {
            access_ttl: Duration::seconds(self.access_ttl_secs.into()),
            refresh_ttl: Duration::seconds(self.refresh_ttl_secs.into()),
            pending_ttl: Duration::seconds(self.mfa_pending_ttl_secs.into()),
        }
    }
}

/// `[rate_limit]`: fixed windows, counted in the database so every instance shares them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    /// Master switch.
    pub enabled: bool,
    /// Login attempts allowed per client IP per window.
    pub login_per_ip: u32,
    /// The per-IP window.
    pub login_ip_window_secs: u32,
    /// Failed logins allowed per account (email) per window.
    pub login_failures_per_account: u32,
    /// The per-account window.
    pub login_account_window_secs: u32,
    /// Wrong second-factor codes (TOTP or recovery, at verify, recovery-verify or disable) allowed per user
    /// per window, across all their sessions: what caps guessing by someone who has the password and
    /// keeps opening new pending sessions.
    pub mfa_failures_per_user: u32,
    /// That window.
    pub mfa_window_secs: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            login_per_ip: 100,
            login_ip_window_secs: 300,
            login_failures_per_account: 10,
            login_account_window_secs: 900,
            mfa_failures_per_user: 10,
            mfa_window_secs: 900,
        }
    }
}

/// `[smtp]`: the mail server. Without a host, emails are written to the log instead (development).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// Server host name; unset means "log emails instead of sending them".
    pub host: Option<String>,
    /// Port; unset means 25 for `none`, 587 for `starttls`, 465 for `tls`.
    pub port: Option<u16>,
    /// `none`, `starttls` or `tls` (implicit TLS).
    pub tls: SmtpTlsSetting,
    /// User name for SMTP AUTH, if the server wants it.
    pub username: Option<String>,
    /// Password for SMTP AUTH.
    pub password: Option<String>,
    /// The From address, e.g. `authd <no-reply@example.com>`.
    pub from: String,
    /// How long one delivery attempt may take.
    pub timeout_secs: u32,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: None,
            port: None,
            tls: SmtpTlsSetting::Starttls,
            username: None,
            password: None,
            from: "authd <no-reply@localhost>".into(),
            timeout_secs: 15,
        }
    }
}

impl SmtpSettings {
    /// The port, defaulted from the TLS mode.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTlsSetting::None => 25,
            SmtpTlsSetting::Starttls => 587,
            SmtpTlsSetting::Tls => 465,
        })
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTlsSetting {
    /// Plain text (a local relay).
    None,
    /// Upgrade with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// `[email]`: what the emails say and how hard delivery tries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    /// The frontend page that takes a reset token; unset means `<frontend_url>/reset-password`.
    pub reset_url: Option<String>,
    /// The product name in subjects and bodies.
    pub product_name: String,
    /// Delivery attempts before an email is given up.
    pub max_attempts: u32,
    /// Delay before the first retry; each next one is three times longer, up to 15 minutes.
    pub retry_base_secs: u32,
    /// How often each instance looks for due emails (it also wakes at once when it queues one).
    pub poll_interval_ms: u32,
    /// Reset requests per email address per hour; more are accepted (202) but send nothing.
    pub reset_per_email_per_hour: u32,
    /// Reset requests per client IP per hour; more get 429.
    pub reset_per_ip_per_hour: u32,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            reset_url: None,
            product_name: "authd".into(),
            max_attempts: 8,
            retry_base_secs: 5,
            poll_interval_ms: 5000,
            reset_per_email_per_hour: 3,
            reset_per_ip_per_hour: 20,
        }
    }
}

/// `[mfa]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MfaSettings {
    /// The issuer label authenticator apps show next to the account.
    pub issuer: String,
}

impl Default for MfaSettings {
    fn default() -> Self {
        Self {
            issuer: "authd".into(),
        }
    }
}

/// `[secrets]`
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretSettings {
    /// 32 bytes as 64 hex characters; encrypts TOTP secrets at rest. Unset: generated on first start and
    /// stored in the database.
    pub encryption_key: Option<String>,
}

impl std::fmt::Debug for SecretSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretSettings")
            .field(
                "encryption_key",
                &self.encryption_key.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// `[passkey]`: the WebAuthn relying party.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasskeySettings {
    /// The RP id: the domain passkeys are bound to (`example.com`); unset means the frontend URL's host.
    pub rp_id: Option<String>,
    /// The origin the browser runs the ceremonies on; unset means the frontend URL's origin.
    pub rp_origin: Option<String>,
    /// The name authenticators show.
    pub rp_name: String,
}

impl Default for PasskeySettings {
    fn default() -> Self {
        Self {
            rp_id: None,
            rp_origin: None,
            rp_name: "authd".into(),
        }
    }
}

/// `[oauth]`: a provider is enabled when its client id is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthSettings {
    /// `[oauth.github]`
    pub github: GitHubSettings,
    /// `[oauth.google]`
    pub google: GoogleSettings,
    /// How long a sign-in may take between the redirect to the provider and the callback.
    pub state_ttl_secs: u32,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            github: GitHubSettings::default(),
            google: GoogleSettings::default(),
            state_ttl_secs: 600,
        }
    }
}

/// `[oauth.github]`; the URLs can point at GitHub Enterprise.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitHubSettings {
    /// OAuth app client id; unset disables GitHub.
    pub client_id: Option<String>,
    /// OAuth app client secret.
    pub client_secret: Option<String>,
    /// Authorization endpoint.
    pub authorize_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// REST API base.
    pub api_url: String,
    /// Timeout of each call to GitHub.
    pub timeout_secs: u32,
}

impl Default for GitHubSettings {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            authorize_url: "https://github.com/login/oauth/authorize".into(),
            token_url: "https://github.com/login/oauth/access_token".into(),
            api_url: "https://api.github.com".into(),
            timeout_secs: 10,
        }
    }
}

impl std::fmt::Debug for GitHubSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubSettings")
            .field("client_id", &self.client_id)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

/// `[oauth.google]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GoogleSettings {
    /// OAuth client id; unset disables Google.
    pub client_id: Option<String>,
    /// OAuth client secret.
    pub client_secret: Option<String>,
    /// The OpenID Connect issuer (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer_url: String,
    /// Timeout of each call to Google.
    pub timeout_secs: u32,
}

impl Default for GoogleSettings {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            issuer_url: "https://accounts.google.com".into(),
            timeout_secs: 10,
        }
    }
}

impl std::fmt::Debug for GoogleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleSettings")
            .field("client_id", &self.client_id)
            .field("issuer_url", &self.issuer_url)
            .finish_non_exhaustive()
    }
}

/// Why the configuration was refused; the message names the key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

fn invalid(key: &str, problem: impl std::fmt::Display) -> ConfigError {
    let env = format!("AUTHD__{}", key.replace('.', "__").to_uppercase());
    ConfigError(format!("`{key}` ({env}): {problem}"))
}

impl Settings {
    /// Loads the layers: defaults, the TOML file if given, then `env` (pass `std::env::vars()`).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first offending key.
    pub fn load(file: Option<&Path>, env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut builder = Config::builder();
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
        }
        let authd_env: HashMap<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with("AUTHD__"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        builder = builder.add_source(
            // Values stay strings (no `try_parsing`): a password like "007" must not become the number 7.
            // Typed fields are converted when deserialised; lists accept "a,b" (see `comma_list`).
            Environment::with_prefix("AUTHD")
                .prefix_separator("__")
                .separator("__")
                .source(Some(authd_env.into_iter().collect())),
        );
        if let Some(url) = env
            .get("DATABASE_URL")
            .filter(|_| !env.contains_key("AUTHD__DATABASE__URL"))
        {
            builder = builder
                .set_override("database.url", url.as_str())
                .map_err(|e| ConfigError(e.to_string()))?;
        }
        let settings: Settings = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|e| ConfigError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.database_url()?;
        if self.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        self.bind_address()?;
        for (key, url) in [
            ("server.public_url", &self.server.public_url),
            ("server.frontend_url", &self.server.frontend_url),
        ] {
            origin_of(url)
                .ok_or_else(|| invalid(key, "must be an absolute http:// or https:// URL"))?;
        }
        for origin in &self.server.allowed_origins {
            origin_of(origin).ok_or_else(|| {
                invalid(
                    "server.allowed_origins",
                    format!("{origin:?} is not an origin"),
                )
            })?;
        }
        self.trusted_proxies()?;
        if self.server.max_body_bytes < 1024 {
            return Err(invalid("server.max_body_bytes", "must be at least 1024"));
        }
        if !(1..=300).contains(&self.server.body_timeout_secs) {
            return Err(invalid(
                "server.body_timeout_secs",
                "must be between 1 and 300",
            ));
        }
        scrypt_params_valid(&self.password)?;
        if self.password.hash_queue == 0 {
            return Err(invalid("password.hash_queue", "must be at least 1"));
        }
        for (key, secs) in [
            ("tokens.access_ttl_secs", self.tokens.access_ttl_secs),
            ("tokens.refresh_ttl_secs", self.tokens.refresh_ttl_secs),
            (
                "tokens.mfa_pending_ttl_secs",
                self.tokens.mfa_pending_ttl_secs,
            ),
            ("tokens.reset_ttl_secs", self.tokens.reset_ttl_secs),
            (
                "rate_limit.login_ip_window_secs",
                self.rate_limit.login_ip_window_secs,
            ),
            (
                "rate_limit.login_account_window_secs",
                self.rate_limit.login_account_window_secs,
            ),
            ("rate_limit.login_per_ip", self.rate_limit.login_per_ip),
            (
                "rate_limit.login_failures_per_account",
                self.rate_limit.login_failures_per_account,
            ),
            (
                "rate_limit.mfa_failures_per_user",
                self.rate_limit.mfa_failures_per_user,
            ),
            (
                "rate_limit.mfa_window_secs",
                self.rate_limit.mfa_window_secs,
            ),
        ] {
            if secs == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if self.rate_limit.login_ip_window_secs > 86_400
            || self.rate_limit.login_account_window_secs > 86_400
            || self.rate_limit.mfa_window_secs > 86_400
        {
            return Err(invalid(
                "rate_limit",
                "windows longer than a day are not supported",
            ));
        }
        self.validate_email()?;
        self.validate_oauth()?;
        let origin = self.passkey_origin()?;
        let rp_id = self.passkey_rp_id()?;
        let host = origin
            .split("://")
            .nth(1)
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default();
        if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
            return Err(invalid(
                "passkey.rp_id",
                format!("the passkey origin {origin} is not on {rp_id} or a subdomain of it"),
            ));
        }
        if self.mfa.issuer.trim().is_empty() || self.mfa.issuer.contains(':') {
            return Err(invalid(
                "mfa.issuer",
                "must be a non-empty label without ':'",
            ));
        }
        if let Some(key) = &self.secrets.encryption_key
            && (key.len() != 64 || !key.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(invalid(
                "secrets.encryption_key",
                "must be 32 bytes as 64 hex characters",
            ));
        }
        if let Some(key) = &self.tokens.signing_key {
            authd_session::SigningKey::from_hex(
                authd_session::KeyId(self.tokens.signing_key_id),
                key,
            )
            .map_err(|e| invalid("tokens.signing_key", e))?;
        }
        Ok(())
    }

    fn validate_email(&self) -> Result<(), ConfigError> {
        if let Some(host) = &self.smtp.host
            && (host.trim().is_empty() || host.contains(char::is_whitespace))
        {
            return Err(invalid("smtp.host", "must be a host name"));
        }
        if !self.smtp.from.contains('@') {
            return Err(invalid(
                "smtp.from",
                "must contain an email address, e.g. authd <no-reply@example.com>",
            ));
        }
        if self.smtp.username.is_some() != self.smtp.password.is_some() {
            return Err(invalid(
                "smtp.username",
                "smtp.username and smtp.password go together",
            ));
        }
        if let Some(url) = &self.email.reset_url {
            origin_of(url).ok_or_else(|| {
                invalid(
                    "email.reset_url",
                    "must be an absolute http:// or https:// URL",
                )
            })?;
        }
        for (key, value) in [
            ("smtp.timeout_secs", self.smtp.timeout_secs),
            ("email.max_attempts", self.email.max_attempts),
            ("email.retry_base_secs", self.email.retry_base_secs),
            ("email.poll_interval_ms", self.email.poll_interval_ms),
            (
                "email.reset_per_email_per_hour",
                self.email.reset_per_email_per_hour,
            ),
            (
                "email.reset_per_ip_per_hour",
                self.email.reset_per_ip_per_hour,
            ),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        Ok(())
    }

    fn validate_oauth(&self) -> Result<(), ConfigError> {
        let github = &self.oauth.github;
        let google = &self.oauth.google;
        for (key, id, secret) in [
            (
                "oauth.github.client_secret",
                &github.client_id,
                &github.client_secret,
            ),
            (
                "oauth.google.client_secret",
                &google.client_id,
                &google.client_secret,
            ),
        ] {
            if id.is_some() && secret.is_none() {
                return Err(invalid(key, "is required when the client id is set"));
            }
        }
        for (key, url) in [
            ("oauth.github.authorize_url", &github.authorize_url),
            ("oauth.github.token_url", &github.token_url),
            ("oauth.github.api_url", &github.api_url),
            ("oauth.google.issuer_url", &google.issuer_url),
        ] {
            origin_of(url)
                .ok_or_else(|| invalid(key, "must be an absolute http:// or https:// URL"))?;
        }
        for (key, value) in [
            ("oauth.state_ttl_secs", self.oauth.state_ttl_secs),
            ("oauth.github.timeout_secs", github.timeout_secs),
            ("oauth.google.timeout_secs", google.timeout_secs),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        Ok(())
    }

    /// The WebAuthn RP id: configured, or the frontend's host.
    ///
    /// # Errors
    /// When `passkey.rp_id` is not a bare domain.
    pub fn passkey_rp_id(&self) -> Result<String, ConfigError> {
        let rp_id = match &self.passkey.rp_id {
            Some(id) => id.trim().to_ascii_lowercase(),
            None => origin_of(&self.server.frontend_url)
                .and_then(|o| {
                    o.split("://")
                        .nth(1)
                        .map(|h| h.split(':').next().unwrap_or(h).to_owned())
                })
                .unwrap_or_default(),
        };
        if rp_id.is_empty() || rp_id.contains(['/', ':', ' ']) {
            return Err(invalid(
                "passkey.rp_id",
                "must be a domain such as example.com",
            ));
        }
        Ok(rp_id)
    }

    /// The WebAuthn origin: configured, or the frontend's.
    ///
    /// # Errors
    /// When `passkey.rp_origin` is not an http(s) origin.
    pub fn passkey_origin(&self) -> Result<String, ConfigError> {
        let raw = self
            .passkey
            .rp_origin
            .as_deref()
            .unwrap_or(&self.server.frontend_url);
        origin_of(raw)
            .ok_or_else(|| invalid("passkey.rp_origin", "must be an http:// or https:// origin"))
    }

    /// The link target of reset emails.
    pub fn reset_url(&self) -> String {
        self.email.reset_url.clone().unwrap_or_else(|| {
            format!(
                "{}/reset-password",
                self.server.frontend_url.trim_end_matches('/')
            )
        })
    }

    /// The parsed database URL.
    ///
    /// # Errors
    /// When `database.url` is not a supported URL.
    pub fn database_url(&self) -> Result<DatabaseUrl, ConfigError> {
        DatabaseUrl::parse(&self.database.url).map_err(|e| invalid("database.url", e))
    }

    /// The parsed listen address.
    ///
    /// # Errors
    /// When `server.bind` is not `IP:PORT`.
    pub fn bind_address(&self) -> Result<SocketAddr, ConfigError> {
        self.server
            .bind
            .parse()
            .map_err(|_| invalid("server.bind", "must be IP:PORT, e.g. 127.0.0.1:8080"))
    }

    /// The parsed trusted proxies.
    ///
    /// # Errors
    /// When an entry is neither an IP nor a CIDR.
    pub fn trusted_proxies(&self) -> Result<Vec<IpNet>, ConfigError> {
        self.server
            .trusted_proxies
            .iter()
            .map(|raw| {
                let raw = raw.trim();
                raw.parse::<IpNet>()
                    .or_else(|_| raw.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "server.trusted_proxies",
                            format!("{raw:?} is not an IP or CIDR"),
                        )
                    })
            })
            .collect()
    }

    /// The frontend's origin plus the further allowed origins.
    pub fn allowed_origins(&self) -> Vec<String> {
        std::iter::once(&self.server.frontend_url)
            .chain(&self.server.allowed_origins)
            .filter_map(|url| origin_of(url))
            .collect()
    }
}

/// A list given either as a TOML array or as one comma-separated string (environment variables).
fn comma_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    Ok(match ListOrString::deserialize(deserializer)? {
        ListOrString::List(list) => list,
        ListOrString::String(joined) => joined
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

fn scrypt_params_valid(password: &PasswordSettings) -> Result<(), ConfigError> {
    if !(1..=30).contains(&password.scrypt_log_n) {
        return Err(invalid("password.scrypt_log_n", "must be between 1 and 30"));
    }
    if password.scrypt_r == 0 || password.scrypt_p == 0 {
        return Err(invalid(
            "password.scrypt_r",
            "scrypt r and p must be at least 1",
        ));
    }
    let memory = 128u64 << password.scrypt_log_n;
    if memory.saturating_mul(u64::from(password.scrypt_r)) > 4 << 30 {
        return Err(invalid(
            "password.scrypt_log_n",
            "this cost needs more than 4 GiB per hash",
        ));
    }
    Ok(())
}

/// `scheme://host[:port]` of an absolute http(s) URL, lower-cased, without path.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load(None, &env)
    }

    #[test]
    fn defaults_match_the_contract() {
        let s = load(&[]).unwrap();
        assert_eq!(s.database.url, "sqlite://authd.db");
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert_eq!(s.server.public_url, "http://localhost:8080");
        assert_eq!(s.server.frontend_url, "http://localhost:3000");
        assert!(s.cookies.secure);
        assert_eq!(
            (
                s.password.scrypt_log_n,
                s.password.scrypt_r,
                s.password.scrypt_p
            ),
            (17, 8, 1)
        );
        assert_eq!(
            (s.tokens.access_ttl_secs, s.tokens.refresh_ttl_secs),
            (900, 2_592_000)
        );
        assert_eq!(
            (s.tokens.mfa_pending_ttl_secs, s.tokens.reset_ttl_secs),
            (300, 3600)
        );
        assert!(s.rate_limit.enabled);
        assert!(s.smtp.host.is_none());
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
            digits.smtp.password.as_deref(),
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
                "https://a.example,https://b.example",
            ),
        ])
        .unwrap();
        assert_eq!(s.server.bind, "0.0.0.0:9000");
        assert!(!s.cookies.secure);
        assert_eq!(s.password.scrypt_log_n, 10);
        assert!(!s.rate_limit.enabled);
        assert_eq!(
            s.allowed_origins(),
            [
                "http://localhost:3000",
                "https://a.example",
                "https://b.example"
            ]
        );
    }

    #[test]
    fn database_url_comes_from_either_variable_and_the_authd_one_wins() {
        assert_eq!(
            load(&[("DATABASE_URL", "postgres://u@h/db")])
                .unwrap()
                .database
                .url,
            "postgres://u@h/db"
        );
        let both = load(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            ("AUTHD__DATABASE__URL", "sqlite://x.db"),
        ]);
        assert_eq!(both.unwrap().database.url, "sqlite://x.db");
    }

    #[test]
    fn a_toml_file_sits_between_defaults_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authd.toml");
        std::fs::write(
            &path,
            "[server]\nbind = \"127.0.0.1:7000\"\n[cookies]\nsecure = false\n",
        )
        .unwrap();
        let env = [(
            "AUTHD__SERVER__BIND".to_owned(),
            "127.0.0.1:7001".to_owned(),
        )]
        .into_iter()
        .collect();
        let s = Settings::load(Some(&path), &env).unwrap();
        assert_eq!(s.server.bind, "127.0.0.1:7001");
        assert!(!s.cookies.secure);
    }

    #[test]
    fn invalid_values_are_refused_with_the_key_named() {
        let cases: &[(&str, &str, &str)] = &[
            ("AUTHD__SERVER__BIND", "nonsense", "server.bind"),
            ("AUTHD__DATABASE__URL", "mysql://x", "database.url"),
            (
                "AUTHD__PASSWORD__SCRYPT_LOG_N",
                "40",
                "password.scrypt_log_n",
            ),
            ("AUTHD__PASSWORD__SCRYPT_LOG_N", "abc", "scrypt_log_n"),
            (
                "AUTHD__SERVER__FRONTEND_URL",
                "localhost:3000",
                "server.frontend_url",
            ),
            (
                "AUTHD__TOKENS__ACCESS_TTL_SECS",
                "0",
                "tokens.access_ttl_secs",
            ),
            (
                "AUTHD__SERVER__TRUSTED_PROXIES",
                "10.0.0.0/8,bogus",
                "server.trusted_proxies",
            ),
            ("AUTHD__TOKENS__SIGNING_KEY", "abcd", "tokens.signing_key"),
            ("AUTHD__SERVER__NO_SUCH_KEY", "1", "no_such_key"),
            ("AUTHD__SMTP__TLS", "ssl", "tls"),
            ("AUTHD__SMTP__FROM", "nobody", "smtp.from"),
            ("AUTHD__SMTP__USERNAME", "only-half", "smtp.username"),
            ("AUTHD__EMAIL__RESET_URL", "/relative", "email.reset_url"),
            (
                "AUTHD__SECRETS__ENCRYPTION_KEY",
                "abcd",
                "secrets.encryption_key",
            ),
            ("AUTHD__MFA__ISSUER", "a:b", "mfa.issuer"),
        ];
        for (key, value, named) in cases {
            let err = load(&[(key, value)]).expect_err(key).to_string();
            assert!(err.contains(named), "{key}={value}: {err}");
        }
    }

    #[test]
    fn the_relying_party_defaults_to_the_frontend() {
        let s = load(&[("AUTHD__SERVER__FRONTEND_URL", "https://app.example.com/")]).unwrap();
        assert_eq!(s.passkey_rp_id().unwrap(), "app.example.com");
        assert_eq!(load(&[]).unwrap().passkey_rp_id().unwrap(), "localhost");
        assert_eq!(s.passkey_origin().unwrap(), "https://app.example.com");
        let s = load(&[
            ("AUTHD__PASSKEY__RP_ID", "example.com"),
            ("AUTHD__PASSKEY__RP_ORIGIN", "https://login.example.com"),
        ])
        .unwrap();
        assert_eq!(s.passkey_origin().unwrap(), "https://login.example.com");
        assert!(load(&[("AUTHD__PASSKEY__RP_ID", "https://example.com")]).is_err());
        let mismatch = load(&[("AUTHD__PASSKEY__RP_ID", "example.org")])
            .unwrap_err()
            .to_string();
        assert!(mismatch.contains("passkey.rp_id"), "{mismatch}");
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
        assert_eq!(s.oauth.github.api_url, "https://github.example.com/api/v3");
        assert!(s.oauth.google.client_id.is_none());
        assert!(!format!("{s:?}").contains("gh-secret"));
        let err = load(&[("AUTHD__OAUTH__GOOGLE__CLIENT_ID", "x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("oauth.google.client_secret"), "{err}");
    }

    #[test]
    fn origins_are_scheme_and_authority_only() {
        assert_eq!(
            origin_of("https://App.Example.com:8443/path?q").as_deref(),
            Some("https://app.example.com:8443")
        );
        assert_eq!(origin_of("ftp://x"), None);
        assert_eq!(origin_of("https://user@host"), None);
        assert_eq!(origin_of("/relative"), None);
    }
}
