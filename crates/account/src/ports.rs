//! The ports this layer adds to the domains' own: counters for the throttling policy, and the outbox that
//! email delivery drains.

use std::future::Future;

use authd_identity::OutgoingEmail;
use authd_kernel::{EventId, SecurityEvent, StoreError, UserId};
use time::{Duration, OffsetDateTime};

/// A bucket's state in its current fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    /// Hits counted in the current window, this one included.
    pub hits: u32,
    /// When the current window ends and the count starts again from zero.
    pub resets_at: OffsetDateTime,
}

/// Fixed-window counters shared by every instance of the service.
pub trait RateLimiter: Send + Sync {
    /// Counts one hit in `bucket` and returns the window's state. A bucket with no window, or whose window
    /// (`window` long) has run out by `now`, starts a new one at `now` holding this hit.
    ///
    /// # Errors
    /// A storage failure. MUST count every one of concurrent hits exactly once.
    fn hit(
        &self,
        bucket: &str,
        window: Duration,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<RateWindow, StoreError>> + Send;

    /// Forgets `bucket`: its next hit starts a new window.
    ///
    /// # Errors
    /// A storage failure.
    fn clear(&self, bucket: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An email claimed from the outbox for one delivery attempt.
#[derive(Debug, Clone)]
pub struct QueuedEmail {
    /// The outbox entry.
    pub id: String,
    /// The message.
    pub email: OutgoingEmail,
    /// The request that queued it, for the logs.
    pub correlation: Option<String>,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

/// The emails queued (in the transaction of what they announce) and not yet delivered or given up.
pub trait Outbox: Send + Sync {
    /// Claims up to `limit` emails due by `now` (never sent, never given up, next attempt due, no live
    /// claim) for `lease`, counting the attempt. Oldest due first.
    ///
    /// # Errors
    /// A storage failure. MUST hand an email to one claimant only while its claim lasts, even to
    /// concurrent workers on other instances.
    fn claim_due(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<QueuedEmail>, StoreError>> + Send;

    /// Records a delivery. MUST erase the bodies (they may hold a one-time link); never claimed again.
    ///
    /// # Errors
    /// A storage failure.
    fn mark_sent(
        &self,
        id: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Gives up on an email (a permanent failure, or too many attempts) with the reason. MUST erase the
    /// bodies; never claimed again.
    ///
    /// # Errors
    /// A storage failure.
    fn give_up(
        &self,
        id: &str,
        at: OffsetDateTime,
        reason: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Releases the claim after a temporary failure: the email is due again at `next_attempt_at`.
    ///
    /// # Errors
    /// A storage failure.
    fn retry_later(
        &self,
        id: &str,
        next_attempt_at: OffsetDateTime,
        reason: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A position in a user's security log: events strictly older than it come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventCursor {
    /// The time of the last event seen.
    pub at: OffsetDateTime,
    /// Its id (events at the same time are ordered by id).
    pub id: EventId,
}

/// The security log: events written with the changes they record (by the repositories), events that
/// record no change (a failed sign-in), and the user's view of it.
pub trait SecurityLog: Send + Sync {
    /// Records an event that goes with no other write.
    ///
    /// # Errors
    /// A storage failure.
    fn record(&self, event: &SecurityEvent) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` of `user`'s events, newest first (by time, then id), strictly before `before` when
    /// given. MUST return only `user`'s events, whatever the cursor.
    ///
    /// # Errors
    /// A storage failure.
    fn events_of(
        &self,
        user: UserId,
        before: Option<EventCursor>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<SecurityEvent>, StoreError>> + Send;
}
