//! `[security]`: how long a proven factor keeps a session recent (step-up).

use std::num::NonZeroU32;

use authd_account::AccountPolicy;
use serde::Deserialize;
use time::Duration;

/// `[security]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Seconds a sign-in, second factor or re-authentication keeps the session recent enough for
    /// credential changes.
    pub reauth_max_age_secs: NonZeroU32,
    /// Days a security event is kept.
    pub event_retention_days: NonZeroU32,
}

impl SecuritySettings {
    /// How long security events are kept.
    pub fn event_retention(&self) -> Duration {
        Duration::days(self.event_retention_days.get().into())
    }

    /// The application's policy.
    pub fn policy(&self) -> AccountPolicy {
        AccountPolicy {
            reauth_max_age: Duration::seconds(self.reauth_max_age_secs.get().into()),
        }
    }
}
