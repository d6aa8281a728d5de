//! authd's WebAuthn adapter: [`authd_passkey::ports::RelyingParty`] on webauthn-rs.
//!
//! The ceremonies run on `webauthn-rs-core`, the engine under webauthn-rs, rather than on webauthn-rs's
//! `start_passkey_*` helpers: those hard-code user verification "required" both in the options and in the
//! state they verify against (and the state's fields are private), while authd's contract is "preferred"
//! (a passkey without user verification signs in but does not satisfy MFA). Credentials are stored as
//! webauthn-rs [`Passkey`]s serialised as JSON, so the stored format is the one webauthn-rs documents.
//!
//! Verification always runs against the credential authd passes in (read from its database), never against
//! a copy taken when the ceremony began, so a signature counter stored by a concurrent login counts.

mod state;

use std::time::Duration;

use authd_passkey::ports::RelyingParty;
use authd_passkey::{
    AuthenticatedCredential, Ceremony, CredentialId, PasskeyError, PasskeyUser,
    RegisteredCredential, StoredPasskey,
};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use webauthn_rs::prelude::{Credential, Passkey, Url};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticationState, AuthenticatorSelectionCriteria,
    COSEAlgorithm, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
    RequestRegistrationExtensions, ResidentKeyRequirement, UserVerificationPolicy,
};

use crate::state::CeremonyState;

/// How long the browser may take over a ceremony (the options' `timeout`). authd's own ceremony expiry,
/// enforced where the state is stored, should be at least this long.
pub const CEREMONY_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// base64url as browsers and libraries write it: without padding, but padded input is accepted too.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Which relying party authd is.
#[derive(Debug, Clone)]
pub struct RpConfig {
    /// The RP id: the domain the credentials are bound to (`localhost`, `example.com`).
    pub rp_id: String,
    /// The web origin the ceremonies run on (`http://localhost:3000`); its host must be the RP id or
    /// a subdomain of it.
    pub rp_origin: String,
    /// The name authenticators show.
    pub rp_name: String,
}

/// The [`RelyingParty`] port on webauthn-rs.
#[derive(Debug, Clone)]
pub struct WebAuthnRelyingParty {
    core: WebauthnCore,
}

impl WebAuthnRelyingParty {
    /// A relying party for `config`.
    ///
    /// # Errors
    /// [`PasskeyError::RelyingParty`] if the origin is not a URL, its host is not the RP id or a subdomain
    /// of it, or a field is empty.
    pub fn new(config: RpConfig) -> Result<Self, PasskeyError> {
        let RpConfig {
            rp_id,
            rp_origin,
            rp_name,
        } = config;
        if rp_id.is_empty() || rp_name.is_empty() {
            return Err(PasskeyError::RelyingParty(
                "the RP id and RP name must not be empty".to_owned(),
            ));
        }
        let origin = Url::parse(&rp_origin).map_err(|e| {
            PasskeyError::RelyingParty(format!("the RP origin {rp_origin:?} is not a URL: {e}"))
        })?;
        // The same check webauthn-rs's builder makes; the core constructor trusts its caller instead.
        let host_fits = origin
            .domain()
            .is_some_and(|host| host == rp_id || host.ends_with(&format!(".{rp_id}")));
        if !host_fits {
            return Err(PasskeyError::RelyingParty(format!(
                "the RP origin {rp_origin:?} is not on the RP id {rp_id:?} or a subdomain of it"
            )));
        }
        // Exactly the configured origin: no other subdomains, no other ports.
        let core = WebauthnCore::new_unsafe_experts_only(
            &rp_name,
            &rp_id,
            vec![origin],
            CEREMONY_TIMEOUT,
            Some(false),
            Some(false),
        );
        Ok(Self { core })
    }

    /// Starts an authentication with `credentials` allowed (empty: any discoverable credential), user
    /// verification preferred in the options and in the state.
    fn start_assertion(
        &self,
        credentials: Vec<Credential>,
    ) -> Result<(RequestChallengeResponse, AuthenticationState), PasskeyError> {
        let builder = self
            .core
            .new_challenge_authenticate_builder(
                credentials,
                Some(UserVerificationPolicy::Preferred),
            )
            .map_err(options_error)?
            // No extensions: authd reads none of their outputs.
            .extensions(None)
            // A passkey that becomes synced (backup eligible) later is still the same passkey; this is what
            // webauthn-rs allows for passkeys too.
            .allow_backup_eligible_upgrade(true)
            .hints(None);
        self.core
            .generate_challenge_authenticate(builder)
            .map_err(options_error)
    }
}

impl RelyingParty for WebAuthnRelyingParty {
    fn start_registration(
        &self,
        user: &PasskeyUser,
        existing: &[StoredPasskey],
    ) -> Result<Ceremony, PasskeyError> {
        let exclude: Vec<Vec<u8>> = existing
            .iter()
            .map(|passkey| passkey.credential_id.0.clone())
            .collect();
        // The same extensions webauthn-rs asks passkeys for, minus credProtect "user verification
        // required": a credential created under it cannot sign without user verification, which would
        // make "preferred" a lie for authenticators without a PIN or biometrics.
        let extensions = RequestRegistrationExtensions {
            cred_protect: None,
            uvm: Some(true),
            cred_props: Some(true),
            min_pin_length: None,
            hmac_create_secret: None,
        };
        let builder = self
            .core
            .new_challenge_register_builder(
                user.id.as_uuid().as_bytes(),
                &user.name,
                &user.display_name,
            )
            .map_err(options_error)?
            .attestation(AttestationConveyancePreference::None)
            .credential_algorithms(COSEAlgorithm::secure_algs())
            // Verified in the state as well as asked for in the options: a response without the UV flag
            // registers (with `user_verified` false on the credential).
            .user_verification_policy(UserVerificationPolicy::Preferred)
            .require_resident_key(false)
            .authenticator_attachment(None)
            .reject_synchronised_authenticators(false)
            .exclude_credentials((!exclude.is_empty()).then_some(exclude))
            .hints(None)
            .extensions(Some(extensions));
        let (mut options, state) = self
            .core
            .generate_challenge_register(builder)
            .map_err(options_error)?;
        // The core only knows "required" or "discouraged" for resident keys; authd asks for "preferred" so
        // that authenticators that can store the credential do (usernameless login) and others still work.
        // The core does not verify residency, so the state needs no change for this.
        options.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
            authenticator_attachment: None,
            resident_key: Some(ResidentKeyRequirement::Preferred),
            require_resident_key: false,
            user_verification: UserVerificationPolicy::Preferred,
        });
        let challenge = B64URL.encode(&options.public_key.challenge);
        Ok(Ceremony {
            options_json: to_json(&options)?,
            challenge,
            state: CeremonyState::Registration { state }.to_json()?,
        })
    }

    fn finish_registration(
        &self,
        response_json: &str,
        state: &str,
    ) -> Result<RegisteredCredential, PasskeyError> {
        let CeremonyState::Registration { state } = CeremonyState::from_json(state)? else {
            return Err(PasskeyError::Rejected(
                "the ceremony is not a registration".to_owned(),
            ));
        };
        let response: RegisterPublicKeyCredential = serde_json::from_str(response_json)
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let credential = self
            .core
            .register_credential(&response, &state, None)
            .map_err(verification_error)?;
        let passkey = Passkey::from(credential);
        Ok(RegisteredCredential {
            credential_id: CredentialId(passkey.cred_id().to_vec()),
            data: to_json(&passkey)?,
        })
    }

    fn start_authentication(&self, allowed: &[StoredPasskey]) -> Result<Ceremony, PasskeyError> {
        let (options, state) = if allowed.is_empty() {
            let (options, state) = self.start_assertion(Vec::new())?;
            (options, CeremonyState::Discoverable { state })
        } else {
            let credentials = allowed
                .iter()
                .map(|passkey| read_passkey(passkey).map(Credential::from))
                .collect::<Result<Vec<_>, _>>()?;
            let ids = credentials.iter().map(|c| c.cred_id.clone()).collect();
            let (options, state) = self.start_assertion(credentials)?;
            (
                options,
                CeremonyState::AllowList {
                    allowed: ids,
                    state,
                },
            )
        };
        // `mediation` stays unset: webauthn-rs's discoverable helper forces "conditional" (autofill UI),
        // but authd's usernameless login is an explicit button.
        Ok(Ceremony {
            options_json: to_json(&options)?,
            challenge: B64URL.encode(&options.public_key.challenge),
            state: state.to_json()?,
        })
    }

    fn response_challenge(&self, response_json: &str) -> Result<String, PasskeyError> {
        let response: serde_json::Value = serde_json::from_str(response_json)
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let client_data = response
            .pointer("/response/clientDataJSON")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| PasskeyError::Malformed("no response.clientDataJSON".to_owned()))?;
        let client_data = decode_b64url(client_data, "response.clientDataJSON")?;
        let client_data: serde_json::Value = serde_json::from_slice(&client_data)
            .map_err(|e| PasskeyError::Malformed(format!("clientDataJSON: {e}")))?;
        let challenge = client_data
            .get("challenge")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| PasskeyError::Malformed("clientDataJSON has no challenge".to_owned()))?;
        // Re-encoded, so that a padded challenge still finds its ceremony.
        Ok(B64URL.encode(decode_b64url(challenge, "the challenge")?))
    }

    fn response_credential_id(&self, response_json: &str) -> Result<CredentialId, PasskeyError> {
        let response: serde_json::Value = serde_json::from_str(response_json)
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let id = ["rawId", "id"]
            .iter()
            .find_map(|key| response.get(key).and_then(serde_json::Value::as_str))
            .ok_or_else(|| PasskeyError::Malformed("no rawId or id".to_owned()))?;
        decode_b64url(id, "rawId").map(CredentialId)
    }

    fn finish_authentication(
        &self,
        response_json: &str,
        state: &str,
        credential: &StoredPasskey,
    ) -> Result<AuthenticatedCredential, PasskeyError> {
        let ceremony = CeremonyState::from_json(state)?;
        let response: PublicKeyCredential = serde_json::from_str(response_json)
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let mut passkey = read_passkey(credential)?;
        if response.get_credential_id() != passkey.cred_id().as_slice()
            || credential.credential_id.0 != *passkey.cred_id()
        {
            return Err(PasskeyError::Rejected(
                "the response was made with another credential".to_owned(),
            ));
        }
        // The user handle, when the authenticator returns one, must be the credential's owner; for a
        // usernameless login it is the only thing that names the user, so it must be there.
        let owner = credential.user_id.as_uuid();
        match response.get_user_unique_id() {
            Some(handle) if handle != owner.as_bytes() => {
                return Err(PasskeyError::Rejected(
                    "the user handle is not the credential's owner".to_owned(),
                ));
            }
            Some(_) => {}
            None if matches!(ceremony, CeremonyState::Discoverable { .. }) => {
                return Err(PasskeyError::Rejected(
                    "a usernameless login needs the user handle".to_owned(),
                ));
            }
            None => {}
        }
        let state = match ceremony {
            CeremonyState::AllowList { allowed, state } => {
                if !allowed.contains(passkey.cred_id()) {
                    return Err(PasskeyError::Rejected(
                        "the credential was not offered to this login".to_owned(),
                    ));
                }
                state
            }
            CeremonyState::Discoverable { state } => state,
            CeremonyState::Registration { .. } => {
                return Err(PasskeyError::Rejected(
                    "the ceremony is not a login".to_owned(),
                ));
            }
        };
        // Checks type, challenge, origin, RP id hash, user presence, user verification as the credential
        // was registered, backup flags, signature, and (the core is built with `require_valid_counter_value`)
        // a counter strictly above the stored one unless both are zero.
        let credential_core = Credential::from(passkey.clone());
        let result = self
            .core
            .authenticate_single_credential(&response, &state, &credential_core)
            .map_err(verification_error)?;
        // `None` only when the ids differ, which was checked above.
        if passkey.update_credential(&result).is_none() {
            return Err(PasskeyError::Rejected(
                "the result is for another credential".to_owned(),
            ));
        }
        Ok(AuthenticatedCredential {
            credential_id: CredentialId(passkey.cred_id().to_vec()),
            user_verified: result.user_verified(),
            data: to_json(&passkey)?,
        })
    }
}

/// The webauthn-rs credential inside a stored passkey.
fn read_passkey(stored: &StoredPasskey) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(&stored.data).map_err(|e| {
        PasskeyError::RelyingParty(format!("stored passkey {} is unreadable: {e}", stored.id))
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, PasskeyError> {
    serde_json::to_string(value).map_err(|e| PasskeyError::RelyingParty(e.to_string()))
}

fn decode_b64url(text: &str, what: &str) -> Result<Vec<u8>, PasskeyError> {
    B64URL
        .decode(text)
        .map_err(|e| PasskeyError::Malformed(format!("{what} is not base64url: {e}")))
}

/// Options could not be produced: a configuration or input problem on authd's side.
fn options_error(error: WebauthnError) -> PasskeyError {
    PasskeyError::RelyingParty(error.to_string())
}

/// Sorts a verification failure into the port's errors.
fn verification_error(error: WebauthnError) -> PasskeyError {
    match error {
        // The only error webauthn-rs-core reports for `signCount <= stored` (with either non-zero).
        WebauthnError::CredentialPossibleCompromise => PasskeyError::CounterRegressed,
        // The response could not be decoded at all, as opposed to decoding and not verifying.
        WebauthnError::ParseBase64Failure(_)
        | WebauthnError::ParseCBORFailure(_)
        | WebauthnError::ParseJSONFailure(_)
        | WebauthnError::ParseNOMFailure
        | WebauthnError::ParseInsufficientBytesAvailable
        | WebauthnError::MissingAttestationCredentialData
        | WebauthnError::AttestationStatementMapInvalid
        | WebauthnError::COSEKeyInvalidCBORValue
        | WebauthnError::COSEKeyInvalidType => PasskeyError::Malformed(error.to_string()),
        other => PasskeyError::Rejected(other.to_string()),
    }
}
