//! Email delivery from the outbox: sent once, retried with backoff after a temporary failure, given up
//! after a permanent one or too many attempts.

use authd_account::{DeliveryPolicy, EmailDelivery, MAX_BACKOFF, backoff};
use authd_identity::{Email, MailFailure};
use authd_testkit::{FixedClock, MemoryStore, ScriptedMailer};
use time::Duration;

use crate::support::{World, laptop, run, world};

const POLICY: DeliveryPolicy = DeliveryPolicy {
    max_attempts: 3,
    retry_base: Duration::seconds(5),
};

type Delivery = EmailDelivery<MemoryStore, ScriptedMailer, FixedClock>;

/// A world with one reset email queued for Ada, and delivery over its outbox.
fn queued() -> (World, Delivery, ScriptedMailer) {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    let email = Email::parse(ada.email.as_str()).unwrap();
    run(w
        .accounts
        .send_password_reset(&email, Some("req-1"), &laptop()))
    .unwrap();
    let mailer = ScriptedMailer::default();
    let delivery = EmailDelivery::new(w.store.clone(), mailer.clone(), w.clock.clone(), POLICY);
    (w, delivery, mailer)
}

#[test]
fn a_due_email_is_sent_once() {
    let (_w, delivery, mailer) = queued();
    assert_eq!(run(delivery.send_due()).unwrap(), 1);
    assert_eq!(run(delivery.send_due()).unwrap(), 0);
    let accepted = mailer.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].to.as_str(), "ada@example.com");
    assert!(
        accepted[0]
            .text
            .contains("https://app.example/reset?token=")
    );
}

#[test]
fn a_temporary_failure_is_retried_after_the_backoff() {
    let (w, delivery, mailer) = queued();
    mailer.fail_next(MailFailure::temporary("421 try later"));
    assert_eq!(run(delivery.send_due()).unwrap(), 1);
    w.clock.advance(POLICY.retry_base - Duration::seconds(1));
    assert_eq!(
        run(delivery.send_due()).unwrap(),
        0,
        "not due before the backoff"
    );
    w.clock.advance(Duration::seconds(1));
    assert_eq!(run(delivery.send_due()).unwrap(), 1);
    assert_eq!((mailer.attempts(), mailer.accepted().len()), (2, 1));
}

#[test]
fn a_permanent_failure_is_given_up_at_once() {
    let (w, delivery, mailer) = queued();
    mailer.fail_next(MailFailure::permanent("550 no such user"));
    assert_eq!(run(delivery.send_due()).unwrap(), 1);
    w.clock.advance(Duration::days(1));
    assert_eq!(run(delivery.send_due()).unwrap(), 0);
    assert!(mailer.accepted().is_empty());
}

#[test]
fn an_email_failing_every_attempt_is_given_up_after_the_last() {
    let (w, delivery, mailer) = queued();
    for _ in 0..POLICY.max_attempts {
        mailer.fail_next(MailFailure::temporary("421 try later"));
    }
    for _ in 0..POLICY.max_attempts {
        assert_eq!(run(delivery.send_due()).unwrap(), 1);
        w.clock.advance(MAX_BACKOFF);
    }
    assert_eq!(run(delivery.send_due()).unwrap(), 0);
    assert_eq!(mailer.attempts(), 3);
}

#[test]
fn backoff_triples_and_caps_at_fifteen_minutes() {
    let secs: Vec<i64> = (1..=7)
        .map(|a| backoff(Duration::seconds(5), a).whole_seconds())
        .collect();
    assert_eq!(secs, [5, 15, 45, 135, 405, 900, 900]);
}
