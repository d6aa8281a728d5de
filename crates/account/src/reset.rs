//! Asking for a password-reset email, within the limits: per client IP (answered), per address (silent:
//! the answer is the same whether an email goes out, so it reveals nothing).

use std::net::IpAddr;

use authd_identity::Email;
use authd_kernel::Client;

use crate::{AccountError, Accounts, Ports};

/// What became of a reset request once it was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetEmail {
    /// Queued in the outbox (for a known address), or nothing to send (an unknown one): the same to anyone
    /// watching.
    Handled,
    /// The address had its share of reset emails this window: nothing more is sent.
    OverLimit,
}

impl<P: Ports> Accounts<P> {
    /// Counts a reset request from `client_ip` and refuses it over the per-IP limit. The request itself is
    /// then handled by [`Self::send_password_reset`], off the request's path, so the answer's timing says
    /// nothing about the address.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`], or storage.
    pub async fn admit_password_reset(
        &self,
        client_ip: Option<IpAddr>,
    ) -> Result<(), AccountError> {
        self.throttle.before_reset_request(client_ip).await
    }

    /// Queues the reset email for `email` (with `correlation`, a request id, kept to trace delivery),
    /// unless the address is over its limit.
    ///
    /// # Errors
    /// Storage.
    pub async fn send_password_reset(
        &self,
        email: &Email,
        correlation: Option<&str>,
        client: &Client,
    ) -> Result<ResetEmail, AccountError> {
        if !self.throttle.allow_reset_email(email.as_str()).await? {
            return Ok(ResetEmail::OverLimit);
        }
        self.domains
            .resets
            .request(email, correlation, client)
            .await?;
        Ok(ResetEmail::Handled)
    }
}
