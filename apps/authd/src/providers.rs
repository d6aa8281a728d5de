//! The configured OAuth providers, as the one adapter type the OAuth use cases take.

use std::sync::Arc;
use std::time::Duration;

use authd_kernel::Secret;
use authd_oauth::ports::IdentityProvider;
use authd_oauth::{AuthorizationRequest, OAuthError, ProviderIdentity, ProviderKind};
use authd_providers::{GitHubConfig, GitHubProvider, GoogleConfig, GoogleProvider};

use crate::config::OAuthSettings;

/// GitHub or Google; cheap to clone (the provider, with its HTTP client and cached metadata, is shared).
#[derive(Debug, Clone)]
pub enum AppProvider {
    /// GitHub (OAuth 2.0).
    GitHub(Arc<GitHubProvider>),
    /// Google (OpenID Connect).
    Google(Arc<GoogleProvider>),
}

impl AppProvider {
    /// Every provider whose client id is configured.
    ///
    /// # Errors
    /// A message naming the provider whose settings cannot be used.
    pub fn configured(settings: &OAuthSettings) -> Result<Vec<Self>, String> {
        let mut providers = Vec::new();
        let github = &settings.github;
        if let (Some(id), Some(secret)) = (&github.client_id, &github.client_secret) {
            let config = GitHubConfig {
                client_id: id.clone(),
                client_secret: secret.clone(),
                authorize_url: github.authorize_url.to_string(),
                token_url: github.token_url.to_string(),
                api_url: github.api_url.to_string(),
                timeout: Duration::from_secs(github.timeout_secs.get().into()),
            };
            let provider = GitHubProvider::new(config).map_err(|e| format!("oauth.github: {e}"))?;
            providers.push(Self::GitHub(Arc::new(provider)));
        }
        let google = &settings.google;
        if let (Some(id), Some(secret)) = (&google.client_id, &google.client_secret) {
            let config = GoogleConfig {
                client_id: id.clone(),
                client_secret: secret.clone(),
                issuer_url: google.issuer_url.to_string(),
                timeout: Duration::from_secs(google.timeout_secs.get().into()),
            };
            let provider = GoogleProvider::new(config).map_err(|e| format!("oauth.google: {e}"))?;
            providers.push(Self::Google(Arc::new(provider)));
        }
        Ok(providers)
    }
}

impl IdentityProvider for AppProvider {
    fn kind(&self) -> ProviderKind {
        match self {
            Self::GitHub(_) => ProviderKind::GitHub,
            Self::Google(_) => ProviderKind::Google,
        }
    }

    async fn authorize_url(&self, request: &AuthorizationRequest) -> Result<String, OAuthError> {
        match self {
            Self::GitHub(p) => p.authorize_url(request).await,
            Self::Google(p) => p.authorize_url(request).await,
        }
    }

    async fn exchange(
        &self,
        code: &Secret,
        request: &AuthorizationRequest,
    ) -> Result<ProviderIdentity, OAuthError> {
        match self {
            Self::GitHub(p) => p.exchange(code, request).await,
            Self::Google(p) => p.exchange(code, request).await,
        }
    }
}
