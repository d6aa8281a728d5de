//! Sessions of authd: short-lived Biscuit access tokens signed with an Ed25519 root key, opaque refresh
//! tokens rotated on every use with reuse detection, and revocation.
//!
//! Another Rust service that only needs to check authd's access tokens uses [`TokenVerifier`] with the
//! public keys from `GET /auth/keys`: no database, no network.
//!
//! Pure: no web framework, database driver, runtime or HTTP client.

mod error;
mod keys;
mod model;
pub mod ports;
mod service;
mod token;

pub use error::SessionError;
pub use keys::{KeyId, KeyRing, SigningKey, StoredSigningKey};
pub use model::{MfaStatus, RefreshRecord, Session, SessionId, SignInMethod};
pub use service::{
    Authenticated, MfaAttempt, PendingTokens, SessionPolicy, SessionService, SessionTokens,
};
pub use token::{AccessClaims, TokenVerifier};
