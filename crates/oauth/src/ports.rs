//! The port a provider adapter fills.

use std::future::Future;

use authd_kernel::Secret;

use crate::{AuthorizationRequest, OAuthError, ProviderIdentity, ProviderKind};

/// One configured identity provider.
pub trait IdentityProvider: Send + Sync {
    /// Which provider this is.
    fn kind(&self) -> ProviderKind;

    /// The provider's authorization URL for `request`: client id, redirect URI, scopes, `state`, the S256
    /// PKCE challenge of `request.pkce_verifier` and, for OpenID Connect, the nonce.
    ///
    /// # Errors
    /// [`OAuthError::Unavailable`] when the provider's metadata (OpenID Connect discovery) cannot be read.
    fn authorize_url(
        &self,
        request: &AuthorizationRequest,
    ) -> impl Future<Output = Result<String, OAuthError>> + Send;

    /// Exchanges an authorization `code` (with the PKCE verifier and redirect URI of its request) and reads
    /// who the person is. For OpenID Connect the ID token is verified (signature with the issuer's JWKS,
    /// issuer, audience, expiry) and its nonce must equal `nonce`.
    ///
    /// # Errors
    /// MUST return [`OAuthError::Refused`] when the provider rejects the code or the verifier, or the ID
    /// token does not verify; [`OAuthError::Unavailable`] when it cannot be reached in time or answers
    /// something malformed. Never panics on provider input.
    fn exchange(
        &self,
        code: &Secret,
        request: &AuthorizationRequest,
    ) -> impl Future<Output = Result<ProviderIdentity, OAuthError>> + Send;
}
