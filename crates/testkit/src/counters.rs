//! In-memory fixed-window counters for the throttle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use authd_account::ports::{RateLimiter, RateWindow};
use authd_kernel::StoreError;
use time::{Duration, OffsetDateTime};

/// Counters in a map (bucket → hits and window start); clones share them.
#[derive(Debug, Clone, Default)]
pub struct MemoryCounters(Arc<Mutex<HashMap<String, (u32, OffsetDateTime)>>>);

impl MemoryCounters {
    /// Hits counted in `bucket`'s current window (0 for an unknown or cleared bucket).
    pub fn hits(&self, bucket_prefix: &str) -> u32 {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(bucket, _)| bucket.starts_with(bucket_prefix))
            .map(|(_, (hits, _))| *hits)
            .sum()
    }
}

impl RateLimiter for MemoryCounters {
    async fn hit(
        &self,
        bucket: &str,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<RateWindow, StoreError> {
        let mut counters = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = counters.entry(bucket.to_owned()).or_insert((0, now));
        if entry.1 <= now - window {
            *entry = (0, now);
        }
        entry.0 += 1;
        Ok(RateWindow {
            hits: entry.0,
            resets_at: entry.1 + window,
        })
    }

    async fn clear(&self, bucket: &str) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(bucket);
        Ok(())
    }
}
