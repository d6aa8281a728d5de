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
}

impl SecuritySettings {
    /// The application's policy.
    pub fn policy(&self) -> AccountPolicy {
        AccountPolicy {
            reauth_max_age: Duration::seconds(self.reauth_max_age_secs.get().into()),
        }
    }
}
