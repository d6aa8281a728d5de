//! The pending second factor: a sign-in that waits for a TOTP or recovery code, each attempt counted
//! before its code is checked (per pending session, and per user across sessions), promoted after a right
//! code, revoked after the fifth wrong one. And turning MFA off, which is guessed at like a sign-in.

use authd_kernel::{Client, EventKind, UserId};
use authd_mfa::MfaError;
use authd_session::{Authenticated, MfaStatus, SessionError};

use crate::sign_in::FullSession;
use crate::{AccountError, Accounts, Ports};

/// Wrong codes a pending session may present; the last one revokes it. Fixed by the contract, whatever the
/// rate-limit settings say.
pub const PENDING_SESSION_ATTEMPTS: u32 = 5;

/// What a user presents to finish a pending sign-in.
#[derive(Debug, Clone, Copy)]
pub enum SecondFactor<'a> {
    /// A code from the authenticator app.
    Totp(&'a str),
    /// One of the recovery codes (spent when right).
    RecoveryCode(&'a str),
}

impl<P: Ports> Accounts<P> {
    /// Finishes the caller's pending sign-in with a second factor.
    ///
    /// The attempt is counted against the user and reserved on the session *before* the code is checked,
    /// so parallel guesses cannot outrun either limit: at most [`PENDING_SESSION_ATTEMPTS`] codes are ever
    /// checked for one pending session, and the one that used the last attempt revokes it when wrong.
    ///
    /// # Errors
    /// [`AccountError::SecondFactorNotPending`] for a full session, [`AccountError::RateLimited`] over the
    /// per-user limit, [`AccountError::InvalidSecondFactor`] for a wrong code or a session out of attempts,
    /// or storage.
    pub async fn complete_second_factor(
        &self,
        caller: Authenticated,
        factor: SecondFactor<'_>,
        client: &Client,
    ) -> Result<FullSession, AccountError> {
        if caller.mfa != MfaStatus::Pending {
            return Err(AccountError::SecondFactorNotPending);
        }
        self.throttle.before_second_factor(caller.user_id).await?;
        let sessions = &self.domains.sessions;
        let attempt = sessions
            .begin_mfa_attempt(caller.session_id, PENDING_SESSION_ATTEMPTS)
            .await?
            // The session used its attempts (the last one is being judged, or revoked it already).
            .ok_or(AccountError::InvalidSecondFactor)?;
        match self
            .check_second_factor(caller.user_id, factor, client)
            .await
        {
            Ok(()) => {}
            Err(MfaError::InvalidCode) => {
                self.record(EventKind::MfaFailed, caller.user_id, client, &[])
                    .await;
                sessions.fail_mfa_attempt(attempt).await?;
                return Err(AccountError::InvalidSecondFactor);
            }
            Err(err) => return Err(err.into()),
        }
        self.throttle.after_second_factor(caller.user_id).await?;
        let tokens = sessions.complete_mfa(caller.session_id).await?;
        let user = self
            .domains
            .identity
            .user(caller.user_id)
            .await?
            .ok_or(SessionError::InvalidAccessToken)?;
        Ok(FullSession { user, tokens })
    }

    /// Turns MFA off with a TOTP or recovery code, within the per-user limit on wrong codes: a stolen full
    /// session must not be able to guess its way to turning MFA off.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`], the MFA domain's errors (wrong code, not enabled), or storage.
    pub async fn disable_mfa(
        &self,
        user: UserId,
        code: &str,
        client: &Client,
    ) -> Result<(), AccountError> {
        self.throttle.before_second_factor(user).await?;
        self.domains.mfa.disable(user, code, client).await?;
        self.throttle.after_second_factor(user).await
    }

    async fn check_second_factor(
        &self,
        user: UserId,
        factor: SecondFactor<'_>,
        client: &Client,
    ) -> Result<(), MfaError> {
        match factor {
            SecondFactor::Totp(code) => self.domains.mfa.verify(user, code).await,
            SecondFactor::RecoveryCode(code) => {
                self.domains.mfa.verify_recovery(user, code, client).await
            }
        }
    }
}
