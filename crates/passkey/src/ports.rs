//! The relying-party port: WebAuthn ceremonies, verified by an adapter (webauthn-rs).

use crate::{
    AuthenticatedCredential, Ceremony, CredentialId, PasskeyError, PasskeyUser,
    RegisteredCredential, StoredPasskey,
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
