//! The oauth crate's one error enum.

use authd_kernel::StoreError;

/// Everything that can go wrong in an OAuth flow.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider name in a path is not one authd knows or has configured.
    #[error("unknown or disabled provider")]
    UnknownProvider,
    /// The provider refused (an `error` in the callback, a rejected code or verifier, a bad ID token: wrong
    /// signature, issuer, audience, expiry or nonce).
    #[error("the provider refused: {0}")]
    Refused(String),
    /// The provider could not be reached or answered something unusable (timeout, 5xx, malformed JSON).
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
