//! The identity crate's one error enum.

use authd_kernel::StoreError;

use crate::PasswordProblem;

/// Everything that can go wrong in an identity use case.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The email is not a plausible address.
    #[error("invalid email address")]
    InvalidEmail,
    /// The display name is empty, too long or contains control characters.
    #[error("invalid name: {0}")]
    InvalidName(&'static str),
    /// The new password breaks the password policy.
    #[error("weak password: {0}")]
    WeakPassword(PasswordProblem),
    /// An account with this email already exists.
    #[error("email already registered")]
    EmailTaken,
    /// Unknown email, wrong password, or an account without a password: deliberately indistinguishable.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A password-reset token that is unknown, used, expired or superseded.
    #[error("invalid or expired reset token")]
    InvalidResetToken,
    /// The password-hashing pool is saturated; the caller should retry shortly.
    #[error("password hashing is saturated")]
    Busy,
    /// A stored password hash could not be parsed or hashing failed internally.
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
