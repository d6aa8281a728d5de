//! Passkeys (WebAuthn) for authd: the credentials a user registered, and the `RelyingParty` port through
//! which an adapter runs the ceremonies (options for `navigator.credentials.create/get`, verification of the
//! browser's answers). The use cases (ceremony state in the database, login, deletion with the last-method
//! guard) are [`PasskeyService`].
//!
//! Pure: no web framework, database driver, runtime or HTTP client.

mod error;
mod model;
pub mod ports;
mod service;

pub use error::PasskeyError;
pub use model::{
    AuthenticatedCredential, Ceremony, CeremonyPurpose, CeremonyRecord, CredentialId, PasskeyId,
    PasskeyUser, RegisteredCredential, StoredPasskey,
};
pub use service::{CEREMONY_TTL, MAX_NAME_CHARS, PasskeyLogin, PasskeyService};
