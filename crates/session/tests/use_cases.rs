//! Session use cases against in-memory fakes and a fixed clock: issue, authenticate, rotate, reuse, revoke.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_kernel::{Client, OsRandom, Secret, UserId};
use authd_session::{
    KeyId, KeyRing, MfaStatus, SessionError, SessionPolicy, SessionService, SignInMethod,
    SigningKey,
};
use authd_testkit::{FixedClock, MemorySessions, SeededRandom};
use futures_util::FutureExt as _;
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

type Service = SessionService<MemorySessions, FixedClock, SeededRandom>;

struct World {
    service: Service,
    sessions: MemorySessions,
    clock: FixedClock,
}

fn world() -> World {
    let sessions = MemorySessions::default();
    let clock = FixedClock::at(datetime!(2026-03-01 09:00 UTC));
    let keys = KeyRing::single(SigningKey::generate(KeyId(1), &OsRandom).unwrap());
    let service = SessionService::new(
        sessions.clone(),
        keys,
        SessionPolicy::default(),
        clock.clone(),
        SeededRandom::new(1),
    );
    World {
        service,
        sessions,
        clock,
    }
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    future
        .now_or_never()
        .expect("in-memory fakes never suspend")
}

const ADA: UserId = UserId::from_uuid(Uuid::from_u128(42));

#[test]
fn a_full_session_gets_an_access_token_that_authenticates_and_a_refresh_token() {
    let w = world();
    let issued =
        run(w
            .service
            .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
        .unwrap();
    assert_eq!(issued.expires_in, 900);
    let who = run(w.service.authenticate(issued.access_token.expose())).unwrap();
    assert_eq!(who.user_id, ADA);
    assert_eq!(who.session_id, issued.session_id);
}

#[test]
fn an_access_token_expires_after_its_lifetime() {
    let w = world();
    let issued =
        run(w
            .service
            .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
        .unwrap();
    w.clock.advance(Duration::minutes(15));
    let result = run(w.service.authenticate(issued.access_token.expose()));
    assert!(matches!(result, Err(SessionError::InvalidAccessToken)));
}

#[test]
fn a_pending_session_has_no_refresh_token_and_lives_five_minutes() {
    let w = world();
    let issued = run(w
        .service
        .start_pending(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    assert_eq!(issued.expires_in, 300);
    let session = w.sessions.session(issued.session_id).unwrap();
    assert_eq!(
        session.expires_at - session.created_at,
        Duration::minutes(5)
    );
    assert_eq!(
        run(w.service.authenticate(issued.access_token.expose()))
            .unwrap()
            .mfa,
        MfaStatus::Pending
    );
}

#[test]
fn refreshing_rotates_the_token_and_the_old_one_stops_working() {
    let w = world();
    let first = run(w
        .service
        .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    let old_refresh = first.refresh_token;
    w.clock.advance(Duration::minutes(20));
    let second = run(w.service.refresh(&old_refresh, &Client::default())).unwrap();
    let new_refresh = second.refresh_token.clone();
    assert_ne!(new_refresh, old_refresh);
    assert_eq!(second.session_id, first.session_id);
    assert!(run(w.service.authenticate(second.access_token.expose())).is_ok());
    let session = w.sessions.session(first.session_id).unwrap();
    assert_eq!(
        session.expires_at,
        datetime!(2026-03-01 09:20 UTC) + Duration::days(30)
    );
}

#[test]
fn reusing_a_rotated_refresh_token_revokes_the_whole_session() {
    let w = world();
    let first = run(w
        .service
        .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    let old_refresh = first.refresh_token;
    let second = run(w.service.refresh(&old_refresh, &Client::default())).unwrap();

    let reuse = run(w.service.refresh(&old_refresh, &Client::default()));
    assert!(matches!(reuse, Err(SessionError::RefreshTokenReused)));
    assert!(
        w.sessions
            .session(first.session_id)
            .unwrap()
            .revoked_at
            .is_some()
    );
    // The legitimate holder's newer tokens die with the session.
    assert!(run(w.service.authenticate(second.access_token.expose())).is_err());
    assert!(run(w.service.refresh(&second.refresh_token, &Client::default())).is_err());
}

#[test]
fn unknown_and_expired_refresh_tokens_are_refused() {
    let w = world();
    let unknown = run(w
        .service
        .refresh(&Secret::new("made-up"), &Client::default()));
    assert!(matches!(unknown, Err(SessionError::InvalidRefreshToken)));

    let issued =
        run(w
            .service
            .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
        .unwrap();
    w.clock.advance(Duration::days(30));
    let expired = run(w.service.refresh(&issued.refresh_token, &Client::default()));
    assert!(matches!(expired, Err(SessionError::InvalidRefreshToken)));
}

#[test]
fn logout_revokes_the_session_by_access_token_or_by_refresh_token() {
    let w = world();
    let by_access =
        run(w
            .service
            .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
        .unwrap();
    run(w.service.logout(
        Some(by_access.access_token.expose()),
        None,
        &Client::default(),
    ))
    .unwrap();
    assert!(run(w.service.authenticate(by_access.access_token.expose())).is_err());

    let by_refresh =
        run(w
            .service
            .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
        .unwrap();
    run(w
        .service
        .logout(None, Some(&by_refresh.refresh_token), &Client::default()))
    .unwrap();
    assert!(run(w.service.authenticate(by_refresh.access_token.expose())).is_err());
    assert!(
        run(w
            .service
            .refresh(&by_refresh.refresh_token, &Client::default()))
        .is_err()
    );

    run(w.service.logout(Some("garbage"), None, &Client::default())).unwrap();
    run(w.service.logout(None, None, &Client::default())).unwrap();
}

#[test]
fn revoking_all_sessions_of_a_user_ends_each_of_them() {
    let w = world();
    let a = run(w
        .service
        .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    let b = run(w
        .service
        .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    run(w.service.revoke_all(ADA)).unwrap();
    assert!(run(w.service.authenticate(a.access_token.expose())).is_err());
    assert!(run(w.service.authenticate(b.access_token.expose())).is_err());
}

#[test]
fn completing_mfa_turns_a_pending_session_into_a_full_one_once() {
    let w = world();
    let pending = run(w
        .service
        .start_pending(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    let full = run(w.service.complete_mfa(pending.session_id)).unwrap();
    assert_eq!(full.mfa, MfaStatus::Verified);
    assert_eq!(full.session_id, pending.session_id);
    assert_eq!(
        run(w.service.authenticate(full.access_token.expose()))
            .unwrap()
            .mfa,
        MfaStatus::Verified
    );
    // The pending token keeps its pending claim.
    assert_eq!(
        run(w.service.authenticate(pending.access_token.expose()))
            .unwrap()
            .mfa,
        MfaStatus::Pending
    );
    assert!(
        run(w.service.complete_mfa(pending.session_id)).is_err(),
        "completed twice"
    );
    let session = w.sessions.session(pending.session_id).unwrap();
    assert_eq!(session.expires_at - session.created_at, Duration::days(30));
}

#[test]
fn the_fifth_wrong_code_revokes_the_pending_session() {
    let w = world();
    let pending = run(w
        .service
        .start_pending(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    for _ in 0..4 {
        let attempt = run(w.service.begin_mfa_attempt(pending.session_id, 5))
            .unwrap()
            .unwrap();
        assert!(!run(w.service.fail_mfa_attempt(attempt)).unwrap());
    }
    let fifth = run(w.service.begin_mfa_attempt(pending.session_id, 5))
        .unwrap()
        .unwrap();
    assert!(run(w.service.fail_mfa_attempt(fifth)).unwrap());
    assert!(run(w.service.authenticate(pending.access_token.expose())).is_err());
    assert!(run(w.service.complete_mfa(pending.session_id)).is_err());
    assert!(
        run(w.service.begin_mfa_attempt(pending.session_id, 5))
            .unwrap()
            .is_none()
    );
}

#[test]
fn attempts_in_flight_at_once_are_capped_before_any_code_is_checked() {
    let w = world();
    let pending = run(w
        .service
        .start_pending(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    // Ten attempts opened before any of them is judged: only five get to check a code.
    let opened: Vec<_> = (0..10)
        .map(|_| run(w.service.begin_mfa_attempt(pending.session_id, 5)).unwrap())
        .collect();
    assert_eq!(opened.iter().filter(|a| a.is_some()).count(), 5);
    let full = run(w
        .service
        .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    assert!(
        run(w.service.begin_mfa_attempt(full.session_id, 5))
            .unwrap()
            .is_none(),
        "only pending sessions take second-factor attempts"
    );
}

#[test]
fn a_full_session_cannot_be_completed() {
    let w = world();
    let full = run(w
        .service
        .start_single_factor(ADA, &Client::default(), SignInMethod::Password))
    .unwrap();
    assert!(matches!(
        run(w.service.complete_mfa(full.session_id)),
        Err(SessionError::InvalidAccessToken)
    ));
}
