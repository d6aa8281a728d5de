//! The contract of [`SessionRepository`].

use authd_identity::User;
use authd_identity::ports::UserRepository;
use std::net::IpAddr;

use authd_account::ports::SecurityLog;
use authd_kernel::{Client, DetailValue, EventKind, OsRandom, SecurityEvent, SystemClock, UserId};
use authd_session::ports::SessionRepository;
use authd_session::{MfaStatus, RefreshRecord, Session, SessionId, SignInMethod};
use time::{Duration, OffsetDateTime};

use super::{T0, registered, token_hash};

/// A full session of `user` from [`T0`] for 30 days, not stored.
pub fn session_of(user: &User) -> Session {
    Session {
        id: SessionId::generate(&SystemClock, &OsRandom),
        user_id: user.id,
        mfa: MfaStatus::NotEnrolled,
        created_at: T0,
        expires_at: T0 + Duration::days(30),
        revoked_at: None,
        authenticated_at: T0,
        last_used_at: T0,
        client: laptop(),
        method: SignInMethod::Password,
    }
}

/// An event of `kind` for `user`, now, from the laptop.
pub fn event(user: &User, kind: EventKind) -> SecurityEvent {
    event_for(user.id, kind)
}

/// An event of `kind` for the user with this id, now, from the laptop.
pub fn event_for(user: UserId, kind: EventKind) -> SecurityEvent {
    SecurityEvent::new(kind, user, &laptop(), &SystemClock, &OsRandom)
}

/// The client sessions are signed in from.
pub fn laptop() -> Client {
    Client::new(
        Some(IpAddr::from([192, 0, 2, 1])),
        Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"),
    )
}

/// Another client: another network, another browser.
pub fn phone() -> Client {
    Client::new(
        Some("2001:db8::7".parse().unwrap()),
        Some("Safari/19 Mobile"),
    )
}

/// A session of `user` waiting for its second factor, not stored.
pub fn pending_of(user: &User) -> Session {
    Session {
        mfa: MfaStatus::Pending,
        expires_at: T0 + Duration::minutes(5),
        ..session_of(user)
    }
}

/// A refresh token of `session` issued at `at`, not stored.
pub fn refresh_of(session: &Session, at: OffsetDateTime) -> RefreshRecord {
    RefreshRecord {
        hash: token_hash(),
        session_id: session.id,
        created_at: at,
        expires_at: at + Duration::days(30),
        used_at: None,
    }
}

/// A session is stored with its first refresh token, or alone when pending; both are found again.
pub async fn a_session_and_its_refresh_token_are_stored_together<R>(repo: R)
where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let session = session_of(&user);
    let record = refresh_of(&session, T0);
    repo.create(&session, Some(&record), None).await.unwrap();
    assert_eq!(repo.find(session.id).await.unwrap(), Some(session.clone()));
    assert_eq!(
        repo.find_refresh(&record.hash).await.unwrap(),
        Some((record, session))
    );
    assert!(repo.find_refresh(&token_hash()).await.unwrap().is_none());
    let unknown = SessionId::generate(&SystemClock, &OsRandom);
    assert!(repo.find(unknown).await.unwrap().is_none());

    let pending = pending_of(&user);
    repo.create(&pending, None, None).await.unwrap();
    assert_eq!(repo.find(pending.id).await.unwrap(), Some(pending));
}

/// A rotation marks the old token used, stores the new one and moves the session's expiry; MUST return
/// `Ok(false)`, writing nothing, for a used token.
pub async fn a_refresh_token_rotates_exactly_once_and_a_refused_rotation_writes_nothing<R>(repo: R)
where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let session = session_of(&user);
    let first = refresh_of(&session, T0);
    repo.create(&session, Some(&first), None).await.unwrap();

    let later = T0 + Duration::hours(2);
    let second = refresh_of(&session, later);
    assert!(
        repo.rotate_refresh(&first.hash, &second, later, &phone())
            .await
            .unwrap()
    );
    let (used, _) = repo.find_refresh(&first.hash).await.unwrap().unwrap();
    assert_eq!(used.used_at, Some(later));
    assert!(repo.find_refresh(&second.hash).await.unwrap().is_some());
    let renewed = repo.find(session.id).await.unwrap().unwrap();
    assert_eq!(
        (renewed.expires_at, renewed.last_used_at, &renewed.client),
        (second.expires_at, later, &phone())
    );
    assert_eq!(renewed.authenticated_at, T0, "a refresh proves no factor");

    let much_later = T0 + Duration::days(3);
    let third = refresh_of(&session, much_later);
    assert!(
        !repo
            .rotate_refresh(&first.hash, &third, much_later, &phone())
            .await
            .unwrap()
    );
    assert!(
        repo.find_refresh(&third.hash).await.unwrap().is_none(),
        "a refused rotation wrote its token"
    );
    let (still_used, _) = repo.find_refresh(&first.hash).await.unwrap().unwrap();
    assert_eq!(still_used.used_at, Some(later));
    assert_eq!(
        repo.find(session.id).await.unwrap().unwrap().expires_at,
        second.expires_at,
        "a refused rotation moved the expiry"
    );
    let unknown = refresh_of(&session, much_later);
    assert!(
        !repo
            .rotate_refresh(&token_hash(), &unknown, much_later, &phone())
            .await
            .unwrap()
    );
}

/// Promotion verifies a pending session, moves its expiry and stores its refresh token; MUST return
/// `Ok(false)`, writing nothing, when the session is not pending any more.
pub async fn a_pending_session_is_promoted_once_and_a_refused_promotion_writes_nothing<R>(repo: R)
where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let pending = pending_of(&user);
    repo.create(&pending, None, None).await.unwrap();
    let refresh = refresh_of(&pending, T0);
    assert!(
        repo.promote(
            pending.id,
            &refresh,
            T0 + Duration::minutes(1),
            &event(&user, EventKind::SignedIn)
        )
        .await
        .unwrap()
    );
    let promoted = repo.find(pending.id).await.unwrap().unwrap();
    assert_eq!(
        (promoted.mfa, promoted.expires_at),
        (MfaStatus::Verified, refresh.expires_at)
    );
    let proven = T0 + Duration::minutes(1);
    assert_eq!(
        (promoted.authenticated_at, promoted.last_used_at),
        (proven, proven)
    );
    assert!(repo.find_refresh(&refresh.hash).await.unwrap().is_some());

    let again = refresh_of(&pending, T0 + Duration::days(1));
    assert!(
        !repo
            .promote(pending.id, &again, T0, &event(&user, EventKind::SignedIn))
            .await
            .unwrap(),
        "promoted twice"
    );
    assert!(repo.find_refresh(&again.hash).await.unwrap().is_none());
    assert_eq!(
        repo.find(pending.id).await.unwrap().unwrap().expires_at,
        refresh.expires_at
    );

    let full = session_of(&user);
    repo.create(&full, None, None).await.unwrap();
    let refused = refresh_of(&full, T0);
    assert!(
        !repo
            .promote(full.id, &refused, T0, &event(&user, EventKind::SignedIn))
            .await
            .unwrap(),
        "a session that was never pending was promoted"
    );
    assert!(repo.find_refresh(&refused.hash).await.unwrap().is_none());
}

/// Attempts count 1, 2, ... while fewer than `limit` were counted, on pending sessions only.
pub async fn second_factor_attempts_are_counted_up_to_the_limit_on_open_pending_sessions_only<R>(
    repo: R,
) where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let pending = pending_of(&user);
    repo.create(&pending, None, None).await.unwrap();
    assert_eq!(
        repo.reserve_mfa_attempt(pending.id, 2).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        repo.reserve_mfa_attempt(pending.id, 2).await.unwrap(),
        Some(2)
    );
    assert_eq!(
        repo.reserve_mfa_attempt(pending.id, 2).await.unwrap(),
        None,
        "the limit holds"
    );
    assert_eq!(
        repo.reserve_mfa_attempt(pending.id, 5).await.unwrap(),
        Some(3)
    );

    let other = pending_of(&user);
    repo.create(&other, None, None).await.unwrap();
    assert_eq!(
        repo.reserve_mfa_attempt(other.id, 5).await.unwrap(),
        Some(1),
        "attempts are counted per session"
    );

    repo.promote(
        pending.id,
        &refresh_of(&pending, T0),
        T0,
        &event(&user, EventKind::SignedIn),
    )
    .await
    .unwrap();
    assert_eq!(
        repo.reserve_mfa_attempt(pending.id, 5).await.unwrap(),
        None,
        "a verified session takes no second-factor attempts"
    );
    let full = session_of(&user);
    repo.create(&full, None, None).await.unwrap();
    assert_eq!(repo.reserve_mfa_attempt(full.id, 5).await.unwrap(), None);
    let unknown = SessionId::generate(&SystemClock, &OsRandom);
    assert_eq!(repo.reserve_mfa_attempt(unknown, 5).await.unwrap(), None);
}

/// A revoked pending session can neither be promoted nor take attempts.
pub async fn a_revoked_session_is_neither_promoted_nor_counted<R>(repo: R)
where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let pending = pending_of(&user);
    repo.create(&pending, None, None).await.unwrap();
    repo.revoke(pending.id, T0, None).await.unwrap();
    assert_eq!(repo.reserve_mfa_attempt(pending.id, 5).await.unwrap(), None);
    let refresh = refresh_of(&pending, T0);
    assert!(
        !repo
            .promote(
                pending.id,
                &refresh,
                T0 + Duration::minutes(1),
                &event(&user, EventKind::SignedIn)
            )
            .await
            .unwrap()
    );
    assert!(repo.find_refresh(&refresh.hash).await.unwrap().is_none());
    assert_eq!(
        repo.find(pending.id).await.unwrap().unwrap().mfa,
        MfaStatus::Pending
    );
}

/// Revoking twice keeps the first time; revoking all of a user's spares other users' sessions.
pub async fn revoking_is_idempotent_and_revoking_all_spares_other_users<R>(repo: R)
where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let other = registered(&repo).await;
    let (a, b, c, theirs) = (
        session_of(&user),
        session_of(&user),
        session_of(&user),
        session_of(&other),
    );
    for s in [&a, &b, &c, &theirs] {
        repo.create(s, None, None).await.unwrap();
    }
    let revoked_at = async |id| repo.find(id).await.unwrap().unwrap().revoked_at;
    repo.revoke(a.id, T0, None).await.unwrap();
    repo.revoke(a.id, T0 + Duration::hours(1), None)
        .await
        .unwrap();
    assert_eq!(
        revoked_at(a.id).await,
        Some(T0),
        "revoking twice moved the time"
    );
    assert!(revoked_at(b.id).await.is_none());
    repo.revoke(SessionId::generate(&SystemClock, &OsRandom), T0, None)
        .await
        .unwrap();

    let all = T0 + Duration::hours(2);
    repo.revoke_all_for_user(user.id, all).await.unwrap();
    assert_eq!(revoked_at(a.id).await, Some(T0));
    assert_eq!(revoked_at(b.id).await, Some(all));
    assert_eq!(revoked_at(c.id).await, Some(all));
    assert!(
        revoked_at(theirs.id).await.is_none(),
        "another user was signed out"
    );
}

/// A factor proven again moves `authenticated_at` (and records the use) on a live session only.
pub async fn re_authentication_is_recorded_on_live_sessions_only<R>(repo: R)
where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let session = session_of(&user);
    repo.create(&session, None, None).await.unwrap();
    let stored = repo.find(session.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.authenticated_at, stored.last_used_at, &stored.client),
        (T0, T0, &laptop())
    );
    let at = T0 + Duration::hours(2);
    assert!(
        repo.record_authentication(
            session.id,
            at,
            &phone(),
            &event(&user, EventKind::Reauthenticated)
        )
        .await
        .unwrap()
    );
    let stored = repo.find(session.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.authenticated_at, stored.last_used_at, &stored.client),
        (at, at, &phone())
    );

    let expired = session.expires_at + Duration::seconds(1);
    assert!(
        !repo
            .record_authentication(
                session.id,
                expired,
                &laptop(),
                &event(&user, EventKind::Reauthenticated)
            )
            .await
            .unwrap()
    );
    repo.revoke(session.id, at, None).await.unwrap();
    assert!(
        !repo
            .record_authentication(
                session.id,
                at,
                &laptop(),
                &event(&user, EventKind::Reauthenticated)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        repo.find(session.id)
            .await
            .unwrap()
            .unwrap()
            .authenticated_at,
        at
    );
}

/// Lists the user's live sessions (pending ones included), newest first, and nobody else's.
pub async fn live_sessions_are_listed_newest_first_without_ended_or_foreign_ones<R>(repo: R)
where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let stranger = registered(&repo).await;
    let older = session_of(&user);
    let newer = Session {
        created_at: T0 + Duration::minutes(1),
        ..pending_of(&user)
    };
    let revoked = session_of(&user);
    let expired = Session {
        expires_at: T0 + Duration::seconds(1),
        ..session_of(&user)
    };
    for session in [&older, &newer, &revoked, &expired, &session_of(&stranger)] {
        repo.create(session, None, None).await.unwrap();
    }
    repo.revoke(revoked.id, T0, None).await.unwrap();
    let now = T0 + Duration::minutes(2);
    let live = repo.live_sessions_of(user.id, now).await.unwrap();
    let ids: Vec<SessionId> = live.iter().map(|s| s.id).collect();
    assert_eq!(ids, [newer.id, older.id]);
    assert_eq!(live[1], older);
}

/// A session is revoked by its owner only, once, while it is live.
pub async fn a_session_is_revoked_only_by_its_owner_while_live<R>(repo: R)
where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let stranger = registered(&repo).await;
    let session = session_of(&user);
    repo.create(&session, None, None).await.unwrap();
    let now = T0 + Duration::minutes(1);
    assert!(
        !repo
            .revoke_of_user(
                stranger.id,
                session.id,
                now,
                &event(&stranger, EventKind::SessionRevoked)
            )
            .await
            .unwrap()
    );
    assert!(
        repo.find(session.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert!(
        repo.revoke_of_user(
            user.id,
            session.id,
            now,
            &event(&user, EventKind::SessionRevoked)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        repo.find(session.id).await.unwrap().unwrap().revoked_at,
        Some(now)
    );
    let later = now + Duration::minutes(1);
    assert!(
        !repo
            .revoke_of_user(
                user.id,
                session.id,
                later,
                &event(&user, EventKind::SessionRevoked)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        repo.find(session.id).await.unwrap().unwrap().revoked_at,
        Some(now),
        "a second revocation writes nothing"
    );
    let unknown = SessionId::generate(&SystemClock, &OsRandom);
    assert!(
        !repo
            .revoke_of_user(
                user.id,
                unknown,
                later,
                &event(&user, EventKind::SessionRevoked)
            )
            .await
            .unwrap()
    );
}

/// Revoking the others keeps the named session and the other users' ones, and counts what it ended.
pub async fn revoking_the_others_keeps_one_and_counts_the_rest<R>(repo: R)
where
    R: SessionRepository + UserRepository,
{
    let user = registered(&repo).await;
    let stranger = registered(&repo).await;
    let current = session_of(&user);
    let others = [session_of(&user), pending_of(&user)];
    let ended = session_of(&user);
    let foreign = session_of(&stranger);
    for session in others.iter().chain([&current, &ended, &foreign]) {
        repo.create(session, None, None).await.unwrap();
    }
    repo.revoke(ended.id, T0, None).await.unwrap();
    let now = T0 + Duration::minutes(1);
    assert_eq!(
        repo.revoke_others(
            user.id,
            current.id,
            now,
            &event(&user, EventKind::SessionRevoked)
        )
        .await
        .unwrap(),
        2
    );
    let live = repo.live_sessions_of(user.id, now).await.unwrap();
    assert_eq!(live.iter().map(|s| s.id).collect::<Vec<_>>(), [current.id]);
    assert_eq!(
        repo.live_sessions_of(stranger.id, now).await.unwrap().len(),
        1
    );
    assert_eq!(
        repo.revoke_others(
            user.id,
            current.id,
            now,
            &event(&user, EventKind::SessionRevoked)
        )
        .await
        .unwrap(),
        0
    );
}

/// Each change records its event in the same write, and a change that did not happen records nothing.
pub async fn events_are_recorded_with_the_changes_and_only_then<R>(repo: R)
where
    R: SessionRepository + UserRepository + SecurityLog,
{
    let user = registered(&repo).await;
    let kinds = async || {
        let events = repo.events_of(user.id, None, 100).await.unwrap();
        let mut kinds: Vec<&'static str> = events.iter().map(|e| e.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds
    };
    let signed_in = event(&user, EventKind::SignedIn)
        .with_text("method", "password")
        .with_flag("mfa", false);
    let session = session_of(&user);
    repo.create(&session, Some(&refresh_of(&session, T0)), Some(&signed_in))
        .await
        .unwrap();
    let stored = repo.events_of(user.id, None, 10).await.unwrap();
    assert_eq!(stored, [signed_in], "stored as given, detail in order");

    let pending = pending_of(&user);
    repo.create(&pending, None, None).await.unwrap();
    let promoted = event(&user, EventKind::SignedIn);
    assert!(
        repo.promote(pending.id, &refresh_of(&pending, T0), T0, &promoted)
            .await
            .unwrap()
    );
    assert!(
        !repo
            .promote(
                pending.id,
                &refresh_of(&pending, T0),
                T0,
                &event(&user, EventKind::SignedIn)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        kinds().await,
        ["signed_in", "signed_in"],
        "a refused promotion records nothing"
    );

    let at = T0 + Duration::minutes(1);
    repo.revoke(pending.id, at, Some(&event(&user, EventKind::SignedOut)))
        .await
        .unwrap();
    repo.revoke(pending.id, at, Some(&event(&user, EventKind::SignedOut)))
        .await
        .unwrap();
    assert!(
        !repo
            .record_authentication(
                pending.id,
                at,
                &laptop(),
                &event(&user, EventKind::Reauthenticated)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        kinds().await,
        ["signed_in", "signed_in", "signed_out"],
        "revoking twice or re-authenticating an ended session records once, and nothing"
    );

    let others = [session_of(&user), session_of(&user)];
    for other in &others {
        repo.create(other, None, None).await.unwrap();
    }
    let template = event(&user, EventKind::SessionRevoked).with_flag("others", true);
    assert_eq!(
        repo.revoke_others(user.id, session.id, at, &template)
            .await
            .unwrap(),
        2
    );
    let log = repo.events_of(user.id, None, 100).await.unwrap();
    let revoked = log
        .iter()
        .find(|e| e.kind == EventKind::SessionRevoked)
        .unwrap();
    assert_eq!(
        revoked.detail,
        [
            ("others".to_owned(), DetailValue::Flag(true)),
            ("count".to_owned(), DetailValue::Count(2))
        ]
    );
}
