//! The application's use cases against the in-memory fakes of every port, a fixed clock and seeded
//! randomness: no runtime (every fake completes on its first poll), no I/O.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod delivery;
mod second_factor;
mod sign_in;
mod support;
mod throttle;
