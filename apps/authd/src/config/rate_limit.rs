//! `[rate_limit]`: the login and second-factor limits, counted in fixed windows in the database.

use std::num::NonZeroU32;

use authd_kernel::LONGEST_RATE_WINDOW;
use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[rate_limit]`: fixed windows, counted in the database so every instance shares them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Master switch.
    pub enabled: bool,
    /// Login attempts allowed per client IP per window.
    pub login_per_ip: NonZeroU32,
    /// The per-IP window.
    pub login_ip_window_secs: NonZeroU32,
    /// Failed logins allowed per account (email) per window.
    pub login_failures_per_account: NonZeroU32,
    /// The per-account window.
    pub login_account_window_secs: NonZeroU32,
    /// Wrong second-factor codes (TOTP or recovery, at verify, recovery-verify or disable) allowed per user
    /// per window, across all their sessions: what caps guessing by someone who has the password and
    /// keeps opening new pending sessions.
    pub mfa_failures_per_user: NonZeroU32,
    /// That window.
    pub mfa_window_secs: NonZeroU32,
}

impl RateLimitSettings {
    /// No window may outlive the counters: the store purges them after [`LONGEST_RATE_WINDOW`].
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let longest = [
            self.login_ip_window_secs,
            self.login_account_window_secs,
            self.mfa_window_secs,
        ]
        .into_iter()
        .map(|secs| i64::from(secs.get()))
        .max()
        .unwrap_or_default();
        if longest > LONGEST_RATE_WINDOW.whole_seconds() {
            return Err(invalid(
                "rate_limit",
                "windows longer than a day are not supported",
            ));
        }
        Ok(())
    }
}
