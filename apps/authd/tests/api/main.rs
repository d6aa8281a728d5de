//! Black-box tests of the HTTP API: the real `App`, the real store (SQLite and PostgreSQL), requests in and
//! responses out. One test binary for all of them keeps link times down.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[macro_use]
mod helpers;
mod events;
mod mfa;
mod native;
mod oauth;
mod ops;
mod passkeys;
mod reset;
mod security;
mod sessions;
mod smtp;

use authd_testsupport::{browser, oauth_provider as provider};
