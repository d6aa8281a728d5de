//! The passkey crate's one error enum.

use authd_kernel::StoreError;

/// Everything that can go wrong with a passkey.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The browser's answer is not a well-formed WebAuthn response.
    #[error("malformed WebAuthn response: {0}")]
    Malformed(String),
    /// The answer does not verify: origin, RP id, challenge, signature, user presence or verification.
    #[error("the passkey response does not verify: {0}")]
    Rejected(String),
    /// The signature counter went backwards: the authenticator may have been cloned.
    #[error("the signature counter went backwards")]
    CounterRegressed,
    /// No ceremony matches (expired, used, or never begun).
    #[error("no matching passkey ceremony")]
    UnknownCeremony,
    /// No passkey of the caller has this id.
    #[error("no such passkey")]
    NotFound,
    /// Deleting it would leave the account without any way to sign in.
    #[error("this is the account's last way to sign in")]
    LastLoginMethod,
    /// The credential is registered already.
    #[error("this passkey is already registered")]
    AlreadyRegistered,
    /// The relying party could not be set up or produce options (configuration).
    #[error("relying party: {0}")]
    RelyingParty(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
