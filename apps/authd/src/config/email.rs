//! `[email]`: what the emails say and how hard delivery tries.

use std::num::NonZeroU32;

use serde::Deserialize;

use super::values::HttpUrl;

/// `[email]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The frontend page that takes a reset token; unset means `<frontend_url>/reset-password`.
    pub reset_url: Option<HttpUrl>,
    /// The product name in subjects and bodies.
    pub product_name: String,
    /// Delivery attempts before an email is given up.
    pub max_attempts: NonZeroU32,
    /// Delay before the first retry; each next one is three times longer, up to 15 minutes.
    pub retry_base_secs: NonZeroU32,
    /// How often each instance looks for due emails (it also wakes at once when it queues one).
    pub poll_interval_ms: NonZeroU32,
    /// Reset requests per email address per hour; more are accepted (202) but send nothing.
    pub reset_per_email_per_hour: NonZeroU32,
    /// Reset requests per client IP per hour; more get 429.
    pub reset_per_ip_per_hour: NonZeroU32,
}
