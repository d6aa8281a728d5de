//! Passkeys and WebAuthn ceremonies in flight, kept by the same rules as the store's
//! (see `crates/store/src/passkeys.rs`).

use authd_kernel::{SecurityEvent, StoreError, UserId};
use authd_passkey::ports::PasskeyRepository;
use authd_passkey::{
    CeremonyPurpose, CeremonyRecord, CredentialId, PasskeyError, PasskeyId, StoredPasskey,
};
use time::OffsetDateTime;

use super::MemoryStore;

impl PasskeyRepository for MemoryStore {
    async fn drop_registrations_of(&self, user: UserId) -> Result<(), StoreError> {
        self.tables()
            .ceremonies
            .retain(|c| c.purpose != CeremonyPurpose::Registration(user));
        Ok(())
    }

    async fn save_ceremony(&self, ceremony: &CeremonyRecord) -> Result<(), StoreError> {
        let mut tables = self.tables();
        // The challenge is the store's primary key.
        if tables
            .ceremonies
            .iter()
            .any(|c| c.challenge == ceremony.challenge)
        {
            return Err(StoreError::message("duplicate ceremony challenge"));
        }
        tables.ceremonies.push(ceremony.clone());
        Ok(())
    }

    async fn take_ceremony(&self, challenge: &str) -> Result<Option<CeremonyRecord>, StoreError> {
        let mut tables = self.tables();
        let index = tables
            .ceremonies
            .iter()
            .position(|c| c.challenge == challenge);
        Ok(index.map(|i| tables.ceremonies.remove(i)))
    }

    async fn passkeys_of(&self, user: UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        let mut passkeys: Vec<_> = self
            .tables()
            .passkeys
            .iter()
            .filter(|p| p.user_id == user)
            .cloned()
            .collect();
        passkeys.sort_by_key(|p| (p.created_at, p.id.to_string()));
        Ok(passkeys)
    }

    async fn find_by_credential(
        &self,
        credential: &CredentialId,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        Ok(self
            .tables()
            .passkeys
            .iter()
            .find(|p| &p.credential_id == credential)
            .cloned())
    }

    async fn insert(
        &self,
        passkey: &StoredPasskey,
        event: &SecurityEvent,
    ) -> Result<(), PasskeyError> {
        let mut tables = self.tables();
        // The store maps every unique violation (credential id, or the id itself) to this error.
        if tables
            .passkeys
            .iter()
            .any(|p| p.credential_id == passkey.credential_id || p.id == passkey.id)
        {
            return Err(PasskeyError::AlreadyRegistered);
        }
        tables.passkeys.push(passkey.clone());
        tables.events.push(event.clone());
        Ok(())
    }

    async fn record_use(
        &self,
        id: PasskeyId,
        previous: &str,
        data: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(passkey) = tables
            .passkeys
            .iter_mut()
            .find(|p| p.id == id && p.data == previous)
        else {
            return Ok(false);
        };
        data.clone_into(&mut passkey.data);
        passkey.last_used_at = Some(at);
        Ok(true)
    }

    async fn delete(
        &self,
        user: UserId,
        id: PasskeyId,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let before = tables.passkeys.len();
        tables
            .passkeys
            .retain(|p| !(p.id == id && p.user_id == user));
        let removed = tables.passkeys.len() < before;
        if removed {
            tables.events.push(event.clone());
        }
        Ok(removed)
    }
}
