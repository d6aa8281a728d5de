//! The provider adapters against a local OAuth 2.0 / OpenID Connect provider on loopback (one test binary).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod github;
mod google;
