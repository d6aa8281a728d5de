//! Multi-factor authentication for authd: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of
//! skew) with a stored replay guard, single-use recovery codes stored as hashes, and TOTP secrets encrypted
//! at rest.
//!
//! Pure: no web framework, database driver, runtime or HTTP client. Time and randomness come only from the
//! injected [`authd_kernel::Clock`] and [`authd_kernel::Random`]; storage is the [`ports::MfaRepository`]
//! port. The use cases are [`MfaService`]; the building blocks ([`totp`], [`TotpSecret`], [`SecretCipher`],
//! [`otpauth_url`], [`qr_png_base64`], the recovery-code functions) are public for the app and its tests.

mod cipher;
mod error;
mod model;
mod otpauth;
pub mod ports;
mod qr;
mod recovery;
mod secret;
mod service;
pub mod totp;

pub use cipher::SecretCipher;
pub use error::MfaError;
pub use model::{EncryptedSecret, MfaRecord, MfaState, RecoveryCodeHash};
pub use otpauth::otpauth_url;
pub use qr::{qr_png, qr_png_base64};
pub use recovery::{
    RECOVERY_CODE_ALPHABET, RECOVERY_CODE_COUNT, RecoveryCodes, generate_recovery_code,
    hash_recovery_code, normalise_recovery_code,
};
pub use secret::TotpSecret;
pub use service::{MfaPolicy, MfaService, SetupOutput};
