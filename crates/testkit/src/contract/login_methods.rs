//! The contract of [`LoginMethodRepository`]: it counts what the user, passkey and OAuth ports store.

use authd_identity::LoginMethods;
use authd_identity::ports::{LoginMethodRepository, UserRepository};
use authd_kernel::{EventKind, OsRandom, SystemClock, UserId};
use authd_oauth::ports::OAuthRepository;
use authd_oauth::{LinkedIdentity, ProviderKind};
use authd_passkey::ports::PasskeyRepository;

use super::passkeys::passkey_of;
use super::sessions::event;
use super::{T0, registered, unique, unique_email, user, workspace_of};

/// The identity `subject` of `provider`, linked to `user_id`.
fn link(user_id: UserId, provider: ProviderKind) -> LinkedIdentity {
    LinkedIdentity {
        user_id,
        provider,
        subject: unique("subject"),
        email: None,
        linked_at: T0,
    }
}

/// The password, each passkey and each linked provider count, for their owner only.
pub async fn login_methods_count_password_passkeys_and_providers<R>(repo: R)
where
    R: LoginMethodRepository + UserRepository + PasskeyRepository + OAuthRepository,
{
    let ada = registered(&repo).await;
    let bob = registered(&repo).await;
    assert_eq!(
        repo.login_methods(ada.id).await.unwrap(),
        LoginMethods {
            password: true,
            passkeys: 0,
            providers: 0
        }
    );
    repo.insert(&passkey_of(&ada, T0), &event(&ada, EventKind::PasskeyAdded))
        .await
        .unwrap();
    repo.insert(&passkey_of(&ada, T0), &event(&ada, EventKind::PasskeyAdded))
        .await
        .unwrap();
    repo.link(
        &link(ada.id, ProviderKind::GitHub),
        &event(&ada, EventKind::ProviderLinked),
    )
    .await
    .unwrap();
    let methods = repo.login_methods(ada.id).await.unwrap();
    assert_eq!(
        methods,
        LoginMethods {
            password: true,
            passkeys: 2,
            providers: 1
        }
    );
    assert_eq!(methods.count(), 4);
    assert_eq!(repo.login_methods(bob.id).await.unwrap().count(), 1);
}

/// An account created through a provider counts that provider and no password.
pub async fn an_account_made_through_a_provider_has_no_password<R>(repo: R)
where
    R: LoginMethodRepository + UserRepository + OAuthRepository,
{
    let mut octo = user(&unique_email());
    octo.password_hash = None;
    repo.create_user_with_link(
        &octo,
        &workspace_of(&octo),
        &link(octo.id, ProviderKind::Google),
        &event(&octo, EventKind::SignedUp),
    )
    .await
    .unwrap();
    assert_eq!(
        repo.login_methods(octo.id).await.unwrap(),
        LoginMethods {
            password: false,
            passkeys: 0,
            providers: 1
        }
    );
}

/// An unknown account has no way in.
pub async fn an_unknown_account_has_no_login_methods<R>(repo: R)
where
    R: LoginMethodRepository + UserRepository,
{
    registered(&repo).await;
    let stranger = UserId::generate(&SystemClock, &OsRandom);
    assert_eq!(
        repo.login_methods(stranger).await.unwrap(),
        LoginMethods::default()
    );
}
