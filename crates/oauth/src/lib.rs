//! OAuth sign-in for authd: which providers exist, what a provider vouches for, and the port through which
//! a provider adapter is driven (authorization URL, code exchange).
//!
//! Pure: no web framework, database driver, runtime or HTTP client. The sign-in, link and unlink rules
//! (state, PKCE and nonce handling, account matching) are built with the OAuth issue on top of this.

mod error;
mod model;
pub mod ports;

pub use error::OAuthError;
pub use model::{AuthorizationRequest, ProviderIdentity, ProviderKind};
