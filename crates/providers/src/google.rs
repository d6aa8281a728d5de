//! Google over OpenID Connect: discovery from the issuer, authorization code with PKCE and nonce, and the
//! ID token verified against the issuer's JWKS.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use authd_kernel::Secret;
use authd_oauth::ports::IdentityProvider;
use authd_oauth::{AuthorizationRequest, OAuthError, ProviderIdentity, ProviderKind};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, DiscoveryError,
    IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};

use crate::ConfigError;
use crate::http::{self, HttpError, unavailable};

/// A Google OAuth client (or any OpenID Connect provider's).
#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// The OAuth client id; ID tokens must name it as their audience.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: Secret,
    /// The issuer, whose `/.well-known/openid-configuration` is read (`https://accounts.google.com`).
    pub issuer_url: String,
    /// The limit for connecting and for each whole HTTP exchange.
    pub timeout: Duration,
}

impl GoogleConfig {
    /// Google's issuer and a 10-second timeout.
    pub fn google_com(client_id: impl Into<String>, client_secret: Secret) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            issuer_url: "https://accounts.google.com".to_owned(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The [`IdentityProvider`] for Google.
#[derive(Debug)]
pub struct GoogleProvider {
    client_id: ClientId,
    client_secret: Secret,
    issuer: IssuerUrl,
    http: reqwest::Client,
    /// The discovered metadata and JWKS, once a discovery has succeeded.
    metadata: Mutex<Option<Arc<CoreProviderMetadata>>>,
}

impl GoogleProvider {
    /// Checks the issuer URL and builds the HTTP client; discovery waits for the first use.
    ///
    /// # Errors
    /// [`ConfigError`] for an unparsable issuer URL or an HTTP client that cannot be built.
    pub fn new(config: GoogleConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            client_id: ClientId::new(config.client_id),
            client_secret: config.client_secret,
            issuer: IssuerUrl::new(config.issuer_url)
                .map_err(|_| ConfigError::InvalidUrl("issuer_url"))?,
            http: http::client(config.timeout)?,
            metadata: Mutex::new(None),
        })
    }

    /// The cached metadata, or a fresh discovery when there is none yet or `refresh` asks for one. Only a
    /// successful discovery is cached, so a failed one is retried on the next call.
    async fn metadata(&self, refresh: bool) -> Result<Arc<CoreProviderMetadata>, OAuthError> {
        if !refresh && let Some(cached) = self.cached() {
            return Ok(cached);
        }
        let send = |req| http::send(self.http.clone(), req);
        let discovered = Arc::new(
            CoreProviderMetadata::discover_async(self.issuer.clone(), &send)
                .await
                .map_err(discovery_error)?,
        );
        *self.metadata.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Arc::clone(&discovered));
        Ok(discovered)
    }

    fn cached(&self) -> Option<Arc<CoreProviderMetadata>> {
        self.metadata
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn client(
        &self,
        metadata: &CoreProviderMetadata,
        redirect_uri: &str,
    ) -> Result<OidcClient, OAuthError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|_| unavailable("configuration", "invalid redirect URI"))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            self.client_id.clone(),
            Some(ClientSecret::new(self.client_secret.expose().to_owned())),
        )
        .set_redirect_uri(redirect))
    }

    /// Verifies the ID token; on an unknown key id it re-reads the JWKS once (the issuer rotated its keys).
    async fn verify(
        &self,
        client: &OidcClient,
        id_token: &CoreIdToken,
        request: &AuthorizationRequest,
    ) -> Result<ProviderIdentity, OAuthError> {
        let nonce = Nonce::new(request.nonce.expose().to_owned());
        match id_token.claims(&client.id_token_verifier(), &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let client = self.client(&*self.metadata(true).await?, &request.redirect_uri)?;
                identity(id_token.claims(&client.id_token_verifier(), &nonce))
            }
            verified => identity(verified),
        }
    }
}

type OidcClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

fn identity(
    claims: Result<&openidconnect::core::CoreIdTokenClaims, ClaimsVerificationError>,
) -> Result<ProviderIdentity, OAuthError> {
    let claims =
        claims.map_err(|e| OAuthError::Refused(format!("ID token: {}", claims_error(&e))))?;
    Ok(ProviderIdentity {
        provider: ProviderKind::Google,
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email().is_some() && claims.email_verified() == Some(true),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
    })
}

/// What failed, without the library's message (which can quote claim values).
fn claims_error(error: &ClaimsVerificationError) -> &'static str {
    use ClaimsVerificationError as E;
    match error {
        E::Expired(_) => "expired",
        E::InvalidAudience(_) => "wrong audience",
        E::InvalidIssuer(_) => "wrong issuer",
        E::InvalidNonce(_) => "wrong or missing nonce",
        E::InvalidSubject(_) => "invalid subject",
        E::SignatureVerification(_) => "bad signature",
        _ => "does not verify",
    }
}

fn discovery_error(error: DiscoveryError<HttpError>) -> OAuthError {
    let why = match error {
        DiscoveryError::Request(why) => why.to_string(),
        DiscoveryError::Response(status, ..) => format!("answered {}", status.as_u16()),
        DiscoveryError::Validation(_) => "metadata does not match the issuer".to_owned(),
        _ => "malformed metadata or JWKS".to_owned(),
    };
    unavailable("discovery", why)
}

impl IdentityProvider for GoogleProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Google
    }

    async fn authorize_url(&self, request: &AuthorizationRequest) -> Result<String, OAuthError> {
        let metadata = self.metadata(false).await?;
        let client = self.client(&metadata, &request.redirect_uri)?;
        let verifier = PkceCodeVerifier::new(request.pkce_verifier.expose().to_owned());
        let state = request.state.expose().to_owned();
        let nonce = request.nonce.expose().to_owned();
        let (url, ..) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scope(Scope::new("email".to_owned()))
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier))
            .url();
        Ok(url.into())
    }

    async fn exchange(
        &self,
        code: &Secret,
        request: &AuthorizationRequest,
    ) -> Result<ProviderIdentity, OAuthError> {
        let metadata = self.metadata(false).await?;
        let client = self.client(&metadata, &request.redirect_uri)?;
        let send = |req| http::send(self.http.clone(), req);
        let token = client
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .map_err(|_| unavailable("discovery", "no token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(
                request.pkce_verifier.expose().to_owned(),
            ))
            .request_async(&send)
            .await
            .map_err(http::token_error)?;
        let id_token = token
            .id_token()
            .ok_or_else(|| unavailable("token endpoint", "no ID token in the answer"))?;
        self.verify(&client, id_token, request).await
    }
}
