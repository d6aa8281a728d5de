//! The contract of [`SessionRepository`].

use authd_identity::User;
use authd_identity::ports::UserRepository;
use authd_kernel::{OsRandom, SystemClock};
use authd_session::ports::SessionRepository;
use authd_session::{MfaStatus, RefreshRecord, Session, SessionId};
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
    }
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
    repo.create(&session, Some(&record)).await.unwrap();
    assert_eq!(repo.find(session.id).await.unwrap(), Some(session.clone()));
    assert_eq!(
        repo.find_refresh(&record.hash).await.unwrap(),
        Some((record, session))
    );
    assert!(repo.find_refresh(&token_hash()).await.unwrap().is_none());
    let unknown = SessionId::generate(&SystemClock, &OsRandom);
    assert!(repo.find(unknown).await.unwrap().is_none());

    let pending = pending_of(&user);
    repo.create(&pending, None).await.unwrap();
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
    repo.create(&session, Some(&first)).await.unwrap();

    let later = T0 + Duration::hours(2);
    let second = refresh_of(&session, later);
    assert!(
        repo.rotate_refresh(&first.hash, &second, later)
            .await
            .unwrap()
    );
    let (used, _) = repo.find_refresh(&first.hash).await.unwrap().unwrap();
    assert_eq!(used.used_at, Some(later));
    assert!(repo.find_refresh(&second.hash).await.unwrap().is_some());
    assert_eq!(
        repo.find(session.id).await.unwrap().unwrap().expires_at,
        second.expires_at
    );

    let much_later = T0 + Duration::days(3);
    let third = refresh_of(&session, much_later);
    assert!(
        !repo
            .rotate_refresh(&first.hash, &third, much_later)
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
            .rotate_refresh(&token_hash(), &unknown, much_later)
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
    repo.create(&pending, None).await.unwrap();
    let refresh = refresh_of(&pending, T0);
    assert!(repo.promote(pending.id, &refresh).await.unwrap());
    let promoted = repo.find(pending.id).await.unwrap().unwrap();
    assert_eq!(
        (promoted.mfa, promoted.expires_at),
        (MfaStatus::Verified, refresh.expires_at)
    );
    assert!(repo.find_refresh(&refresh.hash).await.unwrap().is_some());

    let again = refresh_of(&pending, T0 + Duration::days(1));
    assert!(
        !repo.promote(pending.id, &again).await.unwrap(),
        "promoted twice"
    );
    assert!(repo.find_refresh(&again.hash).await.unwrap().is_none());
    assert_eq!(
        repo.find(pending.id).await.unwrap().unwrap().expires_at,
        refresh.expires_at
    );

    let full = session_of(&user);
    repo.create(&full, None).await.unwrap();
    let refused = refresh_of(&full, T0);
    assert!(
        !repo.promote(full.id, &refused).await.unwrap(),
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
    repo.create(&pending, None).await.unwrap();
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
    repo.create(&other, None).await.unwrap();
    assert_eq!(
        repo.reserve_mfa_attempt(other.id, 5).await.unwrap(),
        Some(1),
        "attempts are counted per session"
    );

    repo.promote(pending.id, &refresh_of(&pending, T0))
        .await
        .unwrap();
    assert_eq!(
        repo.reserve_mfa_attempt(pending.id, 5).await.unwrap(),
        None,
        "a verified session takes no second-factor attempts"
    );
    let full = session_of(&user);
    repo.create(&full, None).await.unwrap();
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
    repo.create(&pending, None).await.unwrap();
    repo.revoke(pending.id, T0).await.unwrap();
    assert_eq!(repo.reserve_mfa_attempt(pending.id, 5).await.unwrap(), None);
    let refresh = refresh_of(&pending, T0);
    assert!(!repo.promote(pending.id, &refresh).await.unwrap());
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
        repo.create(s, None).await.unwrap();
    }
    let revoked_at = async |id| repo.find(id).await.unwrap().unwrap().revoked_at;
    repo.revoke(a.id, T0).await.unwrap();
    repo.revoke(a.id, T0 + Duration::hours(1)).await.unwrap();
    assert_eq!(
        revoked_at(a.id).await,
        Some(T0),
        "revoking twice moved the time"
    );
    assert!(revoked_at(b.id).await.is_none());
    repo.revoke(SessionId::generate(&SystemClock, &OsRandom), T0)
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
