//! The scripted relying party refuses what the real one refuses.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_kernel::{OsRandom, SystemClock, UserId};
use authd_passkey::ports::RelyingParty as _;
use authd_passkey::{PasskeyError, PasskeyId, PasskeyUser, StoredPasskey};
use authd_testkit::{FakeRelyingParty, FakeResponse};
use time::macros::datetime;

fn answer(challenge: &str, credential_id: &str, counter: u32) -> String {
    FakeResponse {
        challenge: challenge.into(),
        credential_id: credential_id.into(),
        counter,
        user_verified: true,
    }
    .to_json()
}

/// A credential registered through the fake at `counter`.
fn registered(rp: &FakeRelyingParty, counter: u32) -> StoredPasskey {
    let user = PasskeyUser {
        id: UserId::generate(&SystemClock, &OsRandom),
        name: "ada@example.com".into(),
        display_name: "Ada".into(),
    };
    let ceremony = rp.start_registration(&user, &[]).unwrap();
    let credential = rp
        .finish_registration(
            &answer(&ceremony.challenge, "cred-a", counter),
            &ceremony.state,
        )
        .unwrap();
    StoredPasskey {
        id: PasskeyId::generate(&SystemClock, &OsRandom),
        user_id: user.id,
        credential_id: credential.credential_id,
        name: "Passkey".into(),
        data: credential.data,
        created_at: datetime!(2026-06-01 12:00 UTC),
        last_used_at: None,
    }
}

#[test]
fn challenges_are_new_for_every_ceremony_and_found_in_the_options() {
    let rp = FakeRelyingParty::new();
    let first = rp.start_authentication(&[]).unwrap();
    let second = rp.start_authentication(&[]).unwrap();
    assert_ne!(first.challenge, second.challenge);
    assert_eq!(
        FakeRelyingParty::challenge_of(&first.options_json).unwrap(),
        first.challenge
    );
}

#[test]
fn an_answer_to_another_challenge_is_rejected() {
    let rp = FakeRelyingParty::new();
    let ceremony = rp.start_authentication(&[]).unwrap();
    let stored = registered(&rp, 1);
    let result = rp.finish_authentication(
        &answer("challenge-99", "cred-a", 2),
        &ceremony.state,
        &stored,
    );
    assert!(
        matches!(result, Err(PasskeyError::Rejected(_))),
        "{result:?}"
    );
    let registration = rp
        .start_registration(
            &PasskeyUser {
                id: stored.user_id,
                name: "ada@example.com".into(),
                display_name: "Ada".into(),
            },
            &[],
        )
        .unwrap();
    let result = rp.finish_registration(&answer("challenge-99", "cred-b", 0), &registration.state);
    assert!(
        matches!(result, Err(PasskeyError::Rejected(_))),
        "{result:?}"
    );
}

#[test]
fn the_counter_must_move_forward_unless_the_authenticator_keeps_none() {
    let rp = FakeRelyingParty::new();
    let stored = registered(&rp, 3);
    for stale in [3, 2] {
        let ceremony = rp.start_authentication(&[]).unwrap();
        let result = rp.finish_authentication(
            &answer(&ceremony.challenge, "cred-a", stale),
            &ceremony.state,
            &stored,
        );
        assert!(
            matches!(result, Err(PasskeyError::CounterRegressed)),
            "{result:?}"
        );
    }
    let ceremony = rp.start_authentication(&[]).unwrap();
    let used = rp
        .finish_authentication(
            &answer(&ceremony.challenge, "cred-a", 4),
            &ceremony.state,
            &stored,
        )
        .unwrap();
    assert_ne!(used.data, stored.data, "the new counter is not stored back");

    let counterless = registered(&rp, 0);
    let ceremony = rp.start_authentication(&[]).unwrap();
    rp.finish_authentication(
        &answer(&ceremony.challenge, "cred-a", 0),
        &ceremony.state,
        &counterless,
    )
    .unwrap();
}

#[test]
fn an_assertion_by_another_credential_is_rejected() {
    let rp = FakeRelyingParty::new();
    let stored = registered(&rp, 1);
    let ceremony = rp.start_authentication(&[]).unwrap();
    let result = rp.finish_authentication(
        &answer(&ceremony.challenge, "cred-b", 2),
        &ceremony.state,
        &stored,
    );
    assert!(
        matches!(result, Err(PasskeyError::Rejected(_))),
        "{result:?}"
    );
}
