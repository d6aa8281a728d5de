//! Email as the identity domain sees it: a message to send, and why sending failed.

use std::fmt;

use crate::Email;

/// A message for one recipient, with a plain-text and an HTML part.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The recipient.
    pub to: Email,
    /// Subject line.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

impl fmt::Debug for OutgoingEmail {
    /// Bodies may carry one-time links; they stay out of debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingEmail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Why a message could not be handed to the mail server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", if *.permanent { "permanent mail failure" } else { "temporary mail failure" })]
pub struct MailFailure {
    /// True when retrying cannot help (a 5xx answer, a refused recipient); false for a server that is down
    /// or a 4xx answer.
    pub permanent: bool,
    /// What happened, for the log. Never contains the message body.
    pub reason: String,
}

impl MailFailure {
    /// A failure worth retrying later.
    pub fn temporary(reason: impl Into<String>) -> Self {
        Self {
            permanent: false,
            reason: reason.into(),
        }
    }

    /// A failure retrying will not fix.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            permanent: true,
            reason: reason.into(),
        }
    }
}
