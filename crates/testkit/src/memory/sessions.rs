//! Sessions, their refresh tokens and second-factor attempt counters.

use authd_kernel::{Client, DetailValue, SecurityEvent, StoreError, TokenHash, UserId};
use authd_session::ports::SessionRepository;
use authd_session::{MfaStatus, RefreshRecord, Session, SessionId};
use time::OffsetDateTime;

use super::{MemoryStore, Tables};

impl MemoryStore {
    /// A copy of the stored session.
    pub fn session(&self, id: SessionId) -> Option<Session> {
        self.tables().session(id).cloned()
    }

    /// Copies of every stored session of `user`, ended ones included, oldest first.
    pub fn sessions_of(&self, user: UserId) -> Vec<Session> {
        self.tables()
            .sessions
            .iter()
            .filter(|s| s.user_id == user)
            .cloned()
            .collect()
    }

    /// How many refresh tokens are stored.
    pub fn refresh_count(&self) -> usize {
        self.tables().refresh.len()
    }
}

impl Tables {
    /// The sessions live at `now` that `pick` chooses.
    fn live_mut(
        &mut self,
        pick: impl Fn(&Session) -> bool,
        now: OffsetDateTime,
    ) -> impl Iterator<Item = &mut Session> {
        self.sessions
            .iter_mut()
            .filter(move |s| s.is_live(now) && pick(s))
    }

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
        event: Option<&SecurityEvent>,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        tables.sessions.push(session.clone());
        tables.refresh.extend(refresh.cloned());
        tables.events.extend(event.cloned());
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
        client: &Client,
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
            session.last_used_at = now;
            session.client = client.clone();
        }
        Ok(true)
    }

    async fn promote(
        &self,
        id: SessionId,
        refresh: &RefreshRecord,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(session) = tables.open_pending(id) else {
            return Ok(false);
        };
        session.mfa = MfaStatus::Verified;
        session.expires_at = refresh.expires_at;
        session.authenticated_at = now;
        session.last_used_at = now;
        tables.refresh.push(refresh.clone());
        tables.events.push(event.clone());
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

    async fn revoke(
        &self,
        id: SessionId,
        now: OffsetDateTime,
        event: Option<&SecurityEvent>,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        let Some(session) = tables
            .sessions
            .iter_mut()
            .find(|s| s.id == id && s.revoked_at.is_none())
        else {
            return Ok(());
        };
        session.revoked_at = Some(now);
        tables.events.extend(event.cloned());
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

    async fn record_authentication(
        &self,
        id: SessionId,
        at: OffsetDateTime,
        client: &Client,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(session) = tables.live_mut(|s| s.id == id, at).next() else {
            return Ok(false);
        };
        session.authenticated_at = at;
        session.last_used_at = at;
        session.client = client.clone();
        tables.events.push(event.clone());
        Ok(true)
    }

    async fn live_sessions_of(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
        let mut live: Vec<Session> = self
            .tables()
            .sessions
            .iter()
            .filter(|s| s.user_id == user && s.is_live(now))
            .cloned()
            .collect();
        live.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
        Ok(live)
    }

    async fn revoke_of_user(
        &self,
        user: UserId,
        id: SessionId,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        let Some(session) = tables
            .live_mut(|s| s.id == id && s.user_id == user, now)
            .next()
        else {
            return Ok(false);
        };
        session.revoked_at = Some(now);
        tables.events.push(event.clone());
        Ok(true)
    }

    async fn revoke_others(
        &self,
        user: UserId,
        keep: SessionId,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<u64, StoreError> {
        let mut tables = self.tables();
        let mut revoked = 0;
        for session in tables.live_mut(|s| s.user_id == user && s.id != keep, now) {
            session.revoked_at = Some(now);
            revoked += 1;
        }
        let event = event.clone().with("count", DetailValue::Count(revoked));
        tables.events.push(event);
        Ok(revoked)
    }
}
