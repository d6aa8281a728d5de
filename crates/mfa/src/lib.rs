//! Multi-factor authentication for authd: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of
//! skew) with a stored replay guard, single-use recovery codes stored as hashes, and TOTP secrets encrypted
//! at rest.
//!
//! Pure: no web framework, database driver, runtime or HTTP client.

mod error;
mod model;
pub mod ports;

pub use error::MfaError;
pub use model::{EncryptedSecret, MfaRecord, MfaState, RecoveryCodeHash};
