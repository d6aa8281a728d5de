//! Identifiers: UUID v7 built from the injected clock and random source.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::{Clock, Random};

/// A new time-ordered UUID (v7) from the given clock and randomness.
pub fn new_uuid(clock: &impl Clock, random: &impl Random) -> Uuid {
    let millis = clock.now().unix_timestamp_nanos() / 1_000_000;
    let millis = u64::try_from(millis).unwrap_or(0);
    let tail: [u8; 10] = random.bytes();
    uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid()
}

/// The id of a user account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Uuid);

impl UserId {
    /// A fresh id.
    pub fn generate(clock: &impl Clock, random: &impl Random) -> Self {
        Self(new_uuid(clock, random))
    }

    /// Wraps an existing UUID.
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID inside.
    pub const fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for UserId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}
