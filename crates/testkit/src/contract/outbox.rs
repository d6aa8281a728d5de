//! The contract of [`Outbox`], over emails queued by a password reset; its checks need an empty outbox.

use authd_account::ports::{Outbox, QueuedEmail};
use authd_identity::ports::{PasswordResetRepository, UserRepository};
use authd_identity::{OutgoingEmail, PasswordReset};
use authd_kernel::EventKind;
use time::{Duration, OffsetDateTime};

use super::sessions::event_for;
use super::{T0, registered, token_hash};

const LEASE: Duration = Duration::minutes(2);

/// Queues one email (with a reset) for a new account, due from `at`.
async fn queue(
    repo: &(impl PasswordResetRepository + UserRepository),
    at: OffsetDateTime,
) -> String {
    let user = registered(repo).await;
    let reset = PasswordReset {
        hash: token_hash(),
        user_id: user.id,
        created_at: at,
        expires_at: at + Duration::HOUR,
        used_at: None,
    };
    let email = OutgoingEmail {
        to: user.email.clone(),
        subject: "Reset".into(),
        text: "link".into(),
        html: "<a>link</a>".into(),
    };
    repo.replace_reset_and_enqueue(
        &reset,
        &email,
        Some("req-1"),
        &event_for(user.id, EventKind::PasswordResetRequested),
    )
    .await
    .unwrap();
    user.email.as_str().to_owned()
}

fn recipients(claimed: &[QueuedEmail]) -> Vec<&str> {
    claimed.iter().map(|q| q.email.to.as_str()).collect()
}

/// Due emails are claimed oldest first, at most `limit`, once while the claim lasts, each attempt counted.
pub async fn due_emails_are_claimed_oldest_first_once_per_lease(
    repo: impl Outbox + PasswordResetRepository + UserRepository,
) {
    let first = queue(&repo, T0).await;
    let second = queue(&repo, T0 + Duration::seconds(1)).await;
    let not_yet = queue(&repo, T0 + Duration::minutes(30)).await;
    let now = T0 + Duration::minutes(1);
    let claimed = repo.claim_due(now, LEASE, 1).await.unwrap();
    assert_eq!(recipients(&claimed), [first.as_str()]);
    assert_eq!(
        (claimed[0].attempts, claimed[0].correlation.as_deref()),
        (1, Some("req-1"))
    );
    assert_eq!(claimed[0].email.text, "link");
    let rest = repo.claim_due(now, LEASE, 10).await.unwrap();
    assert_eq!(recipients(&rest), [second.as_str()]);
    assert!(repo.claim_due(now, LEASE, 10).await.unwrap().is_empty());

    // A claim that ran out (its worker died) is claimed again, the attempt counted.
    let after_lease = now + LEASE;
    let again = repo.claim_due(after_lease, LEASE, 10).await.unwrap();
    assert_eq!(recipients(&again), [first.as_str(), second.as_str()]);
    assert!(again.iter().all(|q| q.attempts == 2));
    assert!(!recipients(&again).contains(&not_yet.as_str()));
}

/// A sent or given-up email is never claimed again.
pub async fn sent_and_given_up_emails_are_never_claimed_again(
    repo: impl Outbox + PasswordResetRepository + UserRepository,
) {
    queue(&repo, T0).await;
    queue(&repo, T0).await;
    let claimed = repo.claim_due(T0, LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    repo.mark_sent(&claimed[0].id, T0).await.unwrap();
    repo.give_up(&claimed[1].id, T0, "550 no such user")
        .await
        .unwrap();
    let much_later = T0 + Duration::days(1);
    assert!(
        repo.claim_due(much_later, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// An email released for a retry is due again at its new time, not before.
pub async fn a_retried_email_is_due_again_at_its_new_time(
    repo: impl Outbox + PasswordResetRepository + UserRepository,
) {
    queue(&repo, T0).await;
    let claimed = repo.claim_due(T0, LEASE, 10).await.unwrap();
    let retry_at = T0 + Duration::seconds(45);
    repo.retry_later(&claimed[0].id, retry_at, "421 try later")
        .await
        .unwrap();
    let early = retry_at - Duration::seconds(1);
    assert!(repo.claim_due(early, LEASE, 10).await.unwrap().is_empty());
    let again = repo.claim_due(retry_at, LEASE, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id.as_str(), again[0].attempts),
        (claimed[0].id.as_str(), 2)
    );
}
