//! The contract of [`PasswordResetRepository`], whose consumption signs the user out of every
//! [`SessionRepository`] session.

use authd_identity::ports::{PasswordResetRepository, UserRepository};
use authd_identity::{OutgoingEmail, PasswordHash, PasswordReset, User};
use authd_kernel::EventKind;
use authd_session::ports::SessionRepository;
use time::{Duration, OffsetDateTime};

use super::sessions::{event_for, session_of};
use super::{T0, registered, token_hash};

/// A reset token for `user` issued at `at`.
pub fn reset_for(user: &User, at: OffsetDateTime) -> PasswordReset {
    PasswordReset {
        hash: token_hash(),
        user_id: user.id,
        created_at: at,
        expires_at: at + Duration::hours(1),
        used_at: None,
    }
}

/// The reset email to `user`.
pub fn email_to(user: &User) -> OutgoingEmail {
    OutgoingEmail {
        to: user.email.clone(),
        subject: "Reset your password".into(),
        text: "link: https://x.example/reset?token=abc".into(),
        html: "<a href=\"https://x.example/reset?token=abc\">link</a>".into(),
    }
}

fn new_hash(tag: &str) -> PasswordHash {
    PasswordHash::from_phc(format!("$scrypt$ln=4,r=8,p=1${tag}$bmV3"))
}

/// A new reset deletes the user's unused ones (not another user's, not used ones) and is found by hash.
pub async fn a_new_reset_supersedes_the_unused_ones_but_keeps_the_used<R>(repo: R)
where
    R: PasswordResetRepository + UserRepository,
{
    let user = registered(&repo).await;
    let other = registered(&repo).await;
    let used = reset_for(&user, T0);
    let others = reset_for(&other, T0);
    for reset in [&used, &others] {
        repo.replace_reset_and_enqueue(
            reset,
            &email_to(&user),
            Some("req-1"),
            &event_for(user.id, EventKind::PasswordResetRequested),
        )
        .await
        .unwrap();
    }
    let at = T0 + Duration::minutes(1);
    assert!(
        repo.consume_reset_and_sign_out(
            &used.hash,
            user.id,
            &new_hash("YQ"),
            at,
            &event_for(user.id, EventKind::PasswordReset)
        )
        .await
        .unwrap()
    );
    let unused = reset_for(&user, T0 + Duration::minutes(2));
    repo.replace_reset_and_enqueue(
        &unused,
        &email_to(&user),
        None,
        &event_for(user.id, EventKind::PasswordResetRequested),
    )
    .await
    .unwrap();
    let newest = reset_for(&user, T0 + Duration::minutes(3));
    repo.replace_reset_and_enqueue(
        &newest,
        &email_to(&user),
        None,
        &event_for(user.id, EventKind::PasswordResetRequested),
    )
    .await
    .unwrap();

    assert!(
        repo.find_reset(&unused.hash).await.unwrap().is_none(),
        "the older unused token survived"
    );
    assert_eq!(repo.find_reset(&newest.hash).await.unwrap(), Some(newest));
    assert_eq!(
        repo.find_reset(&used.hash).await.unwrap().unwrap().used_at,
        Some(at),
        "a used token was deleted"
    );
    assert_eq!(repo.find_reset(&others.hash).await.unwrap(), Some(others));
}

/// Consuming marks the token used, replaces the password and revokes every session of the user (an
/// already revoked one keeps its time), and no one else's.
pub async fn consuming_a_reset_sets_the_password_and_revokes_every_session_of_the_user<R>(repo: R)
where
    R: PasswordResetRepository + UserRepository + SessionRepository,
{
    let user = registered(&repo).await;
    let bystander = registered(&repo).await;
    let (live, earlier, theirs) = (session_of(&user), session_of(&user), session_of(&bystander));
    for session in [&live, &earlier, &theirs] {
        repo.create(session, None, None).await.unwrap();
    }
    repo.revoke(earlier.id, T0, None).await.unwrap();
    let reset = reset_for(&user, T0);
    repo.replace_reset_and_enqueue(
        &reset,
        &email_to(&user),
        None,
        &event_for(user.id, EventKind::PasswordResetRequested),
    )
    .await
    .unwrap();

    let at = T0 + Duration::minutes(5);
    assert!(
        repo.consume_reset_and_sign_out(
            &reset.hash,
            user.id,
            &new_hash("YQ"),
            at,
            &event_for(user.id, EventKind::PasswordReset)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        repo.find_reset(&reset.hash).await.unwrap().unwrap().used_at,
        Some(at)
    );
    let account = repo.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(
        (account.password_hash, account.updated_at),
        (Some(new_hash("YQ")), at)
    );
    assert_eq!(
        repo_session_revoked_at(&repo, live.id).await,
        Some(at),
        "a session survived the reset"
    );
    assert_eq!(repo_session_revoked_at(&repo, earlier.id).await, Some(T0));
    assert_eq!(
        repo_session_revoked_at(&repo, theirs.id).await,
        None,
        "another user was signed out"
    );
}

/// When the stored session was revoked.
async fn repo_session_revoked_at(
    repo: &impl SessionRepository,
    id: authd_session::SessionId,
) -> Option<OffsetDateTime> {
    repo.find(id).await.unwrap().unwrap().revoked_at
}

/// MUST return `Ok(false)`, writing nothing, when the token was already used.
pub async fn a_reset_is_consumed_once_and_a_refused_consumption_writes_nothing<R>(repo: R)
where
    R: PasswordResetRepository + UserRepository + SessionRepository,
{
    let user = registered(&repo).await;
    let reset = reset_for(&user, T0);
    repo.replace_reset_and_enqueue(
        &reset,
        &email_to(&user),
        None,
        &event_for(user.id, EventKind::PasswordResetRequested),
    )
    .await
    .unwrap();
    let first = T0 + Duration::minutes(5);
    assert!(
        repo.consume_reset_and_sign_out(
            &reset.hash,
            user.id,
            &new_hash("YQ"),
            first,
            &event_for(user.id, EventKind::PasswordReset)
        )
        .await
        .unwrap()
    );
    let after = session_of(&user);
    repo.create(&after, None, None).await.unwrap();

    let again = T0 + Duration::minutes(6);
    assert!(
        !repo
            .consume_reset_and_sign_out(
                &reset.hash,
                user.id,
                &new_hash("Yg"),
                again,
                &event_for(user.id, EventKind::PasswordReset)
            )
            .await
            .unwrap()
    );
    let account = repo.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(
        (account.password_hash, account.updated_at),
        (Some(new_hash("YQ")), first)
    );
    assert_eq!(
        repo.find_reset(&reset.hash).await.unwrap().unwrap().used_at,
        Some(first)
    );
    assert_eq!(repo_session_revoked_at(&repo, after.id).await, None);
}

/// An unknown hash is not found, and consuming it changes nothing.
pub async fn an_unknown_reset_is_neither_found_nor_consumed<R>(repo: R)
where
    R: PasswordResetRepository + UserRepository + SessionRepository,
{
    let user = registered(&repo).await;
    let live = session_of(&user);
    repo.create(&live, None, None).await.unwrap();
    let unknown = token_hash();
    assert!(repo.find_reset(&unknown).await.unwrap().is_none());
    assert!(
        !repo
            .consume_reset_and_sign_out(
                &unknown,
                user.id,
                &new_hash("YQ"),
                T0,
                &event_for(user.id, EventKind::PasswordReset)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        repo.find_by_id(user.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        user.password_hash
    );
    assert_eq!(repo_session_revoked_at(&repo, live.id).await, None);
}
