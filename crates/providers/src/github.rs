//! GitHub over OAuth 2.0: authorization code with PKCE, then `GET /user` and `GET /user/emails`.

use std::time::Duration;

use authd_kernel::Secret;
use authd_oauth::ports::IdentityProvider;
use authd_oauth::{AuthorizationRequest, OAuthError, ProviderIdentity, ProviderKind};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;

use crate::ConfigError;
use crate::http::{self, HttpError, unavailable};

/// A GitHub OAuth app (or a GitHub Enterprise server's).
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// The OAuth app's client id.
    pub client_id: String,
    /// The OAuth app's client secret.
    pub client_secret: Secret,
    /// Where browsers are sent to authorize (`https://github.com/login/oauth/authorize`).
    pub authorize_url: String,
    /// Where codes are exchanged (`https://github.com/login/oauth/access_token`).
    pub token_url: String,
    /// The REST API base (`https://api.github.com`).
    pub api_url: String,
    /// The limit for connecting and for each whole HTTP exchange.
    pub timeout: Duration,
}

impl GitHubConfig {
    /// github.com's URLs and a 10-second timeout.
    pub fn github_com(client_id: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            authorize_url: "https://github.com/login/oauth/authorize".to_owned(),
            token_url: "https://github.com/login/oauth/access_token".to_owned(),
            api_url: "https://api.github.com".to_owned(),
            timeout: Duration::from_secs(10),
        }
    }
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The [`IdentityProvider`] for GitHub.
#[derive(Debug)]
pub struct GitHubProvider {
    oauth: Client,
    api_url: reqwest::Url,
    http: reqwest::Client,
}

impl GitHubProvider {
    /// Checks the URLs and builds the HTTP client; no network traffic.
    ///
    /// # Errors
    /// [`ConfigError`] for an unparsable URL or an HTTP client that cannot be built.
    pub fn new(config: GitHubConfig) -> Result<Self, ConfigError> {
        let oauth = BasicClient::new(ClientId::new(config.client_id))
            .set_client_secret(ClientSecret::new(config.client_secret.expose().to_owned()))
            .set_auth_uri(
                AuthUrl::new(config.authorize_url)
                    .map_err(|_| ConfigError::InvalidUrl("authorize_url"))?,
            )
            .set_token_uri(
                TokenUrl::new(config.token_url)
                    .map_err(|_| ConfigError::InvalidUrl("token_url"))?,
            )
            // GitHub documents client_id and client_secret as form parameters.
            .set_auth_type(AuthType::RequestBody);
        // A trailing slash makes `join` append to the path (GitHub Enterprise's API lives under /api/v3).
        let api_url = format!("{}/", config.api_url.trim_end_matches('/'));
        let api_url =
            reqwest::Url::parse(&api_url).map_err(|_| ConfigError::InvalidUrl("api_url"))?;
        Ok(Self {
            oauth,
            api_url,
            http: http::client(config.timeout)?,
        })
    }

    /// `GET <api>/<path>` with the access token, decoded as `T`.
    async fn api<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
    ) -> Result<T, OAuthError> {
        let step = format!("GET /{path}");
        let url = self
            .api_url
            .join(path)
            .map_err(|_| unavailable(&step, "bad API URL"))?;
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .send()
            .await
            .map_err(|e| unavailable(&step, HttpError::from(e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(OAuthError::Refused(format!(
                "{step}: the access token was not accepted"
            )));
        }
        if !status.is_success() {
            return Err(unavailable(&step, HttpError::Status(status.as_u16())));
        }
        let body = http::read_body(response)
            .await
            .map_err(|e| unavailable(&step, e))?;
        serde_json::from_slice(&body).map_err(|_| unavailable(&step, "malformed answer"))
    }
}

#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct UserEmail {
    email: String,
    primary: bool,
    verified: bool,
}

impl IdentityProvider for GitHubProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::GitHub
    }

    async fn authorize_url(&self, request: &AuthorizationRequest) -> Result<String, OAuthError> {
        let redirect = RedirectUrl::new(request.redirect_uri.clone())
            .map_err(|_| unavailable("configuration", "invalid redirect URI"))?;
        let verifier = PkceCodeVerifier::new(request.pkce_verifier.expose().to_owned());
        let state = request.state.expose().to_owned();
        let (url, _) = self
            .oauth
            .authorize_url(move || CsrfToken::new(state))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .add_scope(Scope::new("read:user".to_owned()))
            .add_scope(Scope::new("user:email".to_owned()))
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier))
            .url();
        Ok(url.into())
    }

    async fn exchange(
        &self,
        code: &Secret,
        request: &AuthorizationRequest,
    ) -> Result<ProviderIdentity, OAuthError> {
        let redirect = RedirectUrl::new(request.redirect_uri.clone())
            .map_err(|_| unavailable("configuration", "invalid redirect URI"))?;
        let send = |req| http::send(self.http.clone(), req);
        let token = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .set_pkce_verifier(PkceCodeVerifier::new(
                request.pkce_verifier.expose().to_owned(),
            ))
            .request_async(&send)
            .await
            .map_err(http::token_error)?;
        let token = token.access_token().secret();

        let user: User = self.api("user", token).await?;
        let emails: Vec<UserEmail> = self.api("user/emails", token).await?;
        let email = emails
            .into_iter()
            .find(|e| e.primary && e.verified)
            .map(|e| e.email);
        Ok(ProviderIdentity {
            provider: ProviderKind::GitHub,
            subject: user.id.to_string(),
            email_verified: email.is_some(),
            email,
            name: user
                .name
                .filter(|n| !n.trim().is_empty())
                .or(Some(user.login)),
        })
    }
}
