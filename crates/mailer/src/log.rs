//! A mailer that writes each email to the log instead of sending it.

use authd_identity::ports::Mailer;
use authd_identity::{MailFailure, OutgoingEmail};

/// Logs every email (recipient, subject and text part) at `info` instead of sending it.
///
/// For development only, when no SMTP server is configured: the text part carries one-time links (a
/// password reset link works for whoever reads the log), so never use it in production.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

impl Mailer for LogMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailFailure> {
        tracing::info!(
            to = %email.to,
            subject = %email.subject,
            text = %email.text,
            "email logged, not sent (development mailer)"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use authd_identity::Email;

    use super::*;

    /// Collects what the subscriber writes, to read it back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_log_holds_recipient_subject_and_link() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let email = OutgoingEmail {
            to: Email::parse("ada@example.com").unwrap(),
            subject: "Reset your password".to_owned(),
            text: "Open https://app.example.com/reset-password?token=abc123".to_owned(),
            html: "<p>unused</p>".to_owned(),
        };
        LogMailer.send(&email).await.unwrap();

        let logged = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("ada@example.com"), "{logged}");
        assert!(logged.contains("Reset your password"), "{logged}");
        assert!(
            logged.contains("https://app.example.com/reset-password?token=abc123"),
            "{logged}"
        );
    }
}
