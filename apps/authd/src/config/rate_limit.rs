//! `[rate_limit]`: the login and second-factor limits, counted in fixed windows in the database.

use std::num::NonZeroU32;

use authd_account::{Limit, ThrottlePolicy};
use authd_kernel::LONGEST_RATE_WINDOW;
use serde::Deserialize;
use time::Duration;

use super::{ConfigError, EmailSettings, invalid};

fn limit(max: NonZeroU32, window_secs: NonZeroU32) -> Limit {
    Limit {
        max: max.get(),
        window: Duration::seconds(window_secs.get().into()),
    }
}

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
    /// Sign-ups allowed per client IP (an IPv6 client's /64) per window.
    pub register_per_ip: NonZeroU32,
    /// That window.
    pub register_ip_window_secs: NonZeroU32,
    /// Ceremonies begun without signing in (passkey login challenges, provider sign-ins) per client IP per
    /// window.
    pub ceremonies_per_ip: NonZeroU32,
    /// That window.
    pub ceremony_ip_window_secs: NonZeroU32,
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
    /// The throttling policy: these limits, and the reset limits of `[email]` (per hour).
    pub fn policy(&self, email: &EmailSettings) -> ThrottlePolicy {
        let hourly = |max: NonZeroU32| Limit {
            max: max.get(),
            window: Duration::HOUR,
        };
        ThrottlePolicy {
            enabled: self.enabled,
            login_per_ip: limit(self.login_per_ip, self.login_ip_window_secs),
            registrations_per_ip: limit(self.register_per_ip, self.register_ip_window_secs),
            anonymous_ceremonies_per_ip: limit(
                self.ceremonies_per_ip,
                self.ceremony_ip_window_secs,
            ),
            login_failures_per_account: limit(
                self.login_failures_per_account,
                self.login_account_window_secs,
            ),
            second_factor_failures_per_user: limit(
                self.mfa_failures_per_user,
                self.mfa_window_secs,
            ),
            reset_requests_per_ip: hourly(email.reset_per_ip_per_hour),
            reset_emails_per_address: hourly(email.reset_per_email_per_hour),
        }
    }

    /// No window may outlive the counters: the store purges them after [`LONGEST_RATE_WINDOW`].
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let longest = [
            self.login_ip_window_secs,
            self.register_ip_window_secs,
            self.ceremony_ip_window_secs,
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
