//! Test doubles for the domain crates' tests: a fixed clock, a seeded random source, and in-memory
//! implementations of every repository port. Never used outside tests.

mod clock;
mod hasher;
mod mfa;
mod oauth;
mod random;
mod sessions;
mod users;

pub use clock::FixedClock;
pub use hasher::InlineHasher;
pub use mfa::MemoryMfa;
pub use oauth::MemoryOAuth;
pub use random::SeededRandom;
pub use sessions::MemorySessions;
pub use users::MemoryUsers;
