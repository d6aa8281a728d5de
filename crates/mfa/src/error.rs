//! The mfa crate's one error enum.

use authd_kernel::StoreError;

/// Everything that can go wrong in an MFA use case.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// Setup was asked for while MFA is already on.
    #[error("multi-factor authentication is already enabled")]
    AlreadyEnabled,
    /// An operation that needs MFA on (disable, recovery codes) while it is off.
    #[error("multi-factor authentication is not enabled")]
    NotEnabled,
    /// Confirm without a pending enrolment.
    #[error("no multi-factor enrolment is pending; call setup first")]
    NoPendingEnrolment,
    /// The TOTP or recovery code is wrong, expired or already used.
    #[error("invalid code")]
    InvalidCode,
    /// A stored secret could not be decrypted (wrong key, or the row was tampered with).
    #[error("stored secret unreadable: {0}")]
    Crypto(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
