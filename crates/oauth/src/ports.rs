//! The port a provider adapter fills.

use std::future::Future;

use authd_identity::{NewWorkspace, User};
use authd_kernel::{Secret, SecurityEvent, StoreError, TokenHash, UserId};

use crate::{
    AuthorizationRequest, LinkedIdentity, OAuthError, PendingAuthorization, ProviderIdentity,
    ProviderKind,
};

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

/// Storage of pending authorizations and linked identities.
pub trait OAuthRepository: Send + Sync {
    /// Deletes the pending link flows of `user` (its sessions ended); sign-in flows are nobody's.
    ///
    /// # Errors
    /// A storage failure.
    fn drop_link_flows_of(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores a pending authorization.
    ///
    /// # Errors
    /// A storage failure.
    fn save_authorization(
        &self,
        pending: &PendingAuthorization,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes and returns the pending authorization with this state hash.
    ///
    /// # Errors
    /// MUST hand a given authorization to one caller only, even under concurrent calls.
    fn take_authorization(
        &self,
        state_hash: &TokenHash,
    ) -> impl Future<Output = Result<Option<PendingAuthorization>, StoreError>> + Send;

    /// The account a provider identity is linked to.
    ///
    /// # Errors
    /// A storage failure.
    fn find_link(
        &self,
        provider: ProviderKind,
        subject: &str,
    ) -> impl Future<Output = Result<Option<LinkedIdentity>, StoreError>> + Send;

    /// The identities linked to an account, oldest first.
    ///
    /// # Errors
    /// A storage failure.
    fn links_of(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<LinkedIdentity>, StoreError>> + Send;

    /// Attaches an identity to an existing account and records `event` with it.
    ///
    /// # Errors
    /// MUST return [`OAuthError::ProviderAlreadyLinked`], recording nothing, when the identity is linked
    /// already or the account already has an identity of this provider.
    fn link(
        &self,
        link: &LinkedIdentity,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<(), OAuthError>> + Send;

    /// Creates an account (no password) with its personal workspace and the linked identity, and records
    /// `event` (its `signed_up`), all or nothing.
    ///
    /// # Errors
    /// MUST return [`OAuthError::ProviderAlreadyLinked`] when the identity got linked meanwhile and
    /// [`OAuthError::NoUsableEmail`] when the email got taken meanwhile.
    fn create_user_with_link(
        &self,
        user: &User,
        workspace: &NewWorkspace,
        link: &LinkedIdentity,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<(), OAuthError>> + Send;

    /// Detaches the account's identity of this provider and records `event` with it; false (recording
    /// nothing) when there was none.
    ///
    /// # Errors
    /// A storage failure.
    fn unlink(
        &self,
        user: UserId,
        provider: ProviderKind,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
