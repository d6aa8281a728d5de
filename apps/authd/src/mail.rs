//! The mailer the configuration asks for, and the outbox worker that drains queued emails through it.
//!
//! Emails are queued in the database in the same transaction as what they announce (a reset token), so
//! none is lost to a crash. Each instance runs one worker: it wakes when its own instance queues an email
//! and polls for everyone else's, claims due emails with a lease, sends them, and records the outcome. A
//! temporary failure is retried with backoff (5 s, 15 s, 45 s, ... up to 15 minutes) up to `max_attempts`;
//! a permanent one is given up at once. If the process dies mid-send, the lease runs out and another
//! attempt follows, so an email may in rare cases arrive twice but is never silently dropped.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use authd_identity::ports::Mailer;
use authd_identity::{MailFailure, OutgoingEmail};
use authd_kernel::StoreError;
use authd_mailer::{LogMailer, SmtpConfig, SmtpMailer, SmtpTls};
use authd_store::{QueuedEmail, Store};
use time::Duration;
use tokio::sync::Notify;

use crate::background::Shutdown;
use crate::config::{EmailSettings, SmtpSettings, SmtpTlsSetting};
use crate::state::AppClock;

/// SMTP when a host is configured, the log otherwise.
#[derive(Debug)]
pub enum AppMailer {
    /// A real mail server.
    Smtp(Box<SmtpMailer>),
    /// Development: emails go to the log.
    Log(LogMailer),
}

impl AppMailer {
    /// The mailer for these settings.
    ///
    /// # Errors
    /// A message when the SMTP settings cannot be used (e.g. no root certificates for TLS).
    pub fn from_settings(smtp: &SmtpSettings) -> Result<Self, String> {
        let Some(host) = &smtp.host else {
            tracing::warn!(
                "no SMTP host configured: emails are written to the log, links included"
            );
            return Ok(Self::Log(LogMailer));
        };
        let config = SmtpConfig {
            host: host.clone(),
            port: smtp.effective_port(),
            tls: match smtp.tls {
                SmtpTlsSetting::None => SmtpTls::None,
                SmtpTlsSetting::Starttls => SmtpTls::StartTls,
                SmtpTlsSetting::Tls => SmtpTls::Tls,
            },
            username: smtp.username.clone(),
            password: smtp.password.clone(),
            from: smtp.from.clone(),
            timeout: StdDuration::from_secs(smtp.timeout_secs.get().into()),
        };
        SmtpMailer::new(config)
            .map(|mailer| Self::Smtp(Box::new(mailer)))
            .map_err(|e| format!("smtp: {e}"))
    }
}

impl Mailer for AppMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailFailure> {
        match self {
            Self::Smtp(mailer) => mailer.send(email).await,
            Self::Log(mailer) => mailer.send(email).await,
        }
    }
}

/// Wakes this instance's worker when a request queued an email.
#[derive(Debug, Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    /// Something was queued.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// How long a claim lasts: longer than one delivery attempt can take.
const LEASE: Duration = Duration::minutes(2);
/// Emails claimed per round.
const BATCH: i64 = 10;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::minutes(15);

/// Drains the outbox through a mailer.
#[derive(Debug)]
pub struct OutboxWorker<M> {
    store: Store,
    mailer: M,
    clock: AppClock,
    settings: EmailSettings,
    signal: OutboxSignal,
}

impl<M: Mailer> OutboxWorker<M> {
    /// A worker; run it with [`OutboxWorker::run`].
    pub fn new(
        store: Store,
        mailer: M,
        clock: AppClock,
        settings: EmailSettings,
        signal: OutboxSignal,
    ) -> Self {
        Self {
            store,
            mailer,
            clock,
            settings,
            signal,
        }
    }

    /// Until `shutdown`: send what is due, then sleep until woken or until the poll interval passes. A
    /// round of sending is never interrupted; shutdown takes effect between rounds.
    pub async fn run(self, shutdown: Shutdown) {
        let poll = StdDuration::from_millis(self.settings.poll_interval_ms.get().into());
        while !shutdown.is_triggered() {
            if let Err(err) = self.drain().await {
                tracing::warn!(error = %err, "email outbox unavailable; will retry");
            }
            tokio::select! {
                () = self.signal.0.notified() => {}
                () = tokio::time::sleep(poll) => {}
                () = shutdown.triggered() => {}
            }
        }
    }

    /// Sends every email due now.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn drain(&self) -> Result<(), StoreError> {
        loop {
            let claimed = self
                .store
                .claim_due_emails(self.clock.now(), LEASE, BATCH)
                .await?;
            if claimed.is_empty() {
                return Ok(());
            }
            for queued in claimed {
                self.deliver(queued).await?;
            }
        }
    }

    async fn deliver(&self, queued: QueuedEmail) -> Result<(), StoreError> {
        let request_id = queued.correlation.as_deref().unwrap_or("-");
        let outcome = self.mailer.send(&queued.email).await;
        let now = self.clock.now();
        match outcome {
            Ok(()) => {
                tracing::info!(request_id, email_id = %queued.id, attempts = queued.attempts, "email sent");
                self.store.mark_email_sent(&queued.id, now).await
            }
            Err(failure)
                if failure.permanent || queued.attempts >= self.settings.max_attempts.get() =>
            {
                tracing::error!(request_id, email_id = %queued.id, attempts = queued.attempts, reason = %failure.reason,
                    "email given up");
                self.store
                    .mark_email_failed(&queued.id, now, &failure.reason)
                    .await
            }
            Err(failure) => {
                let retry_at = now
                    + backoff(
                        Duration::seconds(self.settings.retry_base_secs.get().into()),
                        queued.attempts,
                    );
                tracing::warn!(request_id, email_id = %queued.id, attempts = queued.attempts, reason = %failure.reason,
                    %retry_at, "email not sent; will retry");
                self.store
                    .retry_email_later(&queued.id, retry_at, &failure.reason)
                    .await
            }
        }
    }
}

/// `base`, then three times longer after each failed attempt, capped at [`MAX_BACKOFF`].
fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 3_i32.saturating_pow(attempts.saturating_sub(1).min(10));
    base.saturating_mul(factor).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_triples_and_caps_at_fifteen_minutes() {
        let secs: Vec<i64> = (1..=7)
            .map(|a| backoff(Duration::seconds(5), a).whole_seconds())
            .collect();
        assert_eq!(secs, [5, 15, 45, 135, 405, 900, 900]);
    }
}
