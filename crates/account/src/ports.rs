//! The port this layer adds to the domains' own: counters for the throttling policy.

use std::future::Future;

use authd_kernel::StoreError;
use time::{Duration, OffsetDateTime};

/// A bucket's state in its current fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    /// Hits counted in the current window, this one included.
    pub hits: u32,
    /// When the current window ends and the count starts again from zero.
    pub resets_at: OffsetDateTime,
}

/// Fixed-window counters shared by every instance of the service.
pub trait RateLimiter: Send + Sync {
    /// Counts one hit in `bucket` and returns the window's state. A bucket with no window, or whose window
    /// (`window` long) has run out by `now`, starts a new one at `now` holding this hit.
    ///
    /// # Errors
    /// A storage failure. MUST count every one of concurrent hits exactly once.
    fn hit(
        &self,
        bucket: &str,
        window: Duration,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<RateWindow, StoreError>> + Send;

    /// Forgets `bucket`: its next hit starts a new window.
    ///
    /// # Errors
    /// A storage failure.
    fn clear(&self, bucket: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}
