//! The mail adapter of authd: the identity domain's [`Mailer`](authd_identity::ports::Mailer) port over
//! SMTP ([`SmtpMailer`]), and [`LogMailer`], which only logs, for development without a mail server.

mod log;
mod smtp;

pub use log::LogMailer;
pub use smtp::{SmtpConfig, SmtpConfigError, SmtpMailer, SmtpTls};
