//! The email outbox behind password resets: leases, retries, and bodies dropped once done. Each test has a
//! database of its own, since a claim takes every due email.

use authd_account::ports::Outbox as _;
use authd_identity::User;
use authd_identity::ports::PasswordResetRepository as _;
use authd_kernel::EventKind;
use authd_store::Store;
use authd_testkit::contract::resets::{email_to, reset_for};
use authd_testkit::contract::sessions::event_for;
use authd_testkit::contract::{T0, registered};
use time::Duration;

on_both_backends!(
    @alone
    a_reset_email_is_queued_with_its_correlation,
    a_claimed_email_is_not_claimed_twice_until_its_lease_ends,
    sent_and_failed_emails_lose_their_bodies,
    a_temporary_failure_reschedules_the_email,
);

/// Claims every due email at `at` for a minute and keeps `user`'s.
async fn claim_for(
    store: &Store,
    user: &User,
    at: time::OffsetDateTime,
) -> Vec<authd_account::ports::QueuedEmail> {
    let claimed = store
        .claim_due(at, Duration::minutes(1), 1000)
        .await
        .unwrap();
    claimed
        .into_iter()
        .filter(|q| q.email.to == user.email)
        .collect()
}

async fn a_reset_email_is_queued_with_its_correlation(store: Store) {
    let user = registered(&store).await;
    let first = reset_for(&user, T0);
    store
        .replace_reset_and_enqueue(
            &first,
            &email_to(&user),
            Some("req-1"),
            &event_for(user.id, EventKind::PasswordResetRequested),
        )
        .await
        .unwrap();
    let second = reset_for(&user, T0 + Duration::minutes(1));
    store
        .replace_reset_and_enqueue(
            &second,
            &email_to(&user),
            None,
            &event_for(user.id, EventKind::PasswordResetRequested),
        )
        .await
        .unwrap();
    let queued = claim_for(&store, &user, T0 + Duration::minutes(2)).await;
    assert_eq!(queued.len(), 2, "a superseded reset's email was dropped");
    assert_eq!(queued[0].email, email_to(&user));
    assert_eq!(queued[0].correlation.as_deref(), Some("req-1"));
    assert_eq!(queued[0].attempts, 1);
}

async fn a_claimed_email_is_not_claimed_twice_until_its_lease_ends(store: Store) {
    let user = registered(&store).await;
    store
        .replace_reset_and_enqueue(
            &reset_for(&user, T0),
            &email_to(&user),
            None,
            &event_for(user.id, EventKind::PasswordResetRequested),
        )
        .await
        .unwrap();
    assert_eq!(claim_for(&store, &user, T0).await.len(), 1);
    assert!(
        claim_for(&store, &user, T0 + Duration::seconds(30))
            .await
            .is_empty()
    );
    let again = claim_for(&store, &user, T0 + Duration::minutes(2)).await;
    assert_eq!(
        again.len(),
        1,
        "an expired lease must free the email (the claimer died)"
    );
    assert_eq!(again[0].attempts, 2);
}

async fn sent_and_failed_emails_lose_their_bodies(store: Store) {
    let user = registered(&store).await;
    store
        .replace_reset_and_enqueue(
            &reset_for(&user, T0),
            &email_to(&user),
            None,
            &event_for(user.id, EventKind::PasswordResetRequested),
        )
        .await
        .unwrap();
    store
        .replace_reset_and_enqueue(
            &reset_for(&user, T0),
            &email_to(&user),
            None,
            &event_for(user.id, EventKind::PasswordResetRequested),
        )
        .await
        .unwrap();
    let claimed = claim_for(&store, &user, T0).await;
    store.mark_sent(&claimed[0].id, T0).await.unwrap();
    store
        .give_up(&claimed[1].id, T0, "550 no such user")
        .await
        .unwrap();
    assert!(
        claim_for(&store, &user, T0 + Duration::hours(1))
            .await
            .is_empty(),
        "finished emails came back"
    );
}

async fn a_temporary_failure_reschedules_the_email(store: Store) {
    let user = registered(&store).await;
    store
        .replace_reset_and_enqueue(
            &reset_for(&user, T0),
            &email_to(&user),
            None,
            &event_for(user.id, EventKind::PasswordResetRequested),
        )
        .await
        .unwrap();
    let claimed = claim_for(&store, &user, T0).await;
    store
        .retry_later(
            &claimed[0].id,
            T0 + Duration::minutes(5),
            "connection refused",
        )
        .await
        .unwrap();
    assert!(
        claim_for(&store, &user, T0 + Duration::minutes(4))
            .await
            .is_empty()
    );
    let retried = claim_for(&store, &user, T0 + Duration::minutes(5)).await;
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].email.text, email_to(&user).text);
}
