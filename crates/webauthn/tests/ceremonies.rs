//! The adapter against real signed WebAuthn responses: passkey-client plays the browser and
//! passkey-authenticator a software authenticator, and their JSON goes through the port as a browser's would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_kernel::UserId;
use authd_passkey::ports::RelyingParty;
use authd_passkey::{Ceremony, PasskeyError, PasskeyId, PasskeyUser, StoredPasskey};
use authd_webauthn::{RpConfig, WebAuthnRelyingParty};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use uuid::Uuid;

use authd_testsupport::browser::{self, Browser, browser};
use webauthn_rs::prelude::{Credential, Passkey};

const ORIGIN: &str = "http://localhost:3000";

fn relying_party() -> WebAuthnRelyingParty {
    WebAuthnRelyingParty::new(RpConfig {
        rp_id: "localhost".to_owned(),
        rp_origin: ORIGIN.to_owned(),
        rp_name: "authd".to_owned(),
    })
    .unwrap()
}

fn ada() -> PasskeyUser {
    PasskeyUser {
        id: UserId::from_uuid(Uuid::new_v4()),
        name: "ada@example.com".to_owned(),
        display_name: "Ada".to_owned(),
    }
}

/// The browser's `navigator.credentials.create` on the ceremony's options, from `origin`; its answer.
async fn create(browser: &mut Browser, ceremony: &Ceremony, origin: &str) -> String {
    try_create(browser, ceremony, origin).await.unwrap()
}

async fn try_create(
    browser: &mut Browser,
    ceremony: &Ceremony,
    origin: &str,
) -> Result<String, passkey_client::WebauthnError> {
    browser::create(browser, &ceremony.options_json, origin).await
}

/// The browser's `navigator.credentials.get` on the ceremony's options, from `origin`; its answer.
async fn get(browser: &mut Browser, ceremony: &Ceremony, origin: &str) -> String {
    browser::get(browser, &ceremony.options_json, origin)
        .await
        .unwrap()
}

/// Registers a passkey for `user` with `browser` and returns it as authd would store it.
async fn register(
    rp: &WebAuthnRelyingParty,
    browser: &mut Browser,
    user: &PasskeyUser,
) -> StoredPasskey {
    let ceremony = rp.start_registration(user, &[]).unwrap();
    let response = create(browser, &ceremony, ORIGIN).await;
    assert_eq!(
        rp.response_challenge(&response).unwrap(),
        ceremony.challenge
    );
    let registered = rp.finish_registration(&response, &ceremony.state).unwrap();
    assert_eq!(
        rp.response_credential_id(&response).unwrap(),
        registered.credential_id
    );
    StoredPasskey {
        id: PasskeyId::from_uuid(Uuid::new_v4()),
        user_id: user.id,
        credential_id: registered.credential_id,
        name: "laptop".to_owned(),
        data: registered.data,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        last_used_at: None,
    }
}

/// The stored passkey with its webauthn-rs credential changed by `change`.
fn with_credential(stored: &StoredPasskey, change: impl FnOnce(&mut Credential)) -> StoredPasskey {
    let passkey: Passkey = serde_json::from_str(&stored.data).unwrap();
    let mut credential = Credential::from(passkey);
    change(&mut credential);
    StoredPasskey {
        data: serde_json::to_string(&Passkey::from(credential)).unwrap(),
        ..stored.clone()
    }
}

/// A refusal whose reason mentions `reason`, so that a test fails for the reason it is about.
#[track_caller]
fn assert_rejected(error: &PasskeyError, reason: &str) {
    match error {
        PasskeyError::Rejected(message) if message.contains(reason) => {}
        other => panic!("expected a refusal mentioning {reason:?}, got {other:?}"),
    }
}

fn counter_of(data: &str) -> u32 {
    let passkey: Passkey = serde_json::from_str(data).unwrap();
    Credential::from(passkey).counter
}

#[tokio::test]
async fn a_registered_passkey_logs_in_with_an_allow_list_and_its_counter_moves_on() {
    let rp = relying_party();
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &ada()).await;
    assert_eq!(counter_of(&stored.data), 0);

    let ceremony = rp
        .start_authentication(std::slice::from_ref(&stored))
        .unwrap();
    let response = get(&mut browser, &ceremony, ORIGIN).await;
    assert_eq!(
        rp.response_challenge(&response).unwrap(),
        ceremony.challenge
    );
    assert_eq!(
        rp.response_credential_id(&response).unwrap(),
        stored.credential_id
    );
    let authenticated = rp
        .finish_authentication(&response, &ceremony.state, &stored)
        .unwrap();

    assert_eq!(authenticated.credential_id, stored.credential_id);
    assert!(authenticated.user_verified);
    assert_eq!(counter_of(&authenticated.data), 1);
}

#[tokio::test]
async fn a_discoverable_passkey_logs_in_without_a_username() {
    let rp = relying_party();
    let mut browser = browser(true);
    let user = ada();
    let stored = register(&rp, &mut browser, &user).await;

    let ceremony = rp.start_authentication(&[]).unwrap();
    let options: Value = serde_json::from_str(&ceremony.options_json).unwrap();
    assert_eq!(
        options["publicKey"]["allowCredentials"],
        serde_json::json!([])
    );
    assert!(options.get("mediation").is_none());
    let response = get(&mut browser, &ceremony, ORIGIN).await;
    // The browser's answer names the user: authd finds the passkey by its credential id.
    assert_eq!(
        rp.response_credential_id(&response).unwrap(),
        stored.credential_id
    );
    let authenticated = rp
        .finish_authentication(&response, &ceremony.state, &stored)
        .unwrap();

    assert_eq!(authenticated.credential_id, stored.credential_id);
    assert!(authenticated.user_verified);
    assert_eq!(counter_of(&authenticated.data), 1);
}

#[tokio::test]
async fn a_usernameless_login_is_refused_when_the_user_handle_is_not_the_owner() {
    let rp = relying_party();
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &ada()).await;
    let someone_else = StoredPasskey {
        user_id: UserId::from_uuid(Uuid::new_v4()),
        ..stored
    };

    let ceremony = rp.start_authentication(&[]).unwrap();
    let response = get(&mut browser, &ceremony, ORIGIN).await;
    let error = rp
        .finish_authentication(&response, &ceremony.state, &someone_else)
        .unwrap_err();

    assert_rejected(&error, "user handle");
}

#[tokio::test]
async fn a_login_with_another_credential_than_the_given_one_is_refused() {
    let rp = relying_party();
    let mut browser = browser(true);
    let user = ada();
    let first = register(&rp, &mut browser, &user).await;
    let mut other_browser = browser_for_second_device();
    let second = register(&rp, &mut other_browser, &user).await;

    let ceremony = rp
        .start_authentication(&[first.clone(), second.clone()])
        .unwrap();
    let response = get(&mut browser, &ceremony, ORIGIN).await;
    let error = rp
        .finish_authentication(&response, &ceremony.state, &second)
        .unwrap_err();
    assert_rejected(&error, "another credential");
    rp.finish_authentication(&response, &ceremony.state, &first)
        .unwrap();
}

fn browser_for_second_device() -> Browser {
    browser(true)
}

#[tokio::test]
async fn a_response_from_another_origin_is_refused() {
    let rp = relying_party();
    let user = ada();

    // Registration made on another origin (same host, other port) does not verify.
    let mut elsewhere = browser(true);
    let ceremony = rp.start_registration(&user, &[]).unwrap();
    let response = create(&mut elsewhere, &ceremony, "http://localhost:4000").await;
    let error = rp
        .finish_registration(&response, &ceremony.state)
        .unwrap_err();
    assert_rejected(&error, "origin");

    // Nor does a login.
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &user).await;
    let ceremony = rp
        .start_authentication(std::slice::from_ref(&stored))
        .unwrap();
    let response = get(&mut browser, &ceremony, "http://localhost:4000").await;
    let error = rp
        .finish_authentication(&response, &ceremony.state, &stored)
        .unwrap_err();
    assert_rejected(&error, "origin");
}

#[tokio::test]
async fn a_response_to_another_ceremony_is_refused() {
    let rp = relying_party();
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &ada()).await;

    let answered = rp
        .start_authentication(std::slice::from_ref(&stored))
        .unwrap();
    let other = rp
        .start_authentication(std::slice::from_ref(&stored))
        .unwrap();
    let response = get(&mut browser, &answered, ORIGIN).await;
    let error = rp
        .finish_authentication(&response, &other.state, &stored)
        .unwrap_err();
    assert_rejected(&error, "challenge");

    // A login answer does not finish a registration either.
    let registration = rp.start_registration(&ada(), &[]).unwrap();
    assert!(
        rp.finish_authentication(&response, &registration.state, &stored)
            .is_err()
    );
}

#[tokio::test]
async fn a_replayed_assertion_is_refused_by_the_counter() {
    let rp = relying_party();
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &ada()).await;

    let ceremony = rp
        .start_authentication(std::slice::from_ref(&stored))
        .unwrap();
    let response = get(&mut browser, &ceremony, ORIGIN).await;
    let first = rp
        .finish_authentication(&response, &ceremony.state, &stored)
        .unwrap();
    // authd stores the new counter; the same answer (even with the same state, if authd failed to
    // spend it) now carries a counter that is not above the stored one.
    let updated = StoredPasskey {
        data: first.data,
        ..stored
    };
    let error = rp
        .finish_authentication(&response, &ceremony.state, &updated)
        .unwrap_err();

    assert!(matches!(error, PasskeyError::CounterRegressed), "{error:?}");
}

#[tokio::test]
async fn a_signature_counter_below_the_stored_one_is_refused() {
    let rp = relying_party();
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &ada()).await;
    // As if a clone of this authenticator had already signed ten times.
    let ahead = with_credential(&stored, |credential| credential.counter = 10);

    let ceremony = rp
        .start_authentication(std::slice::from_ref(&ahead))
        .unwrap();
    let response = get(&mut browser, &ceremony, ORIGIN).await;
    let error = rp
        .finish_authentication(&response, &ceremony.state, &ahead)
        .unwrap_err();

    assert!(matches!(error, PasskeyError::CounterRegressed), "{error:?}");
}

#[tokio::test]
async fn a_malformed_response_is_reported_as_malformed() {
    let rp = relying_party();
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &ada()).await;
    let registration = rp.start_registration(&ada(), &[]).unwrap();
    let login = rp
        .start_authentication(std::slice::from_ref(&stored))
        .unwrap();

    for garbage in [
        "not json",
        "{}",
        r#"{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"!!!"}}"#,
    ] {
        for error in [
            rp.finish_registration(garbage, &registration.state)
                .unwrap_err(),
            rp.finish_authentication(garbage, &login.state, &stored)
                .unwrap_err(),
            rp.response_challenge(garbage).unwrap_err(),
        ] {
            assert!(
                matches!(error, PasskeyError::Malformed(_)),
                "{garbage}: {error:?}"
            );
        }
    }
    assert!(matches!(
        rp.response_credential_id("{}").unwrap_err(),
        PasskeyError::Malformed(_)
    ));

    // Well-formed JSON whose authenticator data is cut short.
    let response = get(&mut browser, &login, ORIGIN).await;
    let mut value: Value = serde_json::from_str(&response).unwrap();
    value["response"]["authenticatorData"] = Value::String(URL_SAFE_NO_PAD.encode([1, 2, 3]));
    let error = rp
        .finish_authentication(&value.to_string(), &login.state, &stored)
        .unwrap_err();
    assert!(matches!(error, PasskeyError::Malformed(_)), "{error:?}");
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let rp = relying_party();
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &ada()).await;
    let ceremony = rp
        .start_authentication(std::slice::from_ref(&stored))
        .unwrap();
    let response = get(&mut browser, &ceremony, ORIGIN).await;

    let mut value: Value = serde_json::from_str(&response).unwrap();
    let client_data = value["response"]["clientDataJSON"].as_str().unwrap();
    let mut client_data: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(client_data).unwrap()).unwrap();
    client_data["crossOrigin"] = Value::Bool(false);
    client_data["extra"] = Value::String("changed after signing".to_owned());
    value["response"]["clientDataJSON"] =
        Value::String(URL_SAFE_NO_PAD.encode(client_data.to_string()));
    let error = rp
        .finish_authentication(&value.to_string(), &ceremony.state, &stored)
        .unwrap_err();

    assert_rejected(&error, "Authentication has failed");
}

#[tokio::test]
async fn existing_credentials_are_excluded_from_a_new_registration() {
    let rp = relying_party();
    let mut browser = browser(true);
    let user = ada();
    let stored = register(&rp, &mut browser, &user).await;

    let ceremony = rp
        .start_registration(&user, std::slice::from_ref(&stored))
        .unwrap();
    let options: Value = serde_json::from_str(&ceremony.options_json).unwrap();
    assert_eq!(
        options["publicKey"]["excludeCredentials"],
        serde_json::json!([{
            "type": "public-key",
            "id": URL_SAFE_NO_PAD.encode(&stored.credential_id.0),
        }])
    );
    // The authenticator that holds the credential refuses to make a second one.
    assert!(try_create(&mut browser, &ceremony, ORIGIN).await.is_err());
    // Another authenticator registers.
    let response = create(&mut browser_for_second_device(), &ceremony, ORIGIN).await;
    rp.finish_registration(&response, &ceremony.state).unwrap();
}

#[tokio::test]
async fn registration_options_are_what_navigator_credentials_create_takes() {
    let rp = relying_party();
    let user = ada();
    let existing = StoredPasskey {
        id: PasskeyId::from_uuid(Uuid::new_v4()),
        user_id: user.id,
        credential_id: authd_passkey::CredentialId(vec![7; 16]),
        name: "old".to_owned(),
        data: String::new(),
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        last_used_at: None,
    };

    let ceremony = rp.start_registration(&user, &[existing]).unwrap();
    let options: Value = serde_json::from_str(&ceremony.options_json).unwrap();
    let object = options.as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), ["publicKey"]);
    let public_key = &options["publicKey"];

    assert_eq!(
        public_key["rp"],
        serde_json::json!({"id": "localhost", "name": "authd"})
    );
    assert_eq!(
        public_key["user"],
        serde_json::json!({
            "id": URL_SAFE_NO_PAD.encode(user.id.as_uuid().as_bytes()),
            "name": "ada@example.com",
            "displayName": "Ada",
        })
    );
    assert_eq!(
        public_key["challenge"],
        Value::String(ceremony.challenge.clone())
    );
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&ceremony.challenge).unwrap().len(),
        32
    );
    let algorithms: Vec<i64> = public_key["pubKeyCredParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["type"], "public-key");
            p["alg"].as_i64().unwrap()
        })
        .collect();
    assert!(
        algorithms.contains(&-7) && algorithms.contains(&-257),
        "{algorithms:?}"
    );
    assert_eq!(
        public_key["authenticatorSelection"],
        serde_json::json!({
            "residentKey": "preferred",
            "requireResidentKey": false,
            "userVerification": "preferred",
        })
    );
    assert_eq!(
        public_key["excludeCredentials"],
        serde_json::json!([{"type": "public-key", "id": URL_SAFE_NO_PAD.encode([7; 16])}])
    );
    assert_eq!(public_key["timeout"], 300_000);
    assert_eq!(public_key["attestation"], "none");
    // No credProtect "userVerificationRequired": it would contradict "preferred".
    assert!(
        public_key["extensions"]
            .get("credentialProtectionPolicy")
            .is_none()
    );
}

#[tokio::test]
async fn login_options_are_what_navigator_credentials_get_takes() {
    let rp = relying_party();
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &ada()).await;

    let ceremony = rp
        .start_authentication(std::slice::from_ref(&stored))
        .unwrap();
    let options: Value = serde_json::from_str(&ceremony.options_json).unwrap();
    assert_eq!(
        options.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["publicKey"]
    );
    let public_key = &options["publicKey"];
    assert_eq!(
        public_key["challenge"],
        Value::String(ceremony.challenge.clone())
    );
    assert_eq!(public_key["rpId"], "localhost");
    assert_eq!(public_key["userVerification"], "preferred");
    assert_eq!(public_key["timeout"], 300_000);
    let allowed = public_key["allowCredentials"].as_array().unwrap();
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["type"], "public-key");
    assert_eq!(
        allowed[0]["id"],
        Value::String(URL_SAFE_NO_PAD.encode(&stored.credential_id.0))
    );
}

#[tokio::test]
async fn an_authenticator_without_user_verification_registers_and_logs_in_unverified() {
    let rp = relying_party();
    let mut browser = browser(false);
    let stored = register(&rp, &mut browser, &ada()).await;

    for allowed in [std::slice::from_ref(&stored), &[]] {
        let ceremony = rp.start_authentication(allowed).unwrap();
        let response = get(&mut browser, &ceremony, ORIGIN).await;
        let authenticated = rp
            .finish_authentication(&response, &ceremony.state, &stored)
            .unwrap();
        assert!(!authenticated.user_verified);
    }
}

#[tokio::test]
async fn a_passkey_registered_with_verification_must_keep_verifying() {
    let rp = relying_party();
    let mut browser = browser(true);
    let stored = register(&rp, &mut browser, &ada()).await;

    // The same authenticator, now answering "preferred" without verifying (webauthn-rs refuses this:
    // the user was shown a PIN or biometric prompt at registration).
    let mut unverified = browser.user_verification_when_preferred(false);
    let ceremony = rp
        .start_authentication(std::slice::from_ref(&stored))
        .unwrap();
    let response = get(&mut unverified, &ceremony, ORIGIN).await;
    let error = rp
        .finish_authentication(&response, &ceremony.state, &stored)
        .unwrap_err();

    assert_rejected(&error, "verified");
}

#[test]
fn an_origin_outside_the_rp_id_is_a_configuration_error() {
    for (rp_id, origin) in [
        ("example.com", "https://example.org"),
        ("localhost", "not a url"),
        ("", "http://localhost:3000"),
    ] {
        let error = WebAuthnRelyingParty::new(RpConfig {
            rp_id: rp_id.to_owned(),
            rp_origin: origin.to_owned(),
            rp_name: "authd".to_owned(),
        })
        .unwrap_err();
        assert!(matches!(error, PasskeyError::RelyingParty(_)), "{error:?}");
    }
    WebAuthnRelyingParty::new(RpConfig {
        rp_id: "example.com".to_owned(),
        rp_origin: "https://login.example.com".to_owned(),
        rp_name: "authd".to_owned(),
    })
    .unwrap();
}
