//! A relying party whose ceremonies are plain JSON that tests write themselves: no authenticator, no
//! signatures, but the same refusals as the real one (a wrong challenge, another credential, a signature
//! counter that does not move forward).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use authd_passkey::ports::RelyingParty;
use authd_passkey::{
    AuthenticatedCredential, Ceremony, CredentialId, PasskeyError, PasskeyUser,
    RegisteredCredential, StoredPasskey,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Hands out challenges `challenge-1`, `challenge-2`, ...; clones share the sequence.
#[derive(Debug, Clone, Default)]
pub struct FakeRelyingParty {
    issued: Arc<AtomicU64>,
}

/// What a browser answers to either ceremony, as the fake reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeResponse {
    /// The challenge answered.
    pub challenge: String,
    /// The credential, registered or used.
    pub credential_id: String,
    /// The authenticator's signature counter.
    pub counter: u32,
    /// Whether the authenticator verified the user.
    pub user_verified: bool,
}

impl FakeResponse {
    /// The response as the browser would post it.
    pub fn to_json(&self) -> String {
        json!(self).to_string()
    }
}

/// What the fake remembers of a ceremony, and stores of a credential.
#[derive(Debug, Serialize, Deserialize)]
struct CeremonyState {
    challenge: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct CredentialData {
    credential_id: String,
    counter: u32,
}

impl FakeRelyingParty {
    /// A relying party whose first challenge is `challenge-1`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The challenge of the options a ceremony began with.
    ///
    /// # Errors
    /// [`PasskeyError::Malformed`] if `options_json` has no `publicKey.challenge`.
    pub fn challenge_of(options_json: &str) -> Result<String, PasskeyError> {
        let options: serde_json::Value = parse(options_json)?;
        options["publicKey"]["challenge"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| PasskeyError::Malformed("options without a challenge".into()))
    }

    /// The credential ids listed in registration options' `excludeCredentials`.
    ///
    /// # Errors
    /// [`PasskeyError::Malformed`] if `options_json` is not JSON.
    pub fn excluded_of(options_json: &str) -> Result<Vec<String>, PasskeyError> {
        let options: serde_json::Value = parse(options_json)?;
        Ok(options["publicKey"]["excludeCredentials"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .collect())
    }

    fn begin(&self, public_key: serde_json::Value) -> Ceremony {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let challenge = format!("challenge-{n}");
        let mut public_key = public_key;
        public_key["challenge"] = json!(challenge);
        Ceremony {
            options_json: json!({ "publicKey": public_key }).to_string(),
            state: json!(CeremonyState {
                challenge: challenge.clone()
            })
            .to_string(),
            challenge,
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(raw: &str) -> Result<T, PasskeyError> {
    serde_json::from_str(raw).map_err(|e| PasskeyError::Malformed(e.to_string()))
}

fn credential_ids(passkeys: &[StoredPasskey]) -> Vec<serde_json::Value> {
    passkeys
        .iter()
        .map(|p| json!({ "id": String::from_utf8_lossy(&p.credential_id.0) }))
        .collect()
}

/// The response, checked to answer the ceremony `state`.
fn answering(response_json: &str, state: &str) -> Result<FakeResponse, PasskeyError> {
    let response: FakeResponse = parse(response_json)?;
    let state: CeremonyState = parse(state)?;
    if response.challenge != state.challenge {
        return Err(PasskeyError::Rejected(
            "the challenge does not match".into(),
        ));
    }
    Ok(response)
}

fn credential_data(credential_id: &str, counter: u32) -> String {
    json!(CredentialData {
        credential_id: credential_id.to_owned(),
        counter,
    })
    .to_string()
}

impl RelyingParty for FakeRelyingParty {
    fn start_registration(
        &self,
        user: &PasskeyUser,
        existing: &[StoredPasskey],
    ) -> Result<Ceremony, PasskeyError> {
        Ok(self.begin(json!({
            "user": { "id": user.id.to_string(), "name": user.name, "displayName": user.display_name },
            "excludeCredentials": credential_ids(existing),
        })))
    }

    fn finish_registration(
        &self,
        response_json: &str,
        state: &str,
    ) -> Result<RegisteredCredential, PasskeyError> {
        let response = answering(response_json, state)?;
        Ok(RegisteredCredential {
            credential_id: CredentialId(response.credential_id.clone().into_bytes()),
            data: credential_data(&response.credential_id, response.counter),
        })
    }

    fn start_authentication(&self, allowed: &[StoredPasskey]) -> Result<Ceremony, PasskeyError> {
        Ok(self.begin(json!({ "allowCredentials": credential_ids(allowed) })))
    }

    fn response_challenge(&self, response_json: &str) -> Result<String, PasskeyError> {
        Ok(parse::<FakeResponse>(response_json)?.challenge)
    }

    fn response_credential_id(&self, response_json: &str) -> Result<CredentialId, PasskeyError> {
        Ok(CredentialId(
            parse::<FakeResponse>(response_json)?
                .credential_id
                .into_bytes(),
        ))
    }

    fn finish_authentication(
        &self,
        response_json: &str,
        state: &str,
        credential: &StoredPasskey,
    ) -> Result<AuthenticatedCredential, PasskeyError> {
        let response = answering(response_json, state)?;
        let stored: CredentialData = parse(&credential.data)?;
        if response.credential_id.as_bytes() != credential.credential_id.0 {
            return Err(PasskeyError::Rejected("another credential".into()));
        }
        // As webauthn-rs requires: strictly above the stored counter, unless the authenticator keeps none.
        let keeps_no_counter = response.counter == 0 && stored.counter == 0;
        if !keeps_no_counter && response.counter <= stored.counter {
            return Err(PasskeyError::CounterRegressed);
        }
        Ok(AuthenticatedCredential {
            credential_id: credential.credential_id.clone(),
            user_verified: response.user_verified,
            data: credential_data(&stored.credential_id, response.counter),
        })
    }
}
