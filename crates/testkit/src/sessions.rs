//! An in-memory session repository.

use std::sync::{Arc, Mutex, PoisonError};

use authd_kernel::{StoreError, TokenHash, UserId};
use authd_session::ports::SessionRepository;
use authd_session::{MfaStatus, RefreshRecord, Session, SessionId};
use time::OffsetDateTime;

#[derive(Debug, Default)]
struct State {
    sessions: Vec<Session>,
    refresh: Vec<RefreshRecord>,
    mfa_failures: Vec<(SessionId, u32)>,
}

/// Sessions and refresh tokens in vectors; clones share the data.
#[derive(Debug, Clone, Default)]
pub struct MemorySessions(Arc<Mutex<State>>);

impl MemorySessions {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the stored session.
    pub fn session(&self, id: SessionId) -> Option<Session> {
        self.state().sessions.iter().find(|s| s.id == id).cloned()
    }

    /// How many refresh tokens are stored.
    pub fn refresh_count(&self) -> usize {
        self.state().refresh.len()
    }
}

impl SessionRepository for MemorySessions {
    async fn create(
        &self,
        session: &Session,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        state.sessions.push(session.clone());
        state.refresh.extend(refresh.cloned());
        Ok(())
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        Ok(self.session(id))
    }

    async fn find_refresh(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(RefreshRecord, Session)>, StoreError> {
        let state = self.state();
        let record = state.refresh.iter().find(|r| &r.hash == hash).cloned();
        Ok(record.and_then(|r| {
            let session = state
                .sessions
                .iter()
                .find(|s| s.id == r.session_id)
                .cloned()?;
            Some((r, session))
        }))
    }

    async fn rotate_refresh(
        &self,
        old: &TokenHash,
        new: &RefreshRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(record) = state
            .refresh
            .iter_mut()
            .find(|r| &r.hash == old && r.used_at.is_none())
        else {
            return Ok(false);
        };
        record.used_at = Some(now);
        state.refresh.push(new.clone());
        if let Some(session) = state.sessions.iter_mut().find(|s| s.id == new.session_id) {
            session.expires_at = new.expires_at;
        }
        Ok(true)
    }

    async fn promote(&self, id: SessionId, refresh: &RefreshRecord) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(session) = state
            .sessions
            .iter_mut()
            .find(|s| s.id == id && s.mfa == MfaStatus::Pending && s.revoked_at.is_none())
        else {
            return Ok(false);
        };
        session.mfa = MfaStatus::Verified;
        session.expires_at = refresh.expires_at;
        state.refresh.push(refresh.clone());
        Ok(true)
    }

    async fn reserve_mfa_attempt(
        &self,
        id: SessionId,
        limit: u32,
    ) -> Result<Option<u32>, StoreError> {
        let mut state = self.state();
        let open = state
            .sessions
            .iter()
            .any(|s| s.id == id && s.mfa == MfaStatus::Pending && s.revoked_at.is_none());
        if !open {
            return Ok(None);
        }
        let count = match state.mfa_failures.iter_mut().find(|(s, _)| *s == id) {
            Some((_, count)) if *count >= limit => return Ok(None),
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                state.mfa_failures.push((id, 1));
                1
            }
        };
        Ok(Some(count))
    }

    async fn revoke(&self, id: SessionId, now: OffsetDateTime) -> Result<(), StoreError> {
        if let Some(session) = self.state().sessions.iter_mut().find(|s| s.id == id) {
            session.revoked_at.get_or_insert(now);
        }
        Ok(())
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        for session in self
            .state()
            .sessions
            .iter_mut()
            .filter(|s| s.user_id == user)
        {
            session.revoked_at.get_or_insert(now);
        }
        Ok(())
    }
}
