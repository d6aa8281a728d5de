//! The oauth crate's one error enum.

use authd_kernel::StoreError;

/// Everything that can go wrong in an OAuth flow.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider name in a path is not one authd knows or has configured.
    #[error("unknown or disabled provider")]
    UnknownProvider,
    /// `redirect_to` is not a relative path on this site.
    #[error("redirect_to must be a relative path such as /settings")]
    InvalidRedirect,
    /// The callback's `state` is missing, unknown, expired, used, for another provider, or not bound to
    /// this browser.
    #[error("invalid or expired OAuth state")]
    InvalidState,
    /// In a link flow, the provider identity already belongs to another account.
    #[error("this provider account is already linked to another user")]
    ProviderAlreadyLinked,
    /// Unlink of a provider the user has not linked.
    #[error("this provider is not linked")]
    NotLinked,
    /// Unlinking would leave the account without any way to sign in.
    #[error("this is the account's last way to sign in")]
    LastLoginMethod,
    /// No account can be made or matched: the provider gave no email, or an unverified one that belongs
    /// to an existing account (which must sign in and link instead).
    #[error("{0}")]
    NoUsableEmail(&'static str),
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
