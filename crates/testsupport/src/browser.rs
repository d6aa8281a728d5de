//! A browser with a software authenticator, for tests: passkey-client plays `navigator.credentials` and
//! passkey-authenticator the device, and they answer with the JSON a real browser's `toJSON()` gives. Used
//! by the WebAuthn adapter's tests and by the app's HTTP tests.

#![expect(clippy::unwrap_used, reason = "test support fails loudly")]

use passkey_authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey_client::{Client, DefaultClientData};
use passkey_crypto::AvailableBackend;
use passkey_types::ctap2::{Aaguid, Ctap2Error};
use passkey_types::{Passkey as DevicePasskey, webauthn};
use url::Url;

/// The person at the authenticator: always present, verified only if the device can verify; refuses to
/// register a second credential where one of the excluded ones is.
#[derive(Debug)]
pub struct Person {
    can_verify: bool,
}

#[async_trait::async_trait]
impl UserValidationMethod for Person {
    type PasskeyItem = DevicePasskey;

    async fn check_user<'a>(
        &self,
        hint: UiHint<'a, Self::PasskeyItem>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        // The authenticator leaves the refusal to its user interface, as a real one tells the user
        // "already registered" and stops.
        if let UiHint::InformExcludedCredentialFound(_) = hint {
            return Err(Ctap2Error::CredentialExcluded);
        }
        Ok(UserCheck {
            presence,
            verification: verification && self.can_verify,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        self.can_verify.then_some(true)
    }
}

/// A browser with one software authenticator holding at most one (discoverable) passkey.
pub type Browser =
    Client<Option<DevicePasskey>, Person, AvailableBackend, public_suffix::PublicSuffixList, ()>;

/// A browser whose authenticator keeps a signature counter and verifies the user if `can_verify`
/// (without it the browser asks for no verification when the RP only prefers it).
pub fn browser(can_verify: bool) -> Browser {
    let mut authenticator = Authenticator::new(
        Aaguid::new_empty(),
        None,
        Person { can_verify },
        AvailableBackend,
    );
    authenticator.set_make_credentials_with_signature_counter(true);
    Client::new(authenticator)
        .allows_insecure_localhost(true)
        .user_verification_when_preferred(can_verify)
}

/// `navigator.credentials.create(options)` from `origin`; the new credential's JSON.
pub async fn create(
    browser: &mut Browser,
    options_json: &str,
    origin: &str,
) -> Result<String, passkey_client::WebauthnError> {
    let options: webauthn::CredentialCreationOptions = serde_json::from_str(options_json).unwrap();
    let created = browser
        .register(&Url::parse(origin).unwrap(), options, DefaultClientData)
        .await?;
    Ok(serde_json::to_string(&created).unwrap())
}

/// `navigator.credentials.get(options)` from `origin`; the assertion's JSON.
pub async fn get(
    browser: &mut Browser,
    options_json: &str,
    origin: &str,
) -> Result<String, passkey_client::WebauthnError> {
    let options: webauthn::CredentialRequestOptions = serde_json::from_str(options_json).unwrap();
    let assertion = browser
        .authenticate(&Url::parse(origin).unwrap(), options, DefaultClientData)
        .await?;
    Ok(serde_json::to_string(&assertion).unwrap())
}
