//! `[oauth]`: the sign-in providers; a provider is enabled when its client id is set.

use std::num::NonZeroU32;

use authd_kernel::Secret;
use serde::Deserialize;

use super::values::HttpUrl;
use super::{ConfigError, invalid};

/// `[oauth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettings {
    /// `[oauth.github]`
    pub github: GitHubSettings,
    /// `[oauth.google]`
    pub google: GoogleSettings,
    /// How long a sign-in may take between the redirect to the provider and the callback.
    pub state_ttl_secs: NonZeroU32,
}

/// `[oauth.github]`; the URLs can point at GitHub Enterprise.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitHubSettings {
    /// OAuth app client id; unset disables GitHub.
    pub client_id: Option<String>,
    /// OAuth app client secret.
    pub client_secret: Option<Secret>,
    /// Authorization endpoint.
    pub authorize_url: HttpUrl,
    /// Token endpoint.
    pub token_url: HttpUrl,
    /// REST API base.
    pub api_url: HttpUrl,
    /// Timeout of each call to GitHub.
    pub timeout_secs: NonZeroU32,
}

/// `[oauth.google]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleSettings {
    /// OAuth client id; unset disables Google.
    pub client_id: Option<String>,
    /// OAuth client secret.
    pub client_secret: Option<Secret>,
    /// The OpenID Connect issuer (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer_url: HttpUrl,
    /// Timeout of each call to Google.
    pub timeout_secs: NonZeroU32,
}

impl OAuthSettings {
    /// An enabled provider needs its secret.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        for (key, id, secret) in [
            (
                "oauth.github.client_secret",
                &self.github.client_id,
                &self.github.client_secret,
            ),
            (
                "oauth.google.client_secret",
                &self.google.client_id,
                &self.google.client_secret,
            ),
        ] {
            if id.is_some() && secret.is_none() {
                return Err(invalid(key, "is required when the client id is set"));
            }
        }
        Ok(())
    }
}
