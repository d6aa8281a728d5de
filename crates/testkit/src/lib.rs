//! Test doubles for the domain crates' tests: a fixed clock, a seeded random source, one in-memory store
//! behind every repository port, a scripted relying party, and the contract suites every implementation of
//! a repository port (these fakes and the real store) must pass. Never used outside tests.

mod clock;
pub mod contract;
mod hasher;
mod mailer;
mod memory;
mod provider;
mod random;
mod relying_party;

pub use clock::FixedClock;
pub use hasher::InlineHasher;
pub use mailer::ScriptedMailer;
pub use memory::{
    MemoryMfa, MemoryOAuth, MemoryPasskeys, MemorySessions, MemoryStore, MemoryUsers,
};
pub use provider::ScriptedProvider;
pub use random::SeededRandom;
pub use relying_party::{FakeRelyingParty, FakeResponse};
