//! A mailer whose answers the test scripts, and which keeps what it accepted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use authd_identity::ports::Mailer;
use authd_identity::{MailFailure, OutgoingEmail};

#[derive(Debug, Default)]
struct Script {
    failures: VecDeque<MailFailure>,
    accepted: Vec<OutgoingEmail>,
    attempts: usize,
}

/// Accepts every email, except that the next sends fail as [`Self::fail_next`] said; clones share the
/// script.
#[derive(Debug, Clone, Default)]
pub struct ScriptedMailer(Arc<Mutex<Script>>);

impl ScriptedMailer {
    /// The next send fails with `failure` (queued after any failures already scripted).
    pub fn fail_next(&self, failure: MailFailure) {
        self.script().failures.push_back(failure);
    }

    /// The emails accepted so far, in order.
    pub fn accepted(&self) -> Vec<OutgoingEmail> {
        self.script().accepted.clone()
    }

    /// Sends attempted so far, failed ones included.
    pub fn attempts(&self) -> usize {
        self.script().attempts
    }

    fn script(&self) -> MutexGuard<'_, Script> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Mailer for ScriptedMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailFailure> {
        let mut script = self.script();
        script.attempts += 1;
        match script.failures.pop_front() {
            Some(failure) => Err(failure),
            None => {
                script.accepted.push(email.clone());
                Ok(())
            }
        }
    }
}
