//! The passkey use cases: register, sign in (with or without an email), list, delete.

use authd_identity::User;
use authd_identity::ports::LoginMethodRepository;
use authd_kernel::{Client, Clock, EventKind, Random, SecurityEvent, UserId};
use time::Duration;

use crate::ports::{PasskeyRepository, RelyingParty};
use crate::{CeremonyPurpose, CeremonyRecord, PasskeyError, PasskeyId, PasskeyUser, StoredPasskey};

/// How long the browser has to answer a ceremony.
pub const CEREMONY_TTL: Duration = Duration::minutes(5);

/// The longest name a passkey can be given, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A passkey sign-in that verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasskeyLogin {
    /// Who signed in.
    pub user_id: UserId,
    /// Whether the authenticator verified the user (then the passkey satisfies MFA).
    pub user_verified: bool,
}

/// The passkey use cases over their ports.
#[derive(Debug, Clone)]
pub struct PasskeyService<R, P, C, G> {
    repo: R,
    rp: P,
    clock: C,
    random: G,
}

impl<R, P, C, G> PasskeyService<R, P, C, G>
where
    R: PasskeyRepository + LoginMethodRepository,
    P: RelyingParty,
    C: Clock,
    G: Random,
{
    /// Wires the use cases.
    pub fn new(repo: R, rp: P, clock: C, random: G) -> Self {
        Self {
            repo,
            rp,
            clock,
            random,
        }
    }

    /// Options to register a passkey for `user`, whose existing passkeys are excluded.
    ///
    /// # Errors
    /// [`PasskeyError::RelyingParty`] or a storage failure.
    pub async fn begin_registration(&self, user: &User) -> Result<String, PasskeyError> {
        let existing = self.repo.passkeys_of(user.id).await?;
        let owner = PasskeyUser {
            id: user.id,
            name: user.email.as_str().to_owned(),
            display_name: user.name.as_str().to_owned(),
        };
        let ceremony = self.rp.start_registration(&owner, &existing)?;
        self.remember(&ceremony, CeremonyPurpose::Registration(user.id))
            .await?;
        Ok(ceremony.options_json)
    }

    /// Verifies the browser's registration answer and stores the passkey.
    ///
    /// # Errors
    /// [`PasskeyError::Malformed`], [`PasskeyError::UnknownCeremony`] (expired, used, another user's),
    /// [`PasskeyError::Rejected`], [`PasskeyError::AlreadyRegistered`], or a storage failure.
    pub async fn finish_registration(
        &self,
        user: UserId,
        response_json: &str,
        name: Option<&str>,
        client: &Client,
    ) -> Result<StoredPasskey, PasskeyError> {
        let ceremony = self
            .take(response_json, CeremonyPurpose::Registration(user))
            .await?;
        let registered = self
            .rp
            .finish_registration(response_json, &ceremony.state)?;
        let now = self.clock.now();
        let passkey = StoredPasskey {
            id: PasskeyId::generate(&self.clock, &self.random),
            user_id: user,
            credential_id: registered.credential_id,
            name: passkey_name(name),
            data: registered.data,
            created_at: now,
            last_used_at: None,
        };
        let added = self
            .event(EventKind::PasskeyAdded, user, client)
            .with_text("name", passkey.name.clone());
        self.repo.insert(&passkey, &added).await?;
        Ok(passkey)
    }

    /// Options to sign in. They never depend on who asks: any discoverable credential of this relying
    /// party may answer, so an email (known or not) changes nothing a client could observe.
    ///
    /// # Errors
    /// [`PasskeyError::RelyingParty`] or a storage failure.
    pub async fn begin_login(&self) -> Result<String, PasskeyError> {
        let ceremony = self.rp.start_authentication(&[])?;
        self.remember(&ceremony, CeremonyPurpose::Authentication)
            .await?;
        Ok(ceremony.options_json)
    }

    /// Verifies an assertion, records the use (new signature counter) and says who signed in.
    ///
    /// # Errors
    /// [`PasskeyError::Malformed`], [`PasskeyError::UnknownCeremony`], [`PasskeyError::Rejected`] (also for
    /// an unknown credential), [`PasskeyError::CounterRegressed`], or a storage failure.
    pub async fn finish_login(&self, response_json: &str) -> Result<PasskeyLogin, PasskeyError> {
        let ceremony = self
            .take(response_json, CeremonyPurpose::Authentication)
            .await?;
        let credential_id = self.rp.response_credential_id(response_json)?;
        let stored = self
            .repo
            .find_by_credential(&credential_id)
            .await?
            .ok_or_else(|| PasskeyError::Rejected("unknown credential".into()))?;
        let verified = match self
            .rp
            .finish_authentication(response_json, &ceremony.state, &stored)
        {
            Err(PasskeyError::CounterRegressed) => {
                tracing::warn!(passkey_id = %stored.id, user_id = %stored.user_id,
                    "passkey signature counter went backwards: possible cloned authenticator; login refused");
                return Err(PasskeyError::CounterRegressed);
            }
            other => other?,
        };
        let recorded = self
            .repo
            .record_use(stored.id, &stored.data, &verified.data, self.clock.now())
            .await?;
        if !recorded {
            tracing::warn!(passkey_id = %stored.id, user_id = %stored.user_id,
                "two sign-ins raced with one passkey state: possible cloned authenticator; login refused");
            return Err(PasskeyError::CounterRegressed);
        }
        Ok(PasskeyLogin {
            user_id: stored.user_id,
            user_verified: verified.user_verified,
        })
    }

    /// Forgets the user's registrations in flight: their sessions ended.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn forget_registrations(&self, user: UserId) -> Result<(), PasskeyError> {
        Ok(self.repo.drop_registrations_of(user).await?)
    }

    /// The user's passkeys.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn list(&self, user: UserId) -> Result<Vec<StoredPasskey>, PasskeyError> {
        Ok(self.repo.passkeys_of(user).await?)
    }

    /// Deletes one of the user's passkeys, unless it is the account's last way in.
    ///
    /// # Errors
    /// [`PasskeyError::NotFound`], [`PasskeyError::LastLoginMethod`], or a storage failure.
    pub async fn delete(
        &self,
        user: UserId,
        id: PasskeyId,
        client: &Client,
    ) -> Result<(), PasskeyError> {
        let passkeys = self.repo.passkeys_of(user).await?;
        let passkey = passkeys
            .iter()
            .find(|p| p.id == id)
            .ok_or(PasskeyError::NotFound)?;
        if self.repo.login_methods(user).await?.count() <= 1 {
            return Err(PasskeyError::LastLoginMethod);
        }
        let removed = self
            .event(EventKind::PasskeyRemoved, user, client)
            .with_text("name", passkey.name.clone());
        if !self.repo.delete(user, id, &removed).await? {
            return Err(PasskeyError::NotFound);
        }
        Ok(())
    }

    fn event(&self, kind: EventKind, user: UserId, client: &Client) -> SecurityEvent {
        SecurityEvent::new(kind, user, client, &self.clock, &self.random)
    }

    async fn remember(
        &self,
        ceremony: &crate::Ceremony,
        purpose: CeremonyPurpose,
    ) -> Result<(), PasskeyError> {
        let now = self.clock.now();
        let record = CeremonyRecord {
            challenge: ceremony.challenge.clone(),
            purpose,
            state: ceremony.state.clone(),
            created_at: now,
            expires_at: now + CEREMONY_TTL,
        };
        Ok(self.repo.save_ceremony(&record).await?)
    }

    /// The ceremony an answer belongs to: taken (so a replay finds nothing), for the expected purpose (and
    /// so, for a registration, the same user), fresh.
    async fn take(
        &self,
        response_json: &str,
        purpose: CeremonyPurpose,
    ) -> Result<CeremonyRecord, PasskeyError> {
        let challenge = self.rp.response_challenge(response_json)?;
        let ceremony = self
            .repo
            .take_ceremony(&challenge)
            .await?
            .ok_or(PasskeyError::UnknownCeremony)?;
        if ceremony.purpose != purpose || self.clock.now() >= ceremony.expires_at {
            return Err(PasskeyError::UnknownCeremony);
        }
        Ok(ceremony)
    }
}

/// The given name, trimmed and bounded, or a default.
fn passkey_name(name: Option<&str>) -> String {
    let name: String = name
        .map(str::trim)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    if name.is_empty() {
        "Passkey".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::passkey_name;

    #[test]
    fn names_are_trimmed_bounded_and_defaulted() {
        assert_eq!(passkey_name(None), "Passkey");
        assert_eq!(passkey_name(Some("  ")), "Passkey");
        assert_eq!(passkey_name(Some(" Laptop\n")), "Laptop");
        assert_eq!(passkey_name(Some(&"x".repeat(500))).len(), 100);
    }
}
