//! Which session each first factor earns, and refreshing and signing out.

use authd_account::{AccountError, ProviderCallback, SignIn};
use authd_identity::IdentityError;
use authd_kernel::Secret;
use authd_oauth::{OAuthError, ProviderKind};
use authd_session::{MfaStatus, SessionError};

use crate::support::{PASSWORD, github, laptop, run, world};

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
            .sign_in_with_password("ada@example.com", &Secret::new(PASSWORD), &laptop()))
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
        &laptop(),
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
    let session = complete(run(w.accounts.sign_in_with_passkey(&assertion, &laptop())).unwrap());
    assert_eq!(session.user.id, ada.id);
    assert_eq!(session.tokens.mfa, MfaStatus::Verified);
}

#[test]
fn a_passkey_without_user_verification_is_one_factor() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    w.register_passkey(&ada, "cred-a", false);
    let assertion = w.passkey_assertion("cred-a", 2, false);
    let session = complete(run(w.accounts.sign_in_with_passkey(&assertion, &laptop())).unwrap());
    assert_eq!(session.tokens.mfa, MfaStatus::NotEnrolled);

    w.enrol_totp(&ada);
    let assertion = w.passkey_assertion("cred-a", 3, false);
    let sign_in = run(w.accounts.sign_in_with_passkey(&assertion, &laptop())).unwrap();
    assert!(
        matches!(sign_in, SignIn::SecondFactorRequired(_)),
        "{sign_in:?}"
    );
}

#[test]
fn a_provider_sign_up_creates_the_account_and_signs_it_in() {
    let w = world();
    let done = w
        .provider_sign_in(github("gh-1", "grace@example.com"))
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
        .provider_sign_in(github("gh-1", "ada@example.com"))
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
            .sign_in_with_password("ada@example.com", &Secret::new(PASSWORD), &laptop()))
        .unwrap(),
    );
    let second = run(w.accounts.refresh(&first.tokens.refresh_token, &laptop())).unwrap();
    assert_eq!(second.user.id, first.user.id);
    assert_eq!(second.tokens.session_id, first.tokens.session_id);

    let reused = run(w.accounts.refresh(&first.tokens.refresh_token, &laptop()));
    assert!(
        matches!(
            reused,
            Err(AccountError::Session(SessionError::RefreshTokenReused))
        ),
        "{reused:?}"
    );
    assert!(run(w.accounts.refresh(&second.tokens.refresh_token, &laptop())).is_err());
}

#[test]
fn signing_out_ends_the_session_named_by_either_token() {
    let w = world();
    w.sign_up("ada@example.com");
    let sign_in = || {
        complete(
            run(w.accounts.sign_in_with_password(
                "ada@example.com",
                &Secret::new(PASSWORD),
                &laptop(),
            ))
            .unwrap(),
        )
    };
    let by_access = sign_in();
    run(w.accounts.sign_out(
        Some(by_access.tokens.access_token.expose()),
        None,
        &laptop(),
    ))
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
        .sign_out(None, Some(&by_refresh.tokens.refresh_token), &laptop()))
    .unwrap();
    assert!(
        run(w
            .accounts
            .authenticate(by_refresh.tokens.access_token.expose()))
        .is_err()
    );
    run(w.accounts.sign_out(None, None, &laptop())).unwrap();
}

#[test]
fn a_link_flow_links_while_its_session_lives_and_starts_no_session() {
    let w = world();
    w.sign_up("ada@example.com");
    let session = complete(
        run(w
            .accounts
            .sign_in_with_password("ada@example.com", &Secret::new(PASSWORD), &laptop()))
        .unwrap(),
    );
    let begin = || {
        run(w.accounts.oauth().begin_link(
            ProviderKind::GitHub,
            Some("/settings"),
            session.user.id,
            session.tokens.session_id,
        ))
        .unwrap()
    };
    let sessions_before = w.store.sessions_of(session.user.id).len();
    let linked = w
        .provider_callback(github("gh-1", "ada@github.example"), &begin())
        .unwrap();
    assert!(
        matches!(&linked, ProviderCallback::Linked { user, redirect_to }
            if *user == session.user.id && redirect_to.as_str() == "/settings"),
        "{linked:?}"
    );
    assert_eq!(
        w.store.sessions_of(session.user.id).len(),
        sessions_before,
        "no session started"
    );

    let flow = begin();
    run(w
        .accounts
        .sign_out(Some(session.tokens.access_token.expose()), None, &laptop()))
    .unwrap();
    let after_logout = w.provider_callback(github("gh-2", "ada@gitlab.example"), &flow);
    assert!(
        matches!(
            after_logout,
            Err(AccountError::OAuth(OAuthError::InvalidState))
        ),
        "{after_logout:?}"
    );
    let links = run(w.accounts.oauth().links(session.user.id)).unwrap();
    assert_eq!(links.len(), 1, "nothing linked after the session ended");
}
