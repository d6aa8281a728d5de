//! The pending second factor: promotion, the five-wrong-codes rule, and the per-user limit.

use authd_account::{AccountError, PENDING_SESSION_ATTEMPTS, SecondFactor, SignIn};
use authd_kernel::Secret;
use authd_session::MfaStatus;

use crate::support::{PASSWORD, POLICY, laptop, run, world};

const WRONG: &str = "000000";

fn wrong_code_for(w: &crate::support::World, secret: &authd_mfa::TotpSecret) -> &'static str {
    let window: Vec<String> = (-1..=1).map(|o| w.totp(secret, o)).collect();
    ["000000", "111111", "222222", "333333"]
        .into_iter()
        .find(|c| !window.iter().any(|w| w == c))
        .unwrap()
}

#[test]
fn the_right_code_promotes_the_pending_session_to_a_verified_one() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    let secret = w.enrol_totp(&ada);
    let pending = w.pending_sign_in("ada@example.com");
    let caller = run(w
        .accounts
        .authenticate(pending.tokens.access_token.expose()))
    .unwrap();
    let code = w.totp(&secret, 1);
    let session =
        run(w
            .accounts
            .complete_second_factor(caller, SecondFactor::Totp(&code), &laptop()))
        .unwrap();
    assert_eq!(session.user.id, ada.id);
    assert_eq!(session.tokens.session_id, pending.tokens.session_id);
    assert_eq!(session.tokens.mfa, MfaStatus::Verified);
    assert!(run(w.accounts.refresh(&session.tokens.refresh_token, &laptop())).is_ok());
}

#[test]
fn a_recovery_code_promotes_the_pending_session_once() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    w.enrol_totp(&ada);
    let codes = run(w
        .accounts
        .mfa()
        .regenerate_recovery_codes(ada.id, &laptop()))
    .unwrap();
    let code = codes.codes[0].expose().to_owned();
    let pending = w.pending_sign_in("ada@example.com");
    let caller = run(w
        .accounts
        .authenticate(pending.tokens.access_token.expose()))
    .unwrap();
    run(w
        .accounts
        .complete_second_factor(caller, SecondFactor::RecoveryCode(&code), &laptop()))
    .unwrap();

    let again = w.pending_sign_in("ada@example.com");
    let caller = run(w.accounts.authenticate(again.tokens.access_token.expose())).unwrap();
    let spent = run(w.accounts.complete_second_factor(
        caller,
        SecondFactor::RecoveryCode(&code),
        &laptop(),
    ));
    assert!(
        matches!(spent, Err(AccountError::InvalidSecondFactor)),
        "{spent:?}"
    );
}

#[test]
fn a_full_session_has_no_second_factor_to_present() {
    let w = world();
    w.sign_up("ada@example.com");
    let SignIn::Complete(session) =
        run(w
            .accounts
            .sign_in_with_password("ada@example.com", &Secret::new(PASSWORD), &laptop()))
        .unwrap()
    else {
        panic!("expected a complete sign-in")
    };
    let caller = run(w
        .accounts
        .authenticate(session.tokens.access_token.expose()))
    .unwrap();
    let result =
        run(w
            .accounts
            .complete_second_factor(caller, SecondFactor::Totp(WRONG), &laptop()));
    assert!(
        matches!(result, Err(AccountError::SecondFactorNotPending)),
        "{result:?}"
    );
}

#[test]
fn the_fifth_wrong_code_revokes_the_pending_session_and_nothing_is_checked_after_it() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    let secret = w.enrol_totp(&ada);
    let wrong = wrong_code_for(&w, &secret);
    let pending = w.pending_sign_in("ada@example.com");
    let token = pending.tokens.access_token.expose();
    let caller = run(w.accounts.authenticate(token)).unwrap();
    for attempt in 1..=PENDING_SESSION_ATTEMPTS {
        let result =
            run(w
                .accounts
                .complete_second_factor(caller, SecondFactor::Totp(wrong), &laptop()));
        assert!(
            matches!(result, Err(AccountError::InvalidSecondFactor)),
            "attempt {attempt}: {result:?}"
        );
        let live = run(w.accounts.authenticate(token)).is_ok();
        assert_eq!(
            live,
            attempt < PENDING_SESSION_ATTEMPTS,
            "after attempt {attempt}"
        );
    }
    // Even the right code is not checked for a session out of attempts.
    let right = w.totp(&secret, 1);
    let result =
        run(w
            .accounts
            .complete_second_factor(caller, SecondFactor::Totp(&right), &laptop()));
    assert!(
        matches!(result, Err(AccountError::InvalidSecondFactor)),
        "{result:?}"
    );
}

#[test]
fn wrong_codes_are_limited_per_user_across_pending_sessions() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    let secret = w.enrol_totp(&ada);
    let wrong = wrong_code_for(&w, &secret);
    let max = POLICY.second_factor_failures_per_user.max;
    let mut failures = 0;
    while failures < max {
        let pending = w.pending_sign_in("ada@example.com");
        let caller = run(w
            .accounts
            .authenticate(pending.tokens.access_token.expose()))
        .unwrap();
        for _ in 0..2.min(max - failures) {
            let result = run(w.accounts.complete_second_factor(
                caller,
                SecondFactor::Totp(wrong),
                &laptop(),
            ));
            assert!(matches!(result, Err(AccountError::InvalidSecondFactor)));
            failures += 1;
        }
    }
    let pending = w.pending_sign_in("ada@example.com");
    let caller = run(w
        .accounts
        .authenticate(pending.tokens.access_token.expose()))
    .unwrap();
    let right = w.totp(&secret, 1);
    let result =
        run(w
            .accounts
            .complete_second_factor(caller, SecondFactor::Totp(&right), &laptop()));
    assert!(
        matches!(result, Err(AccountError::RateLimited { retry_after }) if retry_after == 900),
        "{result:?}"
    );
}

#[test]
fn a_right_code_forgets_the_users_wrong_ones() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    let secret = w.enrol_totp(&ada);
    let wrong = wrong_code_for(&w, &secret);
    let pending = w.pending_sign_in("ada@example.com");
    let caller = run(w
        .accounts
        .authenticate(pending.tokens.access_token.expose()))
    .unwrap();
    for _ in 0..3 {
        let _ =
            run(w
                .accounts
                .complete_second_factor(caller, SecondFactor::Totp(wrong), &laptop()));
    }
    assert_eq!(w.store.hits("mfa:user:"), 3);
    let right = w.totp(&secret, 1);
    run(w
        .accounts
        .complete_second_factor(caller, SecondFactor::Totp(&right), &laptop()))
    .unwrap();
    assert_eq!(w.store.hits("mfa:user:"), 0);
}

#[test]
fn guessing_at_disabling_mfa_is_limited_like_signing_in() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    let secret = w.enrol_totp(&ada);
    let wrong = wrong_code_for(&w, &secret);
    for _ in 0..POLICY.second_factor_failures_per_user.max {
        let result = run(w.accounts.disable_mfa(ada.id, wrong, &laptop()));
        assert!(matches!(result, Err(AccountError::Mfa(_))), "{result:?}");
    }
    let right = w.totp(&secret, 1);
    let result = run(w.accounts.disable_mfa(ada.id, &right, &laptop()));
    assert!(
        matches!(result, Err(AccountError::RateLimited { .. })),
        "{result:?}"
    );
    assert!(run(w.accounts.mfa().is_enabled(ada.id)).unwrap());
}
