//! The ports the session use cases need.

use std::future::Future;

use authd_kernel::{Client, SecurityEvent, StoreError, TokenHash, UserId};
use time::OffsetDateTime;

use crate::{RefreshRecord, Session, SessionId, StoredSigningKey};

/// Storage of sessions and their refresh tokens.
pub trait SessionRepository: Send + Sync {
    /// Inserts a session and, for a full session, its first refresh token, all or nothing.
    ///
    /// Records `event` (if any) in the same transaction.
    ///
    /// # Errors
    /// A storage failure.
    fn create(
        &self,
        session: &Session,
        refresh: Option<&RefreshRecord>,
        event: Option<&SecurityEvent>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session with this id.
    ///
    /// # Errors
    /// A storage failure.
    fn find(
        &self,
        id: SessionId,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;

    /// The refresh token with this hash and its session.
    ///
    /// # Errors
    /// A storage failure.
    fn find_refresh(
        &self,
        hash: &TokenHash,
    ) -> impl Future<Output = Result<Option<(RefreshRecord, Session)>, StoreError>> + Send;

    /// Marks `old` used at `now`, inserts `new`, moves the session's expiry to `new.expires_at` and records
    /// the use (`last_used_at = now`, `client`), all or nothing.
    ///
    /// # Errors
    /// MUST return `Ok(false)`, writing nothing, when `old` was already used (a concurrent or repeated
    /// exchange), so the caller can treat it as reuse.
    fn rotate_refresh(
        &self,
        old: &TokenHash,
        new: &RefreshRecord,
        now: OffsetDateTime,
        client: &Client,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Turns a live pending session into a verified one: sets its MFA status to verified, moves its expiry
    /// to `refresh.expires_at`, records the factor proven (`authenticated_at = last_used_at = now`) and
    /// stores its first refresh token, all or nothing.
    ///
    /// Records `event` in the same transaction, only when it promoted.
    ///
    /// # Errors
    /// MUST return `Ok(false)`, writing nothing, when the session is not pending (any more) or is revoked.
    fn promote(
        &self,
        id: SessionId,
        refresh: &RefreshRecord,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Counts one second-factor attempt against a pending, unrevoked session, atomically and only while
    /// fewer than `limit` were counted; returns the new count, or `None` (nothing counted) otherwise.
    ///
    /// # Errors
    /// A storage failure.
    fn reserve_mfa_attempt(
        &self,
        id: SessionId,
        limit: u32,
    ) -> impl Future<Output = Result<Option<u32>, StoreError>> + Send;

    /// Revokes one session (idempotent).
    ///
    /// Records `event` (if any) in the same transaction, only when it revoked (not when already revoked).
    ///
    /// # Errors
    /// A storage failure.
    fn revoke(
        &self,
        id: SessionId,
        now: OffsetDateTime,
        event: Option<&SecurityEvent>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Revokes every live session of a user (password reset).
    ///
    /// # Errors
    /// A storage failure.
    fn revoke_all_for_user(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records a factor proven again in a live session: `authenticated_at = last_used_at = at`, `client`.
    ///
    /// Records `event` in the same transaction, only when it recorded the authentication.
    ///
    /// # Errors
    /// A storage failure. MUST return `Ok(false)`, writing nothing, when the session is revoked or expired
    /// at `at`.
    fn record_authentication(
        &self,
        id: SessionId,
        at: OffsetDateTime,
        client: &Client,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The user's sessions live at `now` (not revoked, not expired), pending ones included, newest first.
    ///
    /// # Errors
    /// A storage failure.
    fn live_sessions_of(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<Session>, StoreError>> + Send;

    /// Revokes the session `id` if it is a live session of `user`.
    ///
    /// Records `event` in the same transaction, only when it revoked.
    ///
    /// # Errors
    /// A storage failure. MUST return `Ok(false)`, writing nothing, for an unknown id, another user's
    /// session, or one already ended.
    fn revoke_of_user(
        &self,
        user: UserId,
        id: SessionId,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes every live session of `user` but `keep`; returns how many it revoked.
    ///
    /// Records `event` in the same transaction, with a `count` of the sessions it revoked appended to its
    /// detail.
    ///
    /// # Errors
    /// A storage failure.
    fn revoke_others(
        &self,
        user: UserId,
        keep: SessionId,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Storage of the token signing keys.
pub trait SigningKeyRepository: Send + Sync {
    /// Every stored key. When there is none, stores `candidate` first; when several instances start at once,
    /// exactly one candidate wins and all of them read the same keys back.
    ///
    /// # Errors
    /// A storage failure.
    fn load_or_insert(
        &self,
        candidate: &StoredSigningKey,
    ) -> impl Future<Output = Result<Vec<StoredSigningKey>, StoreError>> + Send;
}
