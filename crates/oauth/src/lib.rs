//! OAuth sign-in for authd: which providers exist, what a provider vouches for, and the port through which
//! a provider adapter is driven (authorization URL, code exchange).
//!
//! The use cases ([`OAuthService`]) keep `state`, PKCE verifier and nonce server-side (single use, short
//! expiry, bound to the browser by a cookie), and apply the callback rules: a known identity signs its user
//! in; a link flow attaches; a verified email matching an account links it; otherwise a new account.
//!
//! Pure: no web framework, database driver, runtime or HTTP client.

mod error;
mod model;
pub mod ports;
mod redirect;
mod service;

pub use error::OAuthError;
pub use model::{
    AuthorizationRequest, FlowPurpose, LinkedIdentity, PendingAuthorization, ProviderIdentity,
    ProviderKind, ProviderReply,
};
pub use redirect::RedirectPath;
pub use service::{Begun, Completed, OAuthPolicy, OAuthService};
