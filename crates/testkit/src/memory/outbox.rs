//! Delivery state of the queued emails.

use authd_account::ports::{Outbox, QueuedEmail};
use authd_kernel::StoreError;
use time::{Duration, OffsetDateTime};

use super::{MemoryStore, OutboxRow};

impl OutboxRow {
    fn is_due(&self, now: OffsetDateTime) -> bool {
        !self.finished && self.next_attempt_at <= now && self.claimed_until.is_none_or(|c| c <= now)
    }

    /// Ends its life in the outbox; the bodies go, as they may hold a one-time link.
    fn finish(&mut self) {
        self.finished = true;
        self.claimed_until = None;
        self.email.text.clear();
        self.email.html.clear();
    }
}

impl Outbox for MemoryStore {
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<QueuedEmail>, StoreError> {
        let mut tables = self.tables();
        let mut due: Vec<&mut OutboxRow> =
            tables.outbox.iter_mut().filter(|r| r.is_due(now)).collect();
        due.sort_by_key(|r| r.next_attempt_at);
        Ok(due
            .into_iter()
            .take(limit)
            .map(|row| {
                row.claimed_until = Some(now + lease);
                row.attempts += 1;
                QueuedEmail {
                    id: row.id.clone(),
                    email: row.email.clone(),
                    correlation: row.correlation.clone(),
                    attempts: row.attempts,
                }
            })
            .collect())
    }

    async fn mark_sent(&self, id: &str, _at: OffsetDateTime) -> Result<(), StoreError> {
        self.finish(id);
        Ok(())
    }

    async fn give_up(
        &self,
        id: &str,
        _at: OffsetDateTime,
        _reason: &str,
    ) -> Result<(), StoreError> {
        self.finish(id);
        Ok(())
    }

    async fn retry_later(
        &self,
        id: &str,
        next_attempt_at: OffsetDateTime,
        _reason: &str,
    ) -> Result<(), StoreError> {
        if let Some(row) = self.tables().outbox.iter_mut().find(|r| r.id == id) {
            row.next_attempt_at = next_attempt_at;
            row.claimed_until = None;
        }
        Ok(())
    }
}

impl MemoryStore {
    fn finish(&self, id: &str) {
        if let Some(row) = self.tables().outbox.iter_mut().find(|r| r.id == id) {
            row.finish();
        }
    }
}
