//! TOTP factors and recovery codes, kept by the same rules as the store's (see `crates/store/src/mfa.rs`):
//! a disabled factor keeps its row, with an empty secret, and `find_factor` returns it.

use authd_kernel::{SecurityEvent, StoreError, UserId};
use authd_mfa::ports::MfaRepository;
use authd_mfa::{EncryptedSecret, MfaRecord, MfaState, RecoveryCodeHash};
use time::OffsetDateTime;

use super::{MemoryStore, RecoveryRow};

impl MemoryStore {
    /// A copy of the user's stored factor, whatever its state.
    pub fn record(&self, user: UserId) -> Option<MfaRecord> {
        self.tables().factors.get(&user).cloned()
    }

    /// The hashes of the user's recovery codes not yet used.
    pub fn unused_recovery_codes(&self, user: UserId) -> Vec<RecoveryCodeHash> {
        self.tables()
            .recovery
            .iter()
            .filter(|r| r.user == user && r.used_at.is_none())
            .map(|r| r.hash.clone())
            .collect()
    }

    /// How many recovery codes the user has, used or not.
    pub fn recovery_code_count(&self, user: UserId) -> usize {
        self.tables()
            .recovery
            .iter()
            .filter(|r| r.user == user)
            .count()
    }
}

fn rows(user: UserId, recovery: &[RecoveryCodeHash]) -> impl Iterator<Item = RecoveryRow> + '_ {
    recovery.iter().map(move |hash| RecoveryRow {
        user,
        hash: hash.clone(),
        used_at: None,
    })
}

impl MfaRepository for MemoryStore {
    async fn find_factor(&self, user: UserId) -> Result<Option<MfaRecord>, StoreError> {
        Ok(self.record(user))
    }

    async fn save_pending(
        &self,
        user: UserId,
        secret: &EncryptedSecret,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.tables();
        match state.factors.get_mut(&user) {
            Some(record) if record.state == MfaState::Enabled => Ok(false),
            // Replacing a pending or disabled factor keeps its other dates, as the store's upsert does.
            Some(record) => {
                record.secret = secret.clone();
                record.state = MfaState::Pending;
                record.last_used_step = None;
                record.created_at = now;
                Ok(true)
            }
            None => {
                state.factors.insert(
                    user,
                    MfaRecord {
                        user_id: user,
                        secret: secret.clone(),
                        state: MfaState::Pending,
                        last_used_step: None,
                        created_at: now,
                        enabled_at: None,
                        recovery_codes_generated_at: None,
                        disabled_at: None,
                    },
                );
                Ok(true)
            }
        }
    }

    async fn enable(
        &self,
        user: UserId,
        step: u64,
        recovery: &[RecoveryCodeHash],
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let mut state = self.tables();
        let Some(record) = state
            .factors
            .get_mut(&user)
            .filter(|r| r.state == MfaState::Pending)
        else {
            return Ok(false);
        };
        record.state = MfaState::Enabled;
        record.last_used_step = Some(step);
        record.enabled_at = Some(now);
        record.recovery_codes_generated_at = Some(now);
        record.disabled_at = None;
        state.recovery.retain(|r| r.user != user);
        state.recovery.extend(rows(user, recovery));
        state.events.push(event.clone());
        Ok(true)
    }

    async fn use_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        let mut state = self.tables();
        let Some(record) = state
            .factors
            .get_mut(&user)
            .filter(|r| r.last_used_step.is_none_or(|used| used < step))
        else {
            return Ok(false);
        };
        record.last_used_step = Some(step);
        Ok(true)
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        code: &RecoveryCodeHash,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let mut state = self.tables();
        let Some(row) = state
            .recovery
            .iter_mut()
            .find(|r| r.user == user && &r.hash == code && r.used_at.is_none())
        else {
            return Ok(false);
        };
        row.used_at = Some(now);
        state.events.push(event.clone());
        Ok(true)
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery: &[RecoveryCodeHash],
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<(), StoreError> {
        let mut state = self.tables();
        state.recovery.retain(|r| r.user != user);
        state.recovery.extend(rows(user, recovery));
        if let Some(record) = state.factors.get_mut(&user) {
            record.recovery_codes_generated_at = Some(now);
        }
        state.events.push(event.clone());
        Ok(())
    }

    async fn disable(
        &self,
        user: UserId,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<(), StoreError> {
        let mut state = self.tables();
        state.recovery.retain(|r| r.user != user);
        if let Some(record) = state.factors.get_mut(&user) {
            record.state = MfaState::Disabled;
            record.secret = EncryptedSecret(Vec::new());
            record.last_used_step = None;
            record.disabled_at = Some(now);
        }
        state.events.push(event.clone());
        Ok(())
    }
}
