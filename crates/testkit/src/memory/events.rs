//! The security log.

use authd_account::ports::{EventCursor, SecurityLog};
use authd_kernel::{SecurityEvent, StoreError, UserId};

use super::MemoryStore;

impl MemoryStore {
    /// Every event recorded, in order.
    pub fn events(&self) -> Vec<SecurityEvent> {
        self.tables().events.clone()
    }
}

impl SecurityLog for MemoryStore {
    async fn record(&self, event: &SecurityEvent) -> Result<(), StoreError> {
        self.tables().events.push(event.clone());
        Ok(())
    }

    async fn events_of(
        &self,
        user: UserId,
        before: Option<EventCursor>,
        limit: usize,
    ) -> Result<Vec<SecurityEvent>, StoreError> {
        let mut events: Vec<SecurityEvent> = self
            .tables()
            .events
            .iter()
            .filter(|e| e.user_id == user)
            .filter(|e| before.is_none_or(|c| (e.at, e.id) < (c.at, c.id)))
            .cloned()
            .collect();
        events.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
        events.truncate(limit);
        Ok(events)
    }
}
