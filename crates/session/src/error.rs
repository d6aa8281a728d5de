//! The session crate's one error enum.

use authd_kernel::StoreError;

/// Everything that can go wrong with a session or token.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The access token is malformed, badly signed, expired, or its session is revoked or gone.
    #[error("invalid or expired access token")]
    InvalidAccessToken,
    /// The refresh token is unknown, expired or belongs to a revoked session.
    #[error("invalid or expired refresh token")]
    InvalidRefreshToken,
    /// An already-rotated refresh token was presented again: the session has been revoked.
    #[error("refresh token reused; the session was revoked")]
    RefreshTokenReused,
    /// A signing key could not be read or used.
    #[error("signing key problem: {0}")]
    Key(String),
    /// Building a token failed (an internal error of the token library).
    #[error("token construction failed: {0}")]
    Token(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
