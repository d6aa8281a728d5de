//! Which session each first factor earns, and refreshing and signing out.

use authd_account::{AccountError, SignIn};
use authd_identity::IdentityError;
use authd_kernel::Secret;
use authd_session::{MfaStatus, SessionError};

use crate::support::{PASSWORD, github, run, world};

fn complete(sign_in: SignIn) -> authd_account::FullSession {
    match sign_in {
        SignIn::Complete(session) => session,
        SignIn::SecondFactorRequired(_) => panic!("expected a complete sign-in"),
    }
}

#[test]
fn signing_up_starts_a_full_session_whose_token_authenticates() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    let session = complete(
        run(w
            .accounts
            .sign_in_with_password("ada@example.com", &Secret::new(PASSWORD), None))
        .unwrap(),
    );
    assert_eq!(session.user.id, ada.id);
    assert_eq!(session.tokens.mfa, MfaStatus::NotEnrolled);
    let caller = run(w
        .accounts
        .authenticate(session.tokens.access_token.expose()))
    .unwrap();
    assert_eq!(
        (caller.user_id, caller.mfa),
        (ada.id, MfaStatus::NotEnrolled)
    );
}

#[test]
fn a_password_sign_in_of_a_user_with_totp_waits_for_the_second_factor() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    w.enrol_totp(&ada);
    let pending = w.pending_sign_in("ada@example.com");
    assert_eq!(pending.user.id, ada.id);
    let caller = run(w
        .accounts
        .authenticate(pending.tokens.access_token.expose()))
    .unwrap();
    assert_eq!(caller.mfa, MfaStatus::Pending);
    assert_eq!(caller.session_id, pending.tokens.session_id);
}

#[test]
fn a_wrong_password_is_refused_as_invalid_credentials() {
    let w = world();
    w.sign_up("ada@example.com");
    let result = run(w.accounts.sign_in_with_password(
        "ada@example.com",
        &Secret::new("not the password"),
        None,
    ));
    assert!(
        matches!(
            result,
            Err(AccountError::Identity(IdentityError::InvalidCredentials))
        ),
        "{result:?}"
    );
}

#[test]
fn a_user_verified_passkey_is_both_factors_even_with_totp_on() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    w.enrol_totp(&ada);
    w.register_passkey(&ada, "cred-a", true);
    let assertion = w.passkey_assertion("cred-a", 2, true);
    let session = complete(run(w.accounts.sign_in_with_passkey(&assertion)).unwrap());
    assert_eq!(session.user.id, ada.id);
    assert_eq!(session.tokens.mfa, MfaStatus::Verified);
}

#[test]
fn a_passkey_without_user_verification_is_one_factor() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    w.register_passkey(&ada, "cred-a", false);
    let assertion = w.passkey_assertion("cred-a", 2, false);
    let session = complete(run(w.accounts.sign_in_with_passkey(&assertion)).unwrap());
    assert_eq!(session.tokens.mfa, MfaStatus::NotEnrolled);

    w.enrol_totp(&ada);
    let assertion = w.passkey_assertion("cred-a", 3, false);
    let sign_in = run(w.accounts.sign_in_with_passkey(&assertion)).unwrap();
    assert!(
        matches!(sign_in, SignIn::SecondFactorRequired(_)),
        "{sign_in:?}"
    );
}

#[test]
fn a_provider_sign_up_creates_the_account_and_signs_it_in() {
    let w = world();
    let done = w
        .provider_callback(github("gh-1", "grace@example.com"))
        .unwrap();
    assert!(done.created);
    assert_eq!(done.redirect_to.as_str(), "/welcome");
    let session = complete(done.sign_in);
    assert_eq!(session.user.email.as_str(), "grace@example.com");
}

#[test]
fn a_provider_sign_in_of_a_user_with_totp_waits_for_the_second_factor() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    w.enrol_totp(&ada);
    let done = w
        .provider_callback(github("gh-1", "ada@example.com"))
        .unwrap();
    assert!(!done.created);
    assert!(
        matches!(&done.sign_in, SignIn::SecondFactorRequired(p) if p.user.id == ada.id),
        "{:?}",
        done.sign_in
    );
}

#[test]
fn refreshing_rotates_the_token_and_a_reused_one_ends_the_session() {
    let w = world();
    w.sign_up("ada@example.com");
    let first = complete(
        run(w
            .accounts
            .sign_in_with_password("ada@example.com", &Secret::new(PASSWORD), None))
        .unwrap(),
    );
    let second = run(w.accounts.refresh(&first.tokens.refresh_token)).unwrap();
    assert_eq!(second.user.id, first.user.id);
    assert_eq!(second.tokens.session_id, first.tokens.session_id);

    let reused = run(w.accounts.refresh(&first.tokens.refresh_token));
    assert!(
        matches!(
            reused,
            Err(AccountError::Session(SessionError::RefreshTokenReused))
        ),
        "{reused:?}"
    );
    assert!(run(w.accounts.refresh(&second.tokens.refresh_token)).is_err());
}

#[test]
fn signing_out_ends_the_session_named_by_either_token() {
    let w = world();
    w.sign_up("ada@example.com");
    let sign_in = || {
        complete(
            run(w
                .accounts
                .sign_in_with_password("ada@example.com", &Secret::new(PASSWORD), None))
            .unwrap(),
        )
    };
    let by_access = sign_in();
    run(w
        .accounts
        .sign_out(Some(by_access.tokens.access_token.expose()), None))
    .unwrap();
    assert!(
        run(w
            .accounts
            .authenticate(by_access.tokens.access_token.expose()))
        .is_err()
    );

    let by_refresh = sign_in();
    run(w
        .accounts
        .sign_out(None, Some(&by_refresh.tokens.refresh_token)))
    .unwrap();
    assert!(
        run(w
            .accounts
            .authenticate(by_refresh.tokens.access_token.expose()))
        .is_err()
    );
    run(w.accounts.sign_out(None, None)).unwrap();
}
