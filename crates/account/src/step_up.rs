//! Recent authentication (step-up): a session is recent while a factor was proven in it within the
//! policy's window; credential changes need a recent session, and a user proves a factor again with a
//! password, a TOTP code or a passkey of their own. Re-authentication is guessed at like a sign-in, so
//! every attempt counts toward the account's login limit.

use authd_identity::User;
use authd_kernel::{Client, Clock as _, DetailValue, EventKind, Secret};
use authd_passkey::PasskeyError;
use authd_session::{Authenticated, SessionError};
use time::OffsetDateTime;

use crate::{AccountError, Accounts, Ports};

/// What a user presents to prove it is still them.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// The account's password.
    Password(&'a Secret),
    /// A current TOTP code (recovery codes do not re-authenticate).
    Totp(&'a str),
    /// A passkey assertion answering a login challenge; the passkey must be the caller's.
    Passkey(&'a str),
}

impl Proof<'_> {
    /// The contract's `method` of the events it leads to.
    const fn method(self) -> &'static str {
        match self {
            Self::Password(_) => "password",
            Self::Totp(_) => "code",
            Self::Passkey(_) => "passkey",
        }
    }
}

impl<P: Ports> Accounts<P> {
    /// Refuses a session whose last proven factor is older than the policy's window.
    ///
    /// # Errors
    /// [`AccountError::ReauthRequired`].
    pub fn ensure_recent(&self, caller: &Authenticated) -> Result<(), AccountError> {
        let age = self.clock.now() - caller.authenticated_at;
        if age > self.policy.reauth_max_age {
            return Err(AccountError::ReauthRequired);
        }
        Ok(())
    }

    /// Proves a factor again in the caller's session, which is recent from then on; returns when.
    ///
    /// # Errors
    /// [`AccountError::RateLimited`] past the account's login limit; a wrong password
    /// (`InvalidCredentials`), a wrong code ([`AccountError::InvalidSecondFactor`]; `mfa_not_enabled` for an
    /// account without TOTP), a foreign or failing passkey (a passkey error); or storage.
    pub async fn reauthenticate(
        &self,
        caller: &Authenticated,
        proof: Proof<'_>,
        client: &Client,
    ) -> Result<OffsetDateTime, AccountError> {
        let user = self.signed_in_user(caller.user_id).await?;
        let email = user.email.as_str();
        self.admit_login(email, client).await?;
        if let Err(err) = self.check_proof(&user, proof).await {
            let detail = [
                ("method", DetailValue::Text(proof.method().into())),
                ("reauth", DetailValue::Flag(true)),
            ];
            self.record(EventKind::SignInFailed, user.id, client, &detail)
                .await;
            return Err(err);
        }
        self.throttle.after_login(email).await?;
        Ok(self
            .domains
            .sessions
            .reauthenticated(caller, client, proof.method())
            .await?)
    }

    async fn check_proof(&self, user: &User, proof: Proof<'_>) -> Result<(), AccountError> {
        match proof {
            Proof::Password(password) => {
                self.domains
                    .identity
                    .login(user.email.as_str(), password)
                    .await?;
            }
            Proof::Totp(code) => {
                self.domains
                    .mfa
                    .verify(user.id, code)
                    .await
                    .map_err(|err| match err {
                        authd_mfa::MfaError::InvalidCode => AccountError::InvalidSecondFactor,
                        other => other.into(),
                    })?;
            }
            Proof::Passkey(assertion) => {
                let login = self.domains.passkeys.finish_login(assertion).await?;
                if login.user_id != user.id {
                    return Err(PasskeyError::Rejected("another account's passkey".into()).into());
                }
            }
        }
        Ok(())
    }

    /// The caller's account; gone means the token no longer stands for anyone.
    pub(crate) async fn signed_in_user(
        &self,
        user: authd_kernel::UserId,
    ) -> Result<User, AccountError> {
        self.domains
            .identity
            .user(user)
            .await?
            .ok_or(AccountError::Session(SessionError::InvalidAccessToken))
    }
}
