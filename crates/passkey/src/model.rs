//! Passkeys as authd stores them.

use authd_kernel::UserId;
use time::OffsetDateTime;

authd_kernel::uuid_id!(
    /// authd's id of a registered passkey (what `DELETE /auth/passkeys/{id}` takes).
    PasskeyId
);

/// The WebAuthn credential id (raw bytes, base64url on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialId(pub Vec<u8>);

/// Who a registration is for, as the authenticator will show it.
#[derive(Debug, Clone)]
pub struct PasskeyUser {
    /// The account; also the WebAuthn user handle.
    pub id: UserId,
    /// The account name (the email).
    pub name: String,
    /// The display name.
    pub display_name: String,
}

/// A registered passkey.
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    /// authd's id.
    pub id: PasskeyId,
    /// Whose.
    pub user_id: UserId,
    /// The WebAuthn credential id.
    pub credential_id: CredentialId,
    /// A name the user gave it.
    pub name: String,
    /// The relying party adapter's serialised credential (public key, algorithm, signature counter, flags).
    pub data: String,
    /// Registration time.
    pub created_at: OffsetDateTime,
    /// Last successful login with it.
    pub last_used_at: Option<OffsetDateTime>,
}

/// A ceremony begun: the options for the browser, and what the relying party must remember.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// `{"publicKey": {...}}`, as `navigator.credentials.create/get` take it (binary fields base64url).
    pub options_json: String,
    /// The challenge, base64url: how the browser's answer finds this ceremony again.
    pub challenge: String,
    /// The adapter's serialised ceremony state, to be stored until the answer comes (or expires).
    pub state: String,
}

/// A credential that passed registration.
#[derive(Debug, Clone)]
pub struct RegisteredCredential {
    /// Its WebAuthn credential id.
    pub credential_id: CredentialId,
    /// The adapter's serialised credential.
    pub data: String,
}

/// A credential that passed authentication.
#[derive(Debug, Clone)]
pub struct AuthenticatedCredential {
    /// Which credential.
    pub credential_id: CredentialId,
    /// Whether the authenticator verified the user (PIN, biometrics): only then does a passkey satisfy MFA.
    pub user_verified: bool,
    /// The serialised credential with its new signature counter, to store back.
    pub data: String,
}

/// What a ceremony is for, and for whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Adding a passkey to this signed-in user's account.
    Registration(UserId),
    /// Signing in with a passkey: whose is learnt from the answer.
    Authentication,
}

/// A ceremony waiting for the browser's answer, stored under its challenge; single use.
#[derive(Debug, Clone)]
pub struct CeremonyRecord {
    /// The challenge (base64url).
    pub challenge: String,
    /// Registration (with its user) or authentication.
    pub purpose: CeremonyPurpose,
    /// The relying party's serialised state.
    pub state: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// After this the answer is refused.
    pub expires_at: OffsetDateTime,
}
