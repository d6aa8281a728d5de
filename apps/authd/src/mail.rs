//! The mailer the configuration asks for, and the outbox worker that drains queued emails through it.
//!
//! Emails are queued in the database in the same transaction as what they announce (a reset token), so
//! none is lost to a crash. Each instance runs one worker: it wakes when its own instance queues an email
//! and polls for everyone else's; what a round does (claim with a lease, send, record, back off) is
//! `authd_account::EmailDelivery`.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use authd_account::{AccountError, DeliveryPolicy, EmailDelivery};
use authd_identity::ports::Mailer;
use authd_identity::{MailFailure, OutgoingEmail};
use authd_mailer::{LogMailer, SmtpConfig, SmtpMailer, SmtpTls};
use authd_store::Store;
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

/// Drains the outbox through a mailer: the delivery rules are the application's ([`EmailDelivery`]); this
/// is the loop that runs them on this instance.
#[derive(Debug)]
pub struct OutboxWorker<M> {
    delivery: EmailDelivery<Store, M, AppClock>,
    poll: StdDuration,
    signal: OutboxSignal,
}

impl<M: Mailer> OutboxWorker<M> {
    /// A worker; run it with [`OutboxWorker::run`].
    pub fn new(
        store: Store,
        mailer: M,
        clock: AppClock,
        settings: &EmailSettings,
        signal: OutboxSignal,
    ) -> Self {
        let policy = DeliveryPolicy {
            max_attempts: settings.max_attempts.get(),
            retry_base: Duration::seconds(settings.retry_base_secs.get().into()),
        };
        Self {
            delivery: EmailDelivery::new(store, mailer, clock, policy),
            poll: StdDuration::from_millis(settings.poll_interval_ms.get().into()),
            signal,
        }
    }

    /// Until `shutdown`: send what is due, then sleep until woken or until the poll interval passes. A
    /// round of sending is never interrupted; shutdown takes effect between rounds.
    pub async fn run(self, shutdown: Shutdown) {
        while !shutdown.is_triggered() {
            if let Err(err) = self.drain().await {
                tracing::warn!(error = %err, "email outbox unavailable; will retry");
            }
            tokio::select! {
                () = self.signal.0.notified() => {}
                () = tokio::time::sleep(self.poll) => {}
                () = shutdown.triggered() => {}
            }
        }
    }

    /// Sends every email due now.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn drain(&self) -> Result<(), AccountError> {
        self.delivery.send_due().await.map(drop)
    }
}
