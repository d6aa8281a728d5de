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
mod mfa;
mod native;
mod oauth;
mod ops;
mod passkeys;
mod reset;
mod security;
mod smtp;

/// The local OAuth 2.0 / OpenID Connect provider the providers crate's tests use, shared rather than copied.
#[path = "../../../../crates/providers/tests/providers/support.rs"]
#[allow(
    dead_code,
    reason = "not every helper of the shared provider is used here"
)]
mod provider;

/// A browser with a software authenticator, shared with the WebAuthn adapter's tests.
#[path = "../../../../crates/webauthn/tests/support/browser.rs"]
mod browser;
