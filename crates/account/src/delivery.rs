//! Email delivery: drains the outbox through the mailer. Each email is claimed with a lease, sent, and its
//! outcome recorded; a temporary failure is retried with backoff (the base, then three times longer after
//! each failure, at most [`MAX_BACKOFF`]) up to the policy's attempts; a permanent one is given up at once.
//! If a process dies mid-send, the lease runs out and another attempt follows, so an email may in rare cases
//! arrive twice but is never silently dropped.

use authd_identity::ports::Mailer;
use authd_kernel::Clock;
use time::Duration;

use crate::AccountError;
use crate::ports::{Outbox, QueuedEmail};

/// How long a claim lasts: longer than one delivery attempt can take.
pub const LEASE: Duration = Duration::minutes(2);
/// Emails claimed per round.
const BATCH: usize = 10;
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::minutes(15);

/// How hard delivery tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Attempts before a temporarily failing email is given up.
    pub max_attempts: u32,
    /// The wait after the first failed attempt.
    pub retry_base: Duration,
}

/// Delivers queued emails through a mailer.
#[derive(Debug, Clone)]
pub struct EmailDelivery<O, M, C> {
    outbox: O,
    mailer: M,
    clock: C,
    policy: DeliveryPolicy,
}

impl<O: Outbox, M: Mailer, C: Clock> EmailDelivery<O, M, C> {
    /// Delivery from `outbox` through `mailer`.
    pub fn new(outbox: O, mailer: M, clock: C, policy: DeliveryPolicy) -> Self {
        Self {
            outbox,
            mailer,
            clock,
            policy,
        }
    }

    /// Sends every email due now, round after round until none is left; returns how many were attempted.
    ///
    /// # Errors
    /// A storage failure (the emails not yet attempted stay due).
    pub async fn send_due(&self) -> Result<usize, AccountError> {
        let mut attempted = 0;
        loop {
            let claimed = self
                .outbox
                .claim_due(self.clock.now(), LEASE, BATCH)
                .await?;
            if claimed.is_empty() {
                return Ok(attempted);
            }
            attempted += claimed.len();
            for queued in claimed {
                self.deliver(queued).await?;
            }
        }
    }

    async fn deliver(&self, queued: QueuedEmail) -> Result<(), AccountError> {
        let request_id = queued.correlation.as_deref().unwrap_or("-");
        let outcome = self.mailer.send(&queued.email).await;
        let now = self.clock.now();
        let id = queued.id.as_str();
        let attempts = queued.attempts;
        match outcome {
            Ok(()) => {
                tracing::info!(request_id, email_id = id, attempts, "email sent");
                self.outbox.mark_sent(id, now).await?;
            }
            Err(failure) if failure.permanent || attempts >= self.policy.max_attempts => {
                tracing::error!(request_id, email_id = id, attempts, reason = %failure.reason,
                    "email given up");
                self.outbox.give_up(id, now, &failure.reason).await?;
            }
            Err(failure) => {
                let retry_at = now + backoff(self.policy.retry_base, attempts);
                tracing::warn!(request_id, email_id = id, attempts, reason = %failure.reason,
                    %retry_at, "email not sent; will retry");
                self.outbox
                    .retry_later(id, retry_at, &failure.reason)
                    .await?;
            }
        }
        Ok(())
    }
}

/// `base`, then three times longer after each failed attempt, capped at [`MAX_BACKOFF`].
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 3_i32.saturating_pow(attempts.saturating_sub(1).min(10));
    base.saturating_mul(factor).min(MAX_BACKOFF)
}
