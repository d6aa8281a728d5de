//! The contract of [`UserRepository`].

use authd_identity::ports::UserRepository;
use authd_identity::{Email, IdentityError, PasswordHash, Role};
use authd_kernel::{OsRandom, SystemClock, UserId};
use time::Duration;

use super::{T0, registered, unique_email, user, workspace_of};

/// An account is found by email and by id, with its personal workspace as owner.
pub async fn a_registered_user_is_found_by_email_and_id_with_their_workspace(
    repo: impl UserRepository,
) {
    let user = user(&unique_email());
    let workspace = workspace_of(&user);
    repo.create_with_workspace(&user, &workspace, None)
        .await
        .unwrap();

    let by_email = repo.find_by_email(&user.email).await.unwrap().unwrap();
    assert_eq!(
        (by_email.id, &by_email.name, &by_email.password_hash),
        (user.id, &user.name, &user.password_hash)
    );
    assert_eq!(
        (by_email.created_at, by_email.updated_at),
        (user.created_at, user.updated_at)
    );
    assert_eq!(
        repo.find_by_id(user.id).await.unwrap().unwrap().email,
        user.email
    );
    let profile = repo.find_profile(user.id).await.unwrap().unwrap();
    assert_eq!(profile.user.id, user.id);
    assert_eq!(profile.memberships.len(), 1);
    assert_eq!(profile.memberships[0].role, Role::Owner);
    assert_eq!(profile.memberships[0].workspace, workspace.workspace);
}

/// Unknown emails and ids find nothing.
pub async fn unknown_accounts_are_not_found(repo: impl UserRepository) {
    registered(&repo).await;
    let nobody = Email::parse(&unique_email()).unwrap();
    assert!(repo.find_by_email(&nobody).await.unwrap().is_none());
    let stranger = UserId::generate(&SystemClock, &OsRandom);
    assert!(repo.find_by_id(stranger).await.unwrap().is_none());
    assert!(repo.find_profile(stranger).await.unwrap().is_none());
}

/// MUST return `EmailTaken` for an email in use, writing nothing.
pub async fn a_duplicate_email_is_reported_as_taken_and_writes_nothing(repo: impl UserRepository) {
    let first = registered(&repo).await;
    let twin = user(first.email.as_str());
    let result = repo
        .create_with_workspace(&twin, &workspace_of(&twin), None)
        .await;
    assert!(
        matches!(result, Err(IdentityError::EmailTaken)),
        "{result:?}"
    );
    assert!(repo.find_by_id(twin.id).await.unwrap().is_none());
    assert_eq!(
        repo.find_by_email(&first.email).await.unwrap().unwrap().id,
        first.id
    );
}

/// On any error nothing is written: a workspace that cannot be stored undoes its user.
pub async fn a_failed_registration_leaves_nothing_behind(repo: impl UserRepository) {
    let first = user(&unique_email());
    let first_workspace = workspace_of(&first);
    repo.create_with_workspace(&first, &first_workspace, None)
        .await
        .unwrap();
    let second = user(&unique_email());
    let mut clash = workspace_of(&second);
    clash.workspace.id = first_workspace.workspace.id;
    assert!(
        repo.create_with_workspace(&second, &clash, None)
            .await
            .is_err()
    );
    assert!(repo.find_by_email(&second.email).await.unwrap().is_none());
    assert!(repo.find_by_id(second.id).await.unwrap().is_none());
}

/// The password hash is replaced, with the update time.
pub async fn a_password_hash_can_be_replaced(repo: impl UserRepository) {
    let user = registered(&repo).await;
    let other = registered(&repo).await;
    let new_hash = PasswordHash::from_phc("$scrypt$ln=5,r=8,p=1$bmV3$bmV3".into());
    let at = T0 + Duration::hours(1);
    repo.set_password_hash(user.id, &new_hash, at)
        .await
        .unwrap();
    let stored = repo.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.password_hash, stored.updated_at),
        (Some(new_hash), at)
    );
    let untouched = repo.find_by_id(other.id).await.unwrap().unwrap();
    assert_eq!(untouched.password_hash, other.password_hash);
}
