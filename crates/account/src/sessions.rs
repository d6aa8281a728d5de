//! The sessions a user can see and end.

use authd_kernel::{Client, Secret, SecurityEvent, UserId};

use crate::ports::{EventCursor, SecurityLog as _};
use authd_session::{Authenticated, Session, SessionId};

use crate::{AccountError, Accounts, Ports};

/// A session ended by its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The session making the request: the caller is signed out.
    Current,
    /// Another of the caller's sessions.
    Other,
}

impl<P: Ports> Accounts<P> {
    /// The caller's live sessions (pending ones included), newest first.
    ///
    /// # Errors
    /// Storage.
    pub async fn sessions_of(&self, caller: &Authenticated) -> Result<Vec<Session>, AccountError> {
        Ok(self.domains.sessions.live_sessions(caller.user_id).await?)
    }

    /// Ends one of the caller's live sessions.
    ///
    /// # Errors
    /// [`AccountError::SessionNotFound`] for an unknown id, another user's session or one already ended;
    /// storage.
    pub async fn revoke_session(
        &self,
        caller: &Authenticated,
        id: SessionId,
        client: &Client,
    ) -> Result<Revoked, AccountError> {
        if !self
            .domains
            .sessions
            .revoke_session(caller.user_id, id, client)
            .await?
        {
            return Err(AccountError::SessionNotFound);
        }
        self.forget_ceremonies_of(caller.user_id).await?;
        Ok(if id == caller.session_id {
            Revoked::Current
        } else {
            Revoked::Other
        })
    }

    /// Ends every live session of the caller but the current one; returns how many ended.
    ///
    /// # Errors
    /// Storage.
    pub async fn revoke_other_sessions(
        &self,
        caller: &Authenticated,
        client: &Client,
    ) -> Result<u64, AccountError> {
        let revoked = self
            .domains
            .sessions
            .revoke_other_sessions(caller.user_id, caller.session_id, client)
            .await?;
        self.forget_ceremonies_of(caller.user_id).await?;
        Ok(revoked)
    }

    /// Sets a new password with an emailed reset token: every session of the account ends, and with them
    /// its link flows and passkey registrations in flight. Returns whose password changed.
    ///
    /// # Errors
    /// The identity domain's reset errors (weak password, unknown/used/expired token, busy hasher), storage.
    pub async fn reset_password(
        &self,
        token: &Secret,
        new_password: Secret,
        client: &Client,
    ) -> Result<UserId, AccountError> {
        let user = self
            .domains
            .resets
            .reset(token, new_password, client)
            .await?;
        self.forget_ceremonies_of(user).await?;
        Ok(user)
    }

    /// Drops what a user began in sessions that ended: link flows (bound to a session already, so this is
    /// housekeeping) and passkey registrations (which a new session would not finish).
    pub(crate) async fn forget_ceremonies_of(&self, user: UserId) -> Result<(), AccountError> {
        self.domains.oauth.forget_link_flows(user).await?;
        self.domains.passkeys.forget_registrations(user).await?;
        Ok(())
    }
}

/// A page of the security log and where the next one starts.
#[derive(Debug)]
pub struct EventPage {
    /// Newest first.
    pub events: Vec<SecurityEvent>,
    /// The position after the last of them, when there may be more.
    pub next: Option<EventCursor>,
}

impl<P: Ports> Accounts<P> {
    /// Up to `limit` of the caller's events, newest first, strictly before `before`.
    ///
    /// # Errors
    /// Storage.
    pub async fn events_of(
        &self,
        caller: &Authenticated,
        before: Option<EventCursor>,
        limit: usize,
    ) -> Result<EventPage, AccountError> {
        // One more than asked says whether there is a next page without a second query.
        let mut events = self
            .log
            .events_of(caller.user_id, before, limit + 1)
            .await?;
        let more = events.len() > limit;
        events.truncate(limit);
        let next = more
            .then(|| events.last().map(|e| EventCursor { at: e.at, id: e.id }))
            .flatten();
        Ok(EventPage { events, next })
    }
}
