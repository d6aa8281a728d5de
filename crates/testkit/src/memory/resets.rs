//! Password-reset tokens and the email outbox they are sent through.

use authd_identity::ports::PasswordResetRepository;
use authd_identity::{OutgoingEmail, PasswordHash, PasswordReset};
use authd_kernel::{SecurityEvent, StoreError, TokenHash, UserId};
use time::OffsetDateTime;

use super::{MemoryStore, OutboxRow};

impl MemoryStore {
    /// The emails queued so far, oldest first.
    pub fn outbox(&self) -> Vec<OutgoingEmail> {
        self.tables()
            .outbox
            .iter()
            .map(|row| row.email.clone())
            .collect()
    }
}

impl PasswordResetRepository for MemoryStore {
    async fn replace_reset_and_enqueue(
        &self,
        reset: &PasswordReset,
        email: &OutgoingEmail,
        correlation: Option<&str>,
        event: &SecurityEvent,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        tables
            .resets
            .retain(|r| r.user_id != reset.user_id || r.used_at.is_some());
        tables.resets.push(reset.clone());
        let id = format!("email-{}", tables.outbox.len() + 1);
        tables.outbox.push(OutboxRow {
            id,
            email: email.clone(),
            correlation: correlation.map(str::to_owned),
            attempts: 0,
            next_attempt_at: reset.created_at,
            claimed_until: None,
            finished: false,
        });
        tables.events.push(event.clone());
        Ok(())
    }

    async fn find_reset(&self, hash: &TokenHash) -> Result<Option<PasswordReset>, StoreError> {
        Ok(self
            .tables()
            .resets
            .iter()
            .find(|r| &r.hash == hash)
            .cloned())
    }

    async fn consume_reset_and_sign_out(
        &self,
        hash: &TokenHash,
        user: UserId,
        password_hash: &PasswordHash,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(reset) = tables
            .resets
            .iter_mut()
            .find(|r| &r.hash == hash && r.used_at.is_none())
        else {
            return Ok(false);
        };
        reset.used_at = Some(now);
        if let Some(account) = tables.user_mut(user) {
            account.password_hash = Some(password_hash.clone());
            account.updated_at = now;
        }
        tables.revoke_sessions_of(user, now);
        tables.events.push(event.clone());
        Ok(true)
    }
}
