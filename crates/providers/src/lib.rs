//! authd's OAuth adapters: [`authd_oauth::ports::IdentityProvider`] for GitHub (OAuth 2.0 with PKCE, then
//! its REST API) and Google (OpenID Connect: discovery, PKCE, nonce, ID token verified with the JWKS).
//!
//! Each provider has one HTTP client (rustls on aws-lc-rs, a connect and total timeout, no redirects).
//! Nothing here logs; error reasons name the step and what went wrong, never a code, token or secret.

mod github;
mod google;
mod http;

pub use github::{GitHubConfig, GitHubProvider};
pub use google::{GoogleConfig, GoogleProvider};

/// A provider configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The named URL does not parse.
    #[error("{0} is not a valid URL")]
    InvalidUrl(&'static str),
    /// The HTTP client could not be built (e.g. no TLS roots could be loaded).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
}
