//! The contract of [`SecurityLog`].

use authd_account::ports::{EventCursor, SecurityLog};
use authd_identity::ports::UserRepository;
use authd_kernel::{EventKind, SecurityEvent};
use authd_oauth::ports::OAuthRepository;
use authd_oauth::{LinkedIdentity, ProviderKind};
use authd_passkey::ports::PasskeyRepository;
use time::Duration;

use super::passkeys::passkey_of;
use super::sessions::event;
use super::{T0, registered, unique};

fn cursor_of(event: &SecurityEvent) -> EventCursor {
    EventCursor {
        at: event.at,
        id: event.id,
    }
}

/// A user's events come newest first, a page at a time, each page strictly before the cursor.
pub async fn events_are_listed_newest_first_a_page_at_a_time<R>(repo: R)
where
    R: SecurityLog + UserRepository,
{
    let user = registered(&repo).await;
    let mut recorded = Vec::new();
    for minute in 0..5 {
        let mut e = event(&user, EventKind::SignedIn);
        e.at = T0 + Duration::minutes(minute);
        repo.record(&e).await.unwrap();
        recorded.push(e);
    }
    let first = repo.events_of(user.id, None, 2).await.unwrap();
    assert_eq!(first, [recorded[4].clone(), recorded[3].clone()]);
    let second = repo
        .events_of(user.id, Some(cursor_of(&first[1])), 2)
        .await
        .unwrap();
    assert_eq!(second, [recorded[2].clone(), recorded[1].clone()]);
    let last = repo
        .events_of(user.id, Some(cursor_of(&second[1])), 2)
        .await
        .unwrap();
    assert_eq!(last, [recorded[0].clone()]);
}

/// Events at the same time are ordered by id, so paging neither repeats nor skips one.
pub async fn events_at_the_same_time_page_by_id<R>(repo: R)
where
    R: SecurityLog + UserRepository,
{
    let user = registered(&repo).await;
    for _ in 0..4 {
        let mut e = event(&user, EventKind::SignedOut);
        e.at = T0;
        repo.record(&e).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = repo.events_of(user.id, cursor, 1).await.unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(cursor_of(last));
        seen.push(last.id);
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!((seen.len(), seen), (4, sorted));
}

/// MUST return only the user's events, whatever the cursor (even one taken from someone else's log).
pub async fn a_cursor_yields_only_the_users_own_events<R>(repo: R)
where
    R: SecurityLog + UserRepository,
{
    let (ada, eve) = (registered(&repo).await, registered(&repo).await);
    let mut adas = event(&ada, EventKind::SignedIn);
    adas.at = T0;
    let mut eves = event(&eve, EventKind::SignedIn);
    eves.at = T0 + Duration::minutes(1);
    repo.record(&adas).await.unwrap();
    repo.record(&eves).await.unwrap();
    let later = EventCursor {
        at: T0 + Duration::days(1),
        id: eves.id,
    };
    assert_eq!(
        repo.events_of(ada.id, Some(later), 10).await.unwrap(),
        [adas]
    );
    assert_eq!(repo.events_of(eve.id, None, 10).await.unwrap(), [eves]);
}

/// Passkey and provider changes record their events with them; refused ones record nothing.
pub async fn credential_changes_record_their_events<R>(repo: R)
where
    R: SecurityLog + UserRepository + PasskeyRepository + OAuthRepository,
{
    let (ada, eve) = (registered(&repo).await, registered(&repo).await);
    let key = passkey_of(&ada, T0);
    repo.insert(&key, &event(&ada, EventKind::PasskeyAdded))
        .await
        .unwrap();
    let foreign = event(&eve, EventKind::PasskeyRemoved);
    assert!(!repo.delete(eve.id, key.id, &foreign).await.unwrap());
    assert!(
        repo.delete(ada.id, key.id, &event(&ada, EventKind::PasskeyRemoved))
            .await
            .unwrap()
    );
    let link = LinkedIdentity {
        user_id: ada.id,
        provider: ProviderKind::GitHub,
        subject: unique("subject"),
        email: None,
        linked_at: T0,
    };
    repo.link(&link, &event(&ada, EventKind::ProviderLinked))
        .await
        .unwrap();
    let twice = repo
        .link(&link, &event(&ada, EventKind::ProviderLinked))
        .await;
    assert!(twice.is_err());
    let unlinked = event(&ada, EventKind::ProviderUnlinked);
    assert!(
        repo.unlink(ada.id, ProviderKind::GitHub, &unlinked)
            .await
            .unwrap()
    );
    assert!(
        !repo
            .unlink(ada.id, ProviderKind::GitHub, &unlinked)
            .await
            .unwrap()
    );
    let mut kinds: Vec<&str> = repo
        .events_of(ada.id, None, 20)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [
            "passkey_added",
            "passkey_removed",
            "provider_linked",
            "provider_unlinked"
        ]
    );
    assert!(repo.events_of(eve.id, None, 20).await.unwrap().is_empty());
}
