//! Test support shared by the adapters' tests and the app's HTTP tests, so that none of them includes
//! another crate's test files: a local OAuth 2.0 / OpenID Connect provider served on loopback
//! ([`oauth_provider`]) and a browser with a software WebAuthn authenticator ([`browser`]). Test support
//! fails loudly: it unwraps, since a broken fixture should stop the test where it broke.

pub mod browser;
pub mod oauth_provider;
