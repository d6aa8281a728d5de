//! Identifiers: UUID v7 built from the injected clock and random source.

use uuid::Uuid;

use crate::{Clock, Random};

/// A new time-ordered UUID (v7) from the given clock and randomness.
pub fn new_uuid(clock: &impl Clock, random: &impl Random) -> Uuid {
    let millis = clock.now().unix_timestamp_nanos() / 1_000_000;
    let millis = u64::try_from(millis).unwrap_or(0);
    let tail: [u8; 10] = random.bytes();
    uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid()
}

/// Declares a UUID-backed id type: generated from the clock and randomness ports, displayed and parsed as
/// the UUID's hyphenated form. Every id of the domain crates is one.
#[macro_export]
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($crate::reexport::Uuid);

        impl $name {
            /// A fresh id.
            pub fn generate(clock: &impl $crate::Clock, random: &impl $crate::Random) -> Self {
                Self($crate::new_uuid(clock, random))
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(id: $crate::reexport::Uuid) -> Self {
                Self(id)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> $crate::reexport::Uuid {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::reexport::uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::reexport::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// The id of a user account.
    UserId
);
