//! The application crate's one error enum: a domain's own error, or a rule of this layer.

use authd_identity::IdentityError;
use authd_kernel::StoreError;
use authd_mfa::MfaError;
use authd_oauth::OAuthError;
use authd_passkey::PasskeyError;
use authd_session::SessionError;

/// Everything a use case of this crate can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Too many attempts through one door; retry after this many seconds.
    #[error("too many attempts; retry in {retry_after} s")]
    RateLimited {
        /// Seconds until the window that refused the attempt ends.
        retry_after: u64,
    },
    /// The attempt that crossed the account's limit on failed sign-ins: refused like any over the limit,
    /// and recorded as a lock-out.
    #[error("too many failed sign-ins; retry in {retry_after} s")]
    LockedOut {
        /// Seconds until the window that refused the attempt ends.
        retry_after: u64,
    },
    /// A second factor was presented for a session that is not waiting for one.
    #[error("this session is not waiting for a second factor")]
    SecondFactorNotPending,
    /// No live session of the caller's has this id.
    #[error("no such session")]
    SessionNotFound,
    /// The session's last proven factor is too old for this change: re-authenticate first.
    #[error("this change needs a recent authentication")]
    ReauthRequired,
    /// A wrong second factor for a pending session (which may have been its last attempt).
    #[error("wrong second-factor code")]
    InvalidSecondFactor,
    /// From the identity domain.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// From the session domain.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// From the MFA domain.
    #[error(transparent)]
    Mfa(#[from] MfaError),
    /// From the OAuth domain.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// From the passkey domain.
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
    /// Storage failed (rate-limit counters).
    #[error(transparent)]
    Store(#[from] StoreError),
}
