//! The contract of [`OAuthRepository`].

use authd_identity::User;
use authd_identity::ports::UserRepository;
use authd_kernel::{EventKind, Secret};
use authd_oauth::ports::OAuthRepository;
use authd_oauth::{
    FlowPurpose, LinkedIdentity, OAuthError, PendingAuthorization, ProviderKind, RedirectPath,
};
use authd_session::SessionId;
use authd_session::ports::SessionRepository;
use time::{Duration, OffsetDateTime};

use super::sessions::{event, event_for, session_of};
use super::{T0, registered, token_hash, unique, unique_email, user, workspace_of};

/// A pending Google authorization: a link to the user's account from the session when given, else a sign-in.
fn pending(link: Option<(&User, SessionId)>) -> PendingAuthorization {
    PendingAuthorization {
        state_hash: token_hash(),
        provider: ProviderKind::Google,
        binding_hash: token_hash(),
        pkce_verifier: Secret::new("verifier"),
        nonce: Secret::new("nonce"),
        redirect_to: RedirectPath::parse(Some("/after")).unwrap(),
        purpose: link.map_or(FlowPurpose::SignIn, |(user, session)| FlowPurpose::Link {
            user: user.id,
            session,
        }),
        created_at: T0,
        expires_at: T0 + Duration::minutes(10),
    }
}

/// `user`'s identity `subject` at `provider`, linked at `at`.
fn link_at(
    user: &User,
    provider: ProviderKind,
    subject: &str,
    at: OffsetDateTime,
) -> LinkedIdentity {
    LinkedIdentity {
        user_id: user.id,
        provider,
        subject: subject.into(),
        email: Some(user.email.as_str().into()),
        linked_at: at,
    }
}

/// MUST hand an authorization to one caller only: the second take finds nothing.
pub async fn a_pending_authorization_is_taken_once<R>(repo: R)
where
    R: OAuthRepository + UserRepository + SessionRepository,
{
    let owner = registered(&repo).await;
    let session = session_of(&owner);
    repo.create(&session, None, None).await.unwrap();
    let p = pending(Some((&owner, session.id)));
    let other = pending(None);
    repo.save_authorization(&p).await.unwrap();
    repo.save_authorization(&other).await.unwrap();
    let taken = repo
        .take_authorization(&p.state_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (taken.provider, taken.purpose, taken.redirect_to.as_str()),
        (
            ProviderKind::Google,
            FlowPurpose::Link {
                user: owner.id,
                session: session.id
            },
            "/after"
        )
    );
    assert_eq!(
        (taken.pkce_verifier.expose(), taken.nonce.expose()),
        ("verifier", "nonce")
    );
    assert_eq!(taken.binding_hash, p.binding_hash);
    assert_eq!(
        (taken.created_at, taken.expires_at),
        (p.created_at, p.expires_at)
    );
    assert!(
        repo.take_authorization(&p.state_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        repo.take_authorization(&other.state_hash)
            .await
            .unwrap()
            .is_some(),
        "taking one authorization took another"
    );
    assert!(
        repo.take_authorization(&token_hash())
            .await
            .unwrap()
            .is_none()
    );
}

/// MUST return `ProviderAlreadyLinked` when the identity is linked or the account has one of this provider.
pub async fn an_identity_links_to_one_account_and_an_account_to_one_identity_per_provider<R>(
    repo: R,
) where
    R: OAuthRepository + UserRepository,
{
    let ada = registered(&repo).await;
    let bob = registered(&repo).await;
    let subject = unique("subject");
    let first = link_at(&ada, ProviderKind::GitHub, &subject, T0);
    repo.link(&first, &event_for(first.user_id, EventKind::ProviderLinked))
        .await
        .unwrap();
    let stolen = repo
        .link(
            &link_at(&bob, ProviderKind::GitHub, &subject, T0),
            &event(&bob, EventKind::ProviderLinked),
        )
        .await;
    assert!(
        matches!(stolen, Err(OAuthError::ProviderAlreadyLinked)),
        "{stolen:?}"
    );
    let second = repo
        .link(
            &link_at(&ada, ProviderKind::GitHub, &unique("another"), T0),
            &event(&ada, EventKind::ProviderLinked),
        )
        .await;
    assert!(
        matches!(second, Err(OAuthError::ProviderAlreadyLinked)),
        "{second:?}"
    );
    repo.link(
        &link_at(&ada, ProviderKind::Google, &subject, T0),
        &event(&ada, EventKind::ProviderLinked),
    )
    .await
    .unwrap();
    assert_eq!(
        repo.find_link(ProviderKind::GitHub, &subject)
            .await
            .unwrap(),
        Some(first)
    );
    assert!(repo.links_of(bob.id).await.unwrap().is_empty());
    assert!(
        repo.find_link(ProviderKind::GitHub, &unique("nobody"))
            .await
            .unwrap()
            .is_none()
    );
}

/// Account, workspace and link are created together; MUST return `ProviderAlreadyLinked` or
/// `NoUsableEmail`, writing nothing, when the identity or the email is taken.
pub async fn a_provider_sign_up_creates_account_workspace_and_link_together_or_not_at_all<R>(
    repo: R,
) where
    R: OAuthRepository + UserRepository,
{
    let mut newcomer = user(&unique_email());
    newcomer.password_hash = None;
    let subject = unique("subject");
    let link = link_at(&newcomer, ProviderKind::GitHub, &subject, T0);
    repo.create_user_with_link(
        &newcomer,
        &workspace_of(&newcomer),
        &link,
        &event(&newcomer, EventKind::SignedUp),
    )
    .await
    .unwrap();
    assert!(
        !repo
            .find_by_id(newcomer.id)
            .await
            .unwrap()
            .unwrap()
            .has_password()
    );
    let profile = repo.find_profile(newcomer.id).await.unwrap().unwrap();
    assert_eq!(profile.memberships.len(), 1);
    assert_eq!(repo.links_of(newcomer.id).await.unwrap(), [link]);

    let second = user(&unique_email());
    let clash = link_at(&second, ProviderKind::GitHub, &subject, T0);
    let result = repo
        .create_user_with_link(
            &second,
            &workspace_of(&second),
            &clash,
            &event(&second, EventKind::SignedUp),
        )
        .await;
    assert!(
        matches!(result, Err(OAuthError::ProviderAlreadyLinked)),
        "{result:?}"
    );
    assert!(
        repo.find_by_id(second.id).await.unwrap().is_none(),
        "half an account was left behind"
    );

    let twin = user(newcomer.email.as_str());
    let fresh = unique("subject");
    let result = repo
        .create_user_with_link(
            &twin,
            &workspace_of(&twin),
            &link_at(&twin, ProviderKind::Google, &fresh, T0),
            &event(&twin, EventKind::SignedUp),
        )
        .await;
    assert!(
        matches!(result, Err(OAuthError::NoUsableEmail(_))),
        "{result:?}"
    );
    assert!(
        repo.find_link(ProviderKind::Google, &fresh)
            .await
            .unwrap()
            .is_none()
    );
    assert!(repo.find_by_id(twin.id).await.unwrap().is_none());
}

/// `links_of` lists oldest first; unlinking removes that provider's link only, once.
pub async fn links_are_listed_oldest_first_and_unlinking_removes_only_that_provider<R>(repo: R)
where
    R: OAuthRepository + UserRepository,
{
    let ada = registered(&repo).await;
    let newer = link_at(
        &ada,
        ProviderKind::GitHub,
        &unique("gh"),
        T0 + Duration::hours(1),
    );
    let older = link_at(&ada, ProviderKind::Google, &unique("g"), T0);
    repo.link(&newer, &event_for(newer.user_id, EventKind::ProviderLinked))
        .await
        .unwrap();
    repo.link(&older, &event_for(older.user_id, EventKind::ProviderLinked))
        .await
        .unwrap();
    assert_eq!(repo.links_of(ada.id).await.unwrap(), [older.clone(), newer]);
    assert!(
        repo.unlink(
            ada.id,
            ProviderKind::GitHub,
            &event(&ada, EventKind::ProviderUnlinked)
        )
        .await
        .unwrap()
    );
    assert!(
        !repo
            .unlink(
                ada.id,
                ProviderKind::GitHub,
                &event(&ada, EventKind::ProviderUnlinked)
            )
            .await
            .unwrap()
    );
    assert_eq!(repo.links_of(ada.id).await.unwrap(), [older]);
    let bob = registered(&repo).await;
    assert!(
        !repo
            .unlink(
                bob.id,
                ProviderKind::Google,
                &event(&bob, EventKind::ProviderUnlinked)
            )
            .await
            .unwrap()
    );
    assert_eq!(repo.links_of(ada.id).await.unwrap().len(), 1);
}

/// Dropping a user's link flows leaves other users' and sign-in flows alone.
pub async fn a_users_link_flows_are_dropped_and_nothing_else<R>(repo: R)
where
    R: OAuthRepository + UserRepository + SessionRepository,
{
    let (ada, eve) = (registered(&repo).await, registered(&repo).await);
    let (adas, eves) = (session_of(&ada), session_of(&eve));
    repo.create(&adas, None, None).await.unwrap();
    repo.create(&eves, None, None).await.unwrap();
    let adas_flow = pending(Some((&ada, adas.id)));
    let eves_flow = pending(Some((&eve, eves.id)));
    let sign_in = pending(None);
    for flow in [&adas_flow, &eves_flow, &sign_in] {
        repo.save_authorization(flow).await.unwrap();
    }
    repo.drop_link_flows_of(ada.id).await.unwrap();
    assert!(
        repo.take_authorization(&adas_flow.state_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        repo.take_authorization(&eves_flow.state_hash)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        repo.take_authorization(&sign_in.state_hash)
            .await
            .unwrap()
            .is_some()
    );
}
