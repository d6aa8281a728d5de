//! A clock that only moves when the test says so.

use std::sync::{Arc, Mutex, PoisonError};

use authd_kernel::Clock;
use time::{Duration, OffsetDateTime};

/// A clock stopped at a chosen instant; clones share the same time.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<OffsetDateTime>>);

impl FixedClock {
    /// Stopped at `at`.
    pub fn at(at: OffsetDateTime) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
