//! The application state every handler reads: the wired use cases and the web-facing settings.

use std::sync::Arc;

use authd_identity::{IdentityService, PasswordResetService};
use authd_kernel::{Clock, OsRandom};
use authd_mfa::MfaService;
use authd_oauth::OAuthService;
use authd_passkey::PasskeyService;
use authd_session::SessionService;
use authd_store::Store;
use authd_webauthn::WebAuthnRelyingParty;
use ipnet::IpNet;

use crate::hashing::BoundedHasher;
use crate::mail::OutboxSignal;
use crate::metrics::Metrics;
use crate::providers::AppProvider;
use crate::throttle::Throttle;

/// The clock the app runs on (the system clock, or a fixed one in tests).
pub type AppClock = Arc<dyn Clock>;
/// The identity use cases as wired here.
pub type Identity = IdentityService<Store, BoundedHasher, AppClock, OsRandom>;
/// The password-reset use cases as wired here.
pub type Resets = PasswordResetService<Store, BoundedHasher, AppClock, OsRandom>;
/// The MFA use cases as wired here.
pub type Mfa = MfaService<Store, AppClock, OsRandom>;
/// The OAuth use cases as wired here.
pub type OAuth = OAuthService<Store, AppProvider, AppClock, OsRandom>;
/// The passkey use cases as wired here.
pub type Passkeys = PasskeyService<Store, WebAuthnRelyingParty, AppClock, OsRandom>;
/// The session use cases as wired here.
pub type Sessions = SessionService<Store, AppClock, OsRandom>;

/// What the HTTP layer needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// `Secure` on cookies.
    pub secure_cookies: bool,
    /// Origins allowed CORS and cookie-authenticated state changes.
    pub allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Refresh cookie lifetime, in seconds.
    pub refresh_ttl_secs: i64,
    /// Largest JSON body accepted.
    pub max_body_bytes: usize,
    /// How long reading a request body may take.
    pub body_timeout: std::time::Duration,
    /// Where browser redirects land.
    pub frontend_url: String,
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
    /// Users, passwords, workspaces.
    pub identity: Identity,
    /// Tokens and sessions.
    pub sessions: Sessions,
    /// Password reset by email.
    pub resets: Resets,
    /// TOTP and recovery codes.
    pub mfa: Mfa,
    /// Sign-in with GitHub and Google.
    pub oauth: OAuth,
    /// WebAuthn passkeys.
    pub passkeys: Passkeys,
    /// Wakes this instance's email worker.
    pub outbox: OutboxSignal,
    /// Direct store access for operations (readiness).
    pub store: Store,
    /// Login limits.
    pub throttle: Throttle,
    /// HTTP-facing settings.
    pub web: WebSettings,
    /// Request and login counters.
    pub metrics: Metrics,
}
