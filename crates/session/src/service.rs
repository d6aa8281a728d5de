//! The session use cases: start, refresh, authenticate, revoke.

use authd_kernel::{
    Client, Clock, EventKind, OpaqueToken, Random, Secret, SecurityEvent, TokenHash, UserId,
};
use time::{Duration, OffsetDateTime};

use crate::ports::SessionRepository;
use crate::token::issue;
use crate::{
    AccessClaims, KeyRing, MfaStatus, RefreshRecord, Session, SessionError, SessionId, SignInMethod,
};

/// Lifetimes, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Access token lifetime (default 15 minutes).
    pub access_ttl: Duration,
    /// Refresh token lifetime; also how long an idle session lives (default 30 days).
    pub refresh_ttl: Duration,
    /// Lifetime of a session waiting for its second factor (default 5 minutes).
    pub pending_ttl: Duration,
    /// How long a session lives from sign-in, however often it is refreshed (default 90 days).
    pub max_lifetime: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            pending_ttl: Duration::minutes(5),
            max_lifetime: Duration::days(90),
        }
    }
}

/// The tokens of a complete sign-in: an access token and the refresh token that renews it.
#[derive(Debug, Clone)]
pub struct SessionTokens {
    /// The session they belong to.
    pub session_id: SessionId,
    /// Whose.
    pub user_id: UserId,
    /// How the session satisfied MFA: `NotEnrolled` or `Verified`, never `Pending`.
    pub mfa: MfaStatus,
    /// The Biscuit access token.
    pub access_token: Secret,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The refresh token.
    pub refresh_token: Secret,
    /// Seconds until the refresh token expires (never past the session's absolute end).
    pub refresh_expires_in: i64,
}

/// The one token of a sign-in waiting for its second factor: good only to present that factor, never
/// refreshed.
#[derive(Debug, Clone)]
pub struct PendingTokens {
    /// The pending session.
    pub session_id: SessionId,
    /// Whose.
    pub user_id: UserId,
    /// The Biscuit access token, with `mfa = pending`.
    pub access_token: Secret,
    /// Seconds until it (and its session) expires.
    pub expires_in: i64,
}

/// A request's verified identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// The user.
    pub user_id: UserId,
    /// The session.
    pub session_id: SessionId,
    /// Whether MFA is satisfied.
    pub mfa: MfaStatus,
    /// When a factor was last proven in the session (for step-up).
    pub authenticated_at: OffsetDateTime,
}

/// One second-factor attempt on a pending session, counted before its code is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaAttempt {
    /// The pending session.
    pub session_id: SessionId,
    /// Which attempt this is (1-based).
    pub number: u32,
    /// The most the session allows.
    pub limit: u32,
}

/// The session use cases over their ports.
#[derive(Debug, Clone)]
pub struct SessionService<S, C, R> {
    sessions: S,
    keys: KeyRing,
    policy: SessionPolicy,
    clock: C,
    random: R,
}

impl<S, C, R> SessionService<S, C, R>
where
    S: SessionRepository,
    C: Clock,
    R: Random,
{
    /// Wires the use cases.
    pub fn new(sessions: S, keys: KeyRing, policy: SessionPolicy, clock: C, random: R) -> Self {
        Self {
            sessions,
            keys,
            policy,
            clock,
            random,
        }
    }

    /// The signing keys (for publishing the public halves).
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Starts a complete session for a user without MFA.
    ///
    /// # Errors
    /// Storage or token-construction failures.
    pub async fn start_single_factor(
        &self,
        user_id: UserId,
        client: &Client,
        method: SignInMethod,
    ) -> Result<SessionTokens, SessionError> {
        self.start_full(user_id, MfaStatus::NotEnrolled, client, method)
            .await
    }

    /// Starts a complete session whose sign-in proved a second factor (a user-verified passkey).
    ///
    /// # Errors
    /// Storage or token-construction failures.
    pub async fn start_verified(
        &self,
        user_id: UserId,
        client: &Client,
    ) -> Result<SessionTokens, SessionError> {
        self.start_full(user_id, MfaStatus::Verified, client, SignInMethod::Passkey)
            .await
    }

    /// Starts a session that waits for the user's second factor: it lives `pending_ttl` and gets no refresh
    /// token.
    ///
    /// # Errors
    /// Storage or token-construction failures.
    pub async fn start_pending(
        &self,
        user_id: UserId,
        client: &Client,
        method: SignInMethod,
    ) -> Result<PendingTokens, SessionError> {
        let now = self.clock.now();
        let expires_at = now + self.policy.pending_ttl;
        let session = self.new_session(user_id, MfaStatus::Pending, expires_at, client, method);
        // Signed in only once the second factor is proven: `complete_mfa` records it.
        self.sessions.create(&session, None, None).await?;
        let (access_token, expires_in) = self.access_token(&session, now)?;
        Ok(PendingTokens {
            session_id: session.id,
            user_id,
            access_token,
            expires_in,
        })
    }

    async fn start_full(
        &self,
        user_id: UserId,
        mfa: MfaStatus,
        client: &Client,
        method: SignInMethod,
    ) -> Result<SessionTokens, SessionError> {
        let now = self.clock.now();
        let mut session = self.new_session(user_id, mfa, now, client, method);
        let refresh = OpaqueToken::generate(&self.random);
        let record = self.refresh_record(&refresh.hash, &session, now);
        session.expires_at = record.expires_at;
        let signed_in = self.signed_in(&session, mfa == MfaStatus::Verified);
        self.sessions
            .create(&session, Some(&record), Some(&signed_in))
            .await?;
        self.tokens_for(&session, now, refresh.secret, &record)
    }

    fn new_session(
        &self,
        user_id: UserId,
        mfa: MfaStatus,
        expires_at: OffsetDateTime,
        client: &Client,
        method: SignInMethod,
    ) -> Session {
        let now = self.clock.now();
        Session {
            id: SessionId::generate(&self.clock, &self.random),
            user_id,
            mfa,
            created_at: now,
            expires_at,
            revoked_at: None,
            authenticated_at: now,
            last_used_at: now,
            client: client.clone(),
            method,
        }
    }

    /// An event of `kind` for `user` from `client`, now.
    fn event(&self, kind: EventKind, user: UserId, client: &Client) -> SecurityEvent {
        SecurityEvent::new(kind, user, client, &self.clock, &self.random)
    }

    /// The `signed_in` event of a session that just became complete.
    fn signed_in(&self, session: &Session, mfa: bool) -> SecurityEvent {
        self.event(EventKind::SignedIn, session.user_id, &session.client)
            .with_text("method", session.method.as_str())
            .with_flag("mfa", mfa)
    }

    /// Exchanges a refresh token for a new pair. A token presented a second time revokes its session.
    ///
    /// # Errors
    /// [`SessionError::InvalidRefreshToken`], [`SessionError::RefreshTokenReused`], or a storage failure.
    pub async fn refresh(
        &self,
        presented: &Secret,
        client: &Client,
    ) -> Result<SessionTokens, SessionError> {
        let now = self.clock.now();
        let old = TokenHash::of(presented.expose());
        let Some((record, session)) = self.sessions.find_refresh(&old).await? else {
            return Err(SessionError::InvalidRefreshToken);
        };
        if record.used_at.is_some() {
            return self.revoke_for_reuse(&session, now, client).await;
        }
        if now >= record.expires_at || !session.is_live(now) || !session.mfa.is_satisfied() {
            return Err(SessionError::InvalidRefreshToken);
        }
        let next = OpaqueToken::generate(&self.random);
        let next_record = self.refresh_record(&next.hash, &session, now);
        if !self
            .sessions
            .rotate_refresh(&old, &next_record, now, client)
            .await?
        {
            // Someone exchanged the same token between our read and our write.
            return self.revoke_for_reuse(&session, now, client).await;
        }
        let renewed = Session {
            expires_at: next_record.expires_at,
            ..session
        };
        self.tokens_for(&renewed, now, next.secret, &next_record)
    }

    async fn revoke_for_reuse(
        &self,
        session: &Session,
        now: OffsetDateTime,
        client: &Client,
    ) -> Result<SessionTokens, SessionError> {
        tracing::warn!(session_id = %session.id, user_id = %session.user_id, "refresh token reuse detected; revoking the session");
        let reused = self.event(EventKind::RefreshTokenReused, session.user_id, client);
        self.sessions.revoke(session.id, now, Some(&reused)).await?;
        Err(SessionError::RefreshTokenReused)
    }

    /// Verifies an access token and checks that its session is still live.
    ///
    /// # Errors
    /// [`SessionError::InvalidAccessToken`], or a storage failure.
    pub async fn authenticate(&self, access_token: &str) -> Result<Authenticated, SessionError> {
        let now = self.clock.now();
        let claims = self.keys.verifier().verify(access_token, now)?;
        match self.sessions.find(claims.session_id).await? {
            // The token's own MFA claim counts: a pending token stays pending even after its session was
            // promoted (the promotion issued new tokens).
            Some(session) if session.is_live(now) && session.user_id == claims.user_id => {
                Ok(Authenticated {
                    user_id: claims.user_id,
                    session_id: claims.session_id,
                    mfa: claims.mfa,
                    authenticated_at: session.authenticated_at,
                })
            }
            _ => Err(SessionError::InvalidAccessToken),
        }
    }

    /// Ends the session named by the access token, or else by the refresh token, and says whose it was.
    /// Unknown or invalid tokens are ignored: logging out is idempotent.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn logout(
        &self,
        access_token: Option<&str>,
        refresh_token: Option<&Secret>,
        client: &Client,
    ) -> Result<Option<UserId>, SessionError> {
        let now = self.clock.now();
        // An expired access token still names its session: a genuine one is honoured, so a client whose
        // access token ran out can still sign out.
        let from_access = access_token
            .and_then(|t| self.keys.verifier().verify_ignoring_expiry(t).ok())
            .map(|c| (c.session_id, c.user_id));
        let session = match (from_access, refresh_token) {
            (Some(named), _) => Some(named),
            (None, Some(refresh)) => self
                .sessions
                .find_refresh(&TokenHash::of(refresh.expose()))
                .await?
                .map(|(_, session)| (session.id, session.user_id)),
            (None, None) => None,
        };
        if let Some((id, user)) = session {
            let signed_out = self.event(EventKind::SignedOut, user, client);
            self.sessions.revoke(id, now, Some(&signed_out)).await?;
        }
        Ok(session.map(|(_, user)| user))
    }

    /// Completes the second factor of a pending session: the session becomes verified and gets its first
    /// refresh token.
    ///
    /// # Errors
    /// [`SessionError::InvalidAccessToken`] when the session is gone, revoked, expired or not pending, or a
    /// storage failure.
    pub async fn complete_mfa(&self, id: SessionId) -> Result<SessionTokens, SessionError> {
        let now = self.clock.now();
        let session = self
            .sessions
            .find(id)
            .await?
            .ok_or(SessionError::InvalidAccessToken)?;
        if session.mfa != MfaStatus::Pending || !session.is_live(now) {
            return Err(SessionError::InvalidAccessToken);
        }
        let refresh = OpaqueToken::generate(&self.random);
        let record = self.refresh_record(&refresh.hash, &session, now);
        if !self
            .sessions
            .promote(id, &record, now, &self.signed_in(&session, true))
            .await?
        {
            return Err(SessionError::InvalidAccessToken);
        }
        let promoted = Session {
            mfa: MfaStatus::Verified,
            expires_at: record.expires_at,
            authenticated_at: now,
            ..session
        };
        self.tokens_for(&promoted, now, refresh.secret, &record)
    }

    /// Opens one second-factor attempt on a pending session, before its code is checked, so that however
    /// many arrive at once at most `limit` codes are ever checked per session. `None` when the session is
    /// not a live pending one or has used its `limit`.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn begin_mfa_attempt(
        &self,
        id: SessionId,
        limit: u32,
    ) -> Result<Option<MfaAttempt>, SessionError> {
        let number = self.sessions.reserve_mfa_attempt(id, limit).await?;
        Ok(number.map(|number| MfaAttempt {
            session_id: id,
            number,
            limit,
        }))
    }

    /// Records that the attempt's code was wrong: the last allowed attempt revokes the pending session.
    /// Returns whether it did.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn fail_mfa_attempt(&self, attempt: MfaAttempt) -> Result<bool, SessionError> {
        if attempt.number < attempt.limit {
            return Ok(false);
        }
        tracing::warn!(session_id = %attempt.session_id, failures = attempt.number, "too many wrong second-factor codes; revoking the pending session");
        self.sessions
            .revoke(attempt.session_id, self.clock.now(), None)
            .await?;
        Ok(true)
    }

    /// Records a factor proven again (by `method`) in the caller's live session (step-up): it is recent
    /// from now.
    ///
    /// # Errors
    /// [`SessionError::InvalidAccessToken`] when the session ended meanwhile, or a storage failure.
    pub async fn reauthenticated(
        &self,
        caller: &Authenticated,
        client: &Client,
        method: &'static str,
    ) -> Result<OffsetDateTime, SessionError> {
        let now = self.clock.now();
        let event = self
            .event(EventKind::Reauthenticated, caller.user_id, client)
            .with_text("method", method);
        if !self
            .sessions
            .record_authentication(caller.session_id, now, client, &event)
            .await?
        {
            return Err(SessionError::InvalidAccessToken);
        }
        Ok(now)
    }

    /// Whether the session can still be used.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn is_live(&self, id: SessionId) -> Result<bool, SessionError> {
        let now = self.clock.now();
        Ok(self
            .sessions
            .find(id)
            .await?
            .is_some_and(|s| s.is_live(now)))
    }

    /// The user's live sessions (pending ones included), newest first.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn live_sessions(&self, user: UserId) -> Result<Vec<Session>, SessionError> {
        Ok(self
            .sessions
            .live_sessions_of(user, self.clock.now())
            .await?)
    }

    /// Ends one of the user's live sessions; false when the user has no such live session.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn revoke_session(
        &self,
        user: UserId,
        id: SessionId,
        client: &Client,
    ) -> Result<bool, SessionError> {
        let event = self.event(EventKind::SessionRevoked, user, client);
        Ok(self
            .sessions
            .revoke_of_user(user, id, self.clock.now(), &event)
            .await?)
    }

    /// Ends every live session of the user but `keep`; returns how many ended.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn revoke_other_sessions(
        &self,
        user: UserId,
        keep: SessionId,
        client: &Client,
    ) -> Result<u64, SessionError> {
        let event = self
            .event(EventKind::SessionRevoked, user, client)
            .with_flag("others", true);
        Ok(self
            .sessions
            .revoke_others(user, keep, self.clock.now(), &event)
            .await?)
    }

    /// Revokes every session of a user.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn revoke_all(&self, user_id: UserId) -> Result<(), SessionError> {
        Ok(self
            .sessions
            .revoke_all_for_user(user_id, self.clock.now())
            .await?)
    }

    /// A refresh token for `session` issued at `now`: it lives `refresh_ttl`, never past the session's
    /// absolute end.
    fn refresh_record(
        &self,
        hash: &TokenHash,
        session: &Session,
        now: OffsetDateTime,
    ) -> RefreshRecord {
        let absolute_end = session.created_at + self.policy.max_lifetime;
        RefreshRecord {
            hash: hash.clone(),
            session_id: session.id,
            created_at: now,
            expires_at: (now + self.policy.refresh_ttl).min(absolute_end),
            used_at: None,
        }
    }

    fn tokens_for(
        &self,
        session: &Session,
        now: OffsetDateTime,
        refresh_token: Secret,
        refresh: &RefreshRecord,
    ) -> Result<SessionTokens, SessionError> {
        let (access_token, expires_in) = self.access_token(session, now)?;
        Ok(SessionTokens {
            session_id: session.id,
            user_id: session.user_id,
            mfa: session.mfa,
            access_token,
            expires_in,
            refresh_token,
            refresh_expires_in: (refresh.expires_at - now).whole_seconds(),
        })
    }

    /// An access token for `session` and its lifetime in seconds.
    fn access_token(
        &self,
        session: &Session,
        now: OffsetDateTime,
    ) -> Result<(Secret, i64), SessionError> {
        let ttl = if session.mfa.is_satisfied() {
            self.policy.access_ttl
        } else {
            self.policy.pending_ttl
        };
        // A pending token never outlives its session.
        let expires_at = (now + ttl).min(session.expires_at);
        let claims = AccessClaims {
            user_id: session.user_id,
            session_id: session.id,
            mfa: session.mfa,
            expires_at,
        };
        let token = issue(self.keys.active(), &claims)?;
        Ok((Secret::new(token), (expires_at - now).whole_seconds()))
    }
}
