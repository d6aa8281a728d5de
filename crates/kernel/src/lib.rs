//! The shared kernel of authd's domain crates: the clock and randomness ports, user ids, secret strings,
//! opaque-token helpers, sealing of readable secrets, and the storage error every repository port reports.
//!
//! It depends on nothing but small pure crates, so every domain crate (and every service that reuses one)
//! can depend on it freely.

mod client;
mod clock;
mod event;
mod id;
mod random;
pub mod sealing;
mod secret;
mod store_error;
mod token;

pub use client::{Client, MAX_USER_AGENT_CHARS};
pub use clock::{Clock, SystemClock};
#[cfg(feature = "serde")]
pub use event::DetailObject;
pub use event::{DetailValue, EventId, EventKind, SecurityEvent};
pub use id::{UserId, new_uuid};
pub use random::{OsRandom, Random};
pub use sealing::SealingKey;
pub use secret::Secret;
pub use store_error::StoreError;
pub use token::{OpaqueToken, TokenHash, constant_time_eq};

/// The longest rate-limit window the service supports: configuration refuses longer windows, and the
/// store's purge deletes counters older than this, which is only safe because no window outlives it.
pub const LONGEST_RATE_WINDOW: time::Duration = time::Duration::days(1);

/// What [`uuid_id!`] expands to needs, reachable from any crate.
#[doc(hidden)]
pub mod reexport {
    pub use uuid::{self, Uuid};
}
