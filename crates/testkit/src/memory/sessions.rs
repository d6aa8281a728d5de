//! Sessions, their refresh tokens and second-factor attempt counters.

use authd_kernel::{StoreError, TokenHash, UserId};
use authd_session::ports::SessionRepository;
use authd_session::{MfaStatus, RefreshRecord, Session, SessionId};
use time::OffsetDateTime;

use super::{MemoryStore, Tables};

impl MemoryStore {
    /// A copy of the stored session.
    pub fn session(&self, id: SessionId) -> Option<Session> {
        self.tables().session(id).cloned()
    }

    /// How many refresh tokens are stored.
    pub fn refresh_count(&self) -> usize {
        self.tables().refresh.len()
    }
}

impl Tables {
    fn session(&self, id: SessionId) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    /// The session if it is pending its second factor and not revoked.
    fn open_pending(&mut self, id: SessionId) -> Option<&mut Session> {
        self.sessions
            .iter_mut()
            .find(|s| s.id == id && s.mfa == MfaStatus::Pending && s.revoked_at.is_none())
    }

    /// Revokes the user's live sessions; revoked ones keep their first revocation time.
    pub(super) fn revoke_sessions_of(&mut self, user: UserId, now: OffsetDateTime) {
        for session in self.sessions.iter_mut().filter(|s| s.user_id == user) {
            session.revoked_at.get_or_insert(now);
        }
    }
}

impl SessionRepository for MemoryStore {
    async fn create(
        &self,
        session: &Session,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        tables.sessions.push(session.clone());
        tables.refresh.extend(refresh.cloned());
        Ok(())
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        Ok(self.session(id))
    }

    async fn find_refresh(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(RefreshRecord, Session)>, StoreError> {
        let tables = self.tables();
        let Some(record) = tables.refresh.iter().find(|r| &r.hash == hash) else {
            return Ok(None);
        };
        Ok(tables
            .session(record.session_id)
            .map(|session| (record.clone(), session.clone())))
    }

    async fn rotate_refresh(
        &self,
        old: &TokenHash,
        new: &RefreshRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(record) = tables
            .refresh
            .iter_mut()
            .find(|r| &r.hash == old && r.used_at.is_none())
        else {
            return Ok(false);
        };
        record.used_at = Some(now);
        tables.refresh.push(new.clone());
        if let Some(session) = tables.sessions.iter_mut().find(|s| s.id == new.session_id) {
            session.expires_at = new.expires_at;
        }
        Ok(true)
    }

    async fn promote(&self, id: SessionId, refresh: &RefreshRecord) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(session) = tables.open_pending(id) else {
            return Ok(false);
        };
        session.mfa = MfaStatus::Verified;
        session.expires_at = refresh.expires_at;
        tables.refresh.push(refresh.clone());
        Ok(true)
    }

    async fn reserve_mfa_attempt(
        &self,
        id: SessionId,
        limit: u32,
    ) -> Result<Option<u32>, StoreError> {
        let mut tables = self.tables();
        if tables.open_pending(id).is_none() {
            return Ok(None);
        }
        let count = tables.mfa_failures.entry(id).or_default();
        if *count >= limit {
            return Ok(None);
        }
        *count += 1;
        Ok(Some(*count))
    }

    async fn revoke(&self, id: SessionId, now: OffsetDateTime) -> Result<(), StoreError> {
        if let Some(session) = self.tables().sessions.iter_mut().find(|s| s.id == id) {
            session.revoked_at.get_or_insert(now);
        }
        Ok(())
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.tables().revoke_sessions_of(user, now);
        Ok(())
    }
}
