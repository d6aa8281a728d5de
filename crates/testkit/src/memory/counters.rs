//! The throttle's fixed-window counters.

use authd_account::ports::{RateLimiter, RateWindow};
use authd_kernel::StoreError;
use time::{Duration, OffsetDateTime};

use super::MemoryStore;

impl MemoryStore {
    /// Hits counted in the current windows of the buckets whose name starts with `prefix`.
    pub fn hits(&self, prefix: &str) -> u32 {
        self.tables()
            .counters
            .iter()
            .filter(|(bucket, _)| bucket.starts_with(prefix))
            .map(|(_, (hits, _))| *hits)
            .sum()
    }
}

impl RateLimiter for MemoryStore {
    async fn hit(
        &self,
        bucket: &str,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<RateWindow, StoreError> {
        let mut tables = self.tables();
        let (hits, start) = tables.counters.entry(bucket.to_owned()).or_insert((0, now));
        if *start <= now - window {
            (*hits, *start) = (0, now);
        }
        *hits += 1;
        Ok(RateWindow {
            hits: *hits,
            resets_at: *start + window,
        })
    }

    async fn clear(&self, bucket: &str) -> Result<(), StoreError> {
        self.tables().counters.remove(bucket);
        Ok(())
    }
}
