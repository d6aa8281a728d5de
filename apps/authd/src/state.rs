//! The application state every handler reads: the wired use cases and the web-facing settings.

use std::sync::Arc;

use authd_account::{Accounts, Ports};
use authd_kernel::{Clock, OsRandom};
use authd_store::Store;
use authd_webauthn::WebAuthnRelyingParty;
use ipnet::IpNet;

use crate::hashing::BoundedHasher;
use crate::mail::OutboxSignal;
use crate::metrics::Metrics;
use crate::providers::AppProvider;

/// The clock the app runs on (the system clock, or a fixed one in tests).
pub type AppClock = Arc<dyn Clock>;

/// Which adapter fills each port in the service: the store for every repository and the throttle's
/// counters, the bounded scrypt pool, the system clock and randomness, the configured providers, webauthn-rs.
#[derive(Debug, Clone, Copy)]
pub struct Wired;

impl Ports for Wired {
    type Users = Store;
    type Sessions = Store;
    type Mfa = Store;
    type OAuth = Store;
    type Passkeys = Store;
    type Counters = Store;
    type Log = Store;
    type Hasher = BoundedHasher;
    type Clock = AppClock;
    type Random = OsRandom;
    type Provider = AppProvider;
    type RelyingParty = WebAuthnRelyingParty;
}

/// The application's use cases as wired here.
pub type App = Accounts<Wired>;

/// What the HTTP layer needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// `Secure` on cookies.
    pub secure_cookies: bool,
    /// Origins allowed CORS and cookie-authenticated state changes.
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Largest JSON body accepted.
    pub max_body_bytes: usize,
    /// How long reading a request body may take.
    pub body_timeout: std::time::Duration,
    /// Where browser redirects land.
    pub frontend_url: String,
    /// Whether `/metrics` has a listener of its own (then the API does not serve it).
    pub metrics_apart: bool,
    /// The `Strict-Transport-Security` value to send, if any.
    pub hsts: Option<String>,
    /// Lifetime of the OAuth browser-binding cookie, in seconds.
    pub oauth_state_ttl_secs: i64,
}

impl WebSettings {
    /// Whether `origin` (an `Origin` header's value) is one of the allowed origins; case-insensitive, as
    /// scheme and host are.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }
}

/// Shared by every worker.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Every use case.
    pub accounts: App,
    /// Wakes this instance's email worker.
    pub outbox: OutboxSignal,
    /// Direct store access for operations (readiness).
    pub store: Store,
    /// HTTP-facing settings.
    pub web: WebSettings,
    /// Request and login counters.
    pub metrics: Metrics,
}
