//! The storage adapter of authd: one [`Store`] that implements every repository port of the domain crates,
//! on PostgreSQL (production) or SQLite (the embedded default), through diesel-async.
//!
//! Both backends share one diesel schema and one body of queries: [`with_conn!`] expands each query once per
//! backend, so every query is type-checked against both and there is no generic bound soup.

#[macro_use]
mod pool;
#[macro_use]
mod events;
mod convert;
mod keys;
mod mfa;
mod oauth;
mod outbox;
mod passkeys;
mod purge;
mod rate_limits;
mod resets;
mod schema;
mod secrets;
mod sessions;
mod users;

#[cfg(feature = "testing")]
pub mod testing;

pub use outbox::OutboxStats;
pub use pool::{Backend, DatabaseUrl, PoolOptions, Store};
