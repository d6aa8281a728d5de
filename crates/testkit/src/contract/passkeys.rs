//! The contract of [`PasskeyRepository`].

use authd_identity::User;
use authd_identity::ports::UserRepository;
use authd_kernel::{EventKind, OsRandom, SystemClock};
use authd_passkey::ports::PasskeyRepository;
use authd_passkey::{
    CeremonyPurpose, CeremonyRecord, CredentialId, PasskeyError, PasskeyId, StoredPasskey,
};
use time::{Duration, OffsetDateTime};

use super::sessions::{event, event_for};
use super::{T0, registered, unique};

/// A passkey of `user` with a unique credential id, registered at `at`, not stored.
pub fn passkey_of(user: &User, at: OffsetDateTime) -> StoredPasskey {
    StoredPasskey {
        id: PasskeyId::generate(&SystemClock, &OsRandom),
        user_id: user.id,
        credential_id: CredentialId(unique("credential").into_bytes()),
        name: "Laptop".into(),
        data: "{\"counter\":1}".into(),
        created_at: at,
        last_used_at: None,
    }
}

fn ceremony(purpose: CeremonyPurpose) -> CeremonyRecord {
    CeremonyRecord {
        challenge: unique("challenge"),
        purpose,
        state: "{\"state\":1}".into(),
        created_at: T0,
        expires_at: T0 + Duration::minutes(5),
    }
}

/// MUST hand a ceremony to one caller only: the second take finds nothing; others stay.
pub async fn a_ceremony_is_taken_once<R>(repo: R)
where
    R: PasskeyRepository + UserRepository,
{
    let user = registered(&repo).await;
    let registration = ceremony(CeremonyPurpose::Registration(user.id));
    let login = ceremony(CeremonyPurpose::Authentication);
    repo.save_ceremony(&registration).await.unwrap();
    repo.save_ceremony(&login).await.unwrap();
    let taken = repo
        .take_ceremony(&registration.challenge)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            taken.challenge.as_str(),
            taken.purpose,
            taken.state.as_str()
        ),
        (
            registration.challenge.as_str(),
            CeremonyPurpose::Registration(user.id),
            "{\"state\":1}"
        )
    );
    assert_eq!(
        (taken.created_at, taken.expires_at),
        (T0, registration.expires_at)
    );
    assert!(
        repo.take_ceremony(&registration.challenge)
            .await
            .unwrap()
            .is_none()
    );
    let other = repo.take_ceremony(&login.challenge).await.unwrap().unwrap();
    assert_eq!(other.purpose, CeremonyPurpose::Authentication);
    assert!(
        repo.take_ceremony(&unique("unknown"))
            .await
            .unwrap()
            .is_none()
    );
}

/// `passkeys_of` lists the user's passkeys oldest first; `find_by_credential` finds any user's.
pub async fn passkeys_are_listed_oldest_first_and_found_by_credential<R>(repo: R)
where
    R: PasskeyRepository + UserRepository,
{
    let ada = registered(&repo).await;
    let bob = registered(&repo).await;
    let newer = passkey_of(&ada, T0 + Duration::hours(1));
    let older = passkey_of(&ada, T0);
    let bobs = passkey_of(&bob, T0);
    for p in [&newer, &older, &bobs] {
        repo.insert(p, &event_for(p.user_id, EventKind::PasskeyAdded))
            .await
            .unwrap();
    }
    let ids = |list: Vec<StoredPasskey>| list.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(
        ids(repo.passkeys_of(ada.id).await.unwrap()),
        [older.id, newer.id]
    );
    let found = repo
        .find_by_credential(&bobs.credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            found.id,
            found.user_id,
            found.name.as_str(),
            found.data.as_str()
        ),
        (bobs.id, bob.id, "Laptop", "{\"counter\":1}")
    );
    assert_eq!((found.created_at, found.last_used_at), (T0, None));
    let unknown = CredentialId(unique("nobody").into_bytes());
    assert!(repo.find_by_credential(&unknown).await.unwrap().is_none());
}

/// MUST return `AlreadyRegistered` for a credential id stored already, whoever stored it.
pub async fn a_credential_is_registered_once<R>(repo: R)
where
    R: PasskeyRepository + UserRepository,
{
    let ada = registered(&repo).await;
    let bob = registered(&repo).await;
    let key = passkey_of(&ada, T0);
    repo.insert(&key, &event_for(key.user_id, EventKind::PasskeyAdded))
        .await
        .unwrap();
    let twice = repo
        .insert(
            &StoredPasskey {
                credential_id: key.credential_id.clone(),
                ..passkey_of(&bob, T0)
            },
            &event(&bob, EventKind::PasskeyAdded),
        )
        .await;
    assert!(
        matches!(twice, Err(PasskeyError::AlreadyRegistered)),
        "{twice:?}"
    );
    assert!(repo.passkeys_of(bob.id).await.unwrap().is_empty());
}

/// A use is recorded only while the stored state is still the one verified against.
pub async fn a_use_is_recorded_only_over_the_state_it_was_verified_against<R>(repo: R)
where
    R: PasskeyRepository + UserRepository,
{
    let ada = registered(&repo).await;
    let key = passkey_of(&ada, T0);
    repo.insert(&key, &event_for(key.user_id, EventKind::PasskeyAdded))
        .await
        .unwrap();
    let first = T0 + Duration::hours(1);
    assert!(
        repo.record_use(key.id, "{\"counter\":1}", "{\"counter\":2}", first)
            .await
            .unwrap()
    );
    assert!(
        !repo
            .record_use(
                key.id,
                "{\"counter\":1}",
                "{\"counter\":3}",
                T0 + Duration::hours(2)
            )
            .await
            .unwrap(),
        "a login verified against a state that changed meanwhile was recorded"
    );
    let used = repo.passkeys_of(ada.id).await.unwrap().remove(0);
    assert_eq!(
        (used.data.as_str(), used.last_used_at),
        ("{\"counter\":2}", Some(first))
    );
    let unknown = PasskeyId::generate(&SystemClock, &OsRandom);
    assert!(
        !repo
            .record_use(unknown, "{\"counter\":2}", "{\"counter\":3}", first)
            .await
            .unwrap()
    );
}

/// Deleting needs the owner: false for another user or an unknown id, true once for the owner.
pub async fn a_passkey_is_deleted_by_its_owner_only<R>(repo: R)
where
    R: PasskeyRepository + UserRepository,
{
    let ada = registered(&repo).await;
    let bob = registered(&repo).await;
    let key = passkey_of(&ada, T0);
    let kept = passkey_of(&ada, T0);
    repo.insert(&key, &event_for(key.user_id, EventKind::PasskeyAdded))
        .await
        .unwrap();
    repo.insert(&kept, &event_for(kept.user_id, EventKind::PasskeyAdded))
        .await
        .unwrap();
    assert!(
        !repo
            .delete(bob.id, key.id, &event(&bob, EventKind::PasskeyRemoved))
            .await
            .unwrap(),
        "someone else's passkey was deleted"
    );
    assert!(
        repo.delete(ada.id, key.id, &event(&ada, EventKind::PasskeyRemoved))
            .await
            .unwrap()
    );
    assert!(
        !repo
            .delete(ada.id, key.id, &event(&ada, EventKind::PasskeyRemoved))
            .await
            .unwrap()
    );
    let left = repo.passkeys_of(ada.id).await.unwrap();
    assert_eq!(left.iter().map(|p| p.id).collect::<Vec<_>>(), [kept.id]);
    assert!(
        repo.find_by_credential(&key.credential_id)
            .await
            .unwrap()
            .is_none()
    );
}

/// Dropping a user's registrations leaves sign-in ceremonies and other users' registrations alone.
pub async fn a_users_registrations_are_dropped_and_nothing_else<R>(repo: R)
where
    R: PasskeyRepository + UserRepository,
{
    let (ada, eve) = (registered(&repo).await, registered(&repo).await);
    let adas = ceremony(CeremonyPurpose::Registration(ada.id));
    let eves = ceremony(CeremonyPurpose::Registration(eve.id));
    let login = ceremony(CeremonyPurpose::Authentication);
    for c in [&adas, &eves, &login] {
        repo.save_ceremony(c).await.unwrap();
    }
    repo.drop_registrations_of(ada.id).await.unwrap();
    assert!(repo.take_ceremony(&adas.challenge).await.unwrap().is_none());
    assert!(repo.take_ceremony(&eves.challenge).await.unwrap().is_some());
    assert!(
        repo.take_ceremony(&login.challenge)
            .await
            .unwrap()
            .is_some()
    );
}
