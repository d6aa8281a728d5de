//! The relying-party port: WebAuthn ceremonies, verified by an adapter (webauthn-rs).

use std::future::Future;

use authd_kernel::{SecurityEvent, StoreError, UserId};
use time::OffsetDateTime;

use crate::{
    AuthenticatedCredential, Ceremony, CeremonyRecord, CredentialId, PasskeyError, PasskeyId,
    PasskeyUser, RegisteredCredential, StoredPasskey,
};

/// Runs WebAuthn ceremonies for one relying party (RP id, origin, name).
pub trait RelyingParty: Send + Sync {
    /// Options to register a new passkey for `user`: resident key and user verification preferred, ES256 and
    /// RS256 at least, `existing` credentials excluded.
    ///
    /// # Errors
    /// [`PasskeyError::RelyingParty`] if the options cannot be produced.
    fn start_registration(
        &self,
        user: &PasskeyUser,
        existing: &[StoredPasskey],
    ) -> Result<Ceremony, PasskeyError>;

    /// Verifies the browser's `PublicKeyCredential` JSON (as `credential.toJSON()` gives it) against the
    /// ceremony `state`: origin, RP id hash, challenge, user presence, attestation format and signature.
    ///
    /// # Errors
    /// [`PasskeyError::Malformed`] or [`PasskeyError::Rejected`].
    fn finish_registration(
        &self,
        response_json: &str,
        state: &str,
    ) -> Result<RegisteredCredential, PasskeyError>;

    /// Options to sign in: with `allowed` credentials, or, when it is empty, for any discoverable credential
    /// of this RP (usernameless).
    ///
    /// # Errors
    /// [`PasskeyError::RelyingParty`] if the options cannot be produced.
    fn start_authentication(&self, allowed: &[StoredPasskey]) -> Result<Ceremony, PasskeyError>;

    /// The challenge an authentication or registration response answers (to find its ceremony).
    ///
    /// # Errors
    /// [`PasskeyError::Malformed`].
    fn response_challenge(&self, response_json: &str) -> Result<String, PasskeyError>;

    /// The credential an authentication response was made with (to find the stored passkey).
    ///
    /// # Errors
    /// [`PasskeyError::Malformed`].
    fn response_credential_id(&self, response_json: &str) -> Result<CredentialId, PasskeyError>;

    /// Verifies an assertion against the ceremony `state` and the stored `credential`: origin, RP id hash,
    /// challenge, user presence, signature, and a signature counter that must not go backwards.
    ///
    /// # Errors
    /// [`PasskeyError::Malformed`], [`PasskeyError::Rejected`] or [`PasskeyError::CounterRegressed`].
    fn finish_authentication(
        &self,
        response_json: &str,
        state: &str,
        credential: &StoredPasskey,
    ) -> Result<AuthenticatedCredential, PasskeyError>;
}

/// Storage of passkeys and of ceremonies in flight.
pub trait PasskeyRepository: Send + Sync {
    /// Deletes the registration ceremonies in flight for `user` (its sessions ended).
    ///
    /// # Errors
    /// A storage failure.
    fn drop_registrations_of(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores a ceremony until its answer.
    ///
    /// # Errors
    /// A storage failure.
    fn save_ceremony(
        &self,
        ceremony: &CeremonyRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes and returns the ceremony with this challenge.
    ///
    /// # Errors
    /// MUST hand a ceremony to one caller only, even under concurrent calls.
    fn take_ceremony(
        &self,
        challenge: &str,
    ) -> impl Future<Output = Result<Option<CeremonyRecord>, StoreError>> + Send;

    /// The user's passkeys, oldest first.
    ///
    /// # Errors
    /// A storage failure.
    fn passkeys_of(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<StoredPasskey>, StoreError>> + Send;

    /// The passkey with this credential id.
    ///
    /// # Errors
    /// A storage failure.
    fn find_by_credential(
        &self,
        credential: &CredentialId,
    ) -> impl Future<Output = Result<Option<StoredPasskey>, StoreError>> + Send;

    /// Stores a new passkey and records `event` with it.
    ///
    /// # Errors
    /// MUST return [`PasskeyError::AlreadyRegistered`] for a credential id stored already.
    fn insert(
        &self,
        passkey: &StoredPasskey,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<(), PasskeyError>> + Send;

    /// Records a login: the credential's new serialised state (signature counter) and the time, only if
    /// the stored state is still `previous`, the one the login was verified against. False when another
    /// login with the same credential changed it first (two assertions racing with one counter value).
    ///
    /// # Errors
    /// A storage failure.
    fn record_use(
        &self,
        id: PasskeyId,
        previous: &str,
        data: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the user's passkey and records `event` with it; false (recording nothing) when the user has no
    /// passkey with this id.
    ///
    /// # Errors
    /// A storage failure.
    fn delete(
        &self,
        user: UserId,
        id: PasskeyId,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
