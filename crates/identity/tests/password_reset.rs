//! The password-reset use cases, against in-memory fakes and a fixed clock.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_identity::{
    Email, IdentityError, IdentityService, PasswordProblem, PasswordResetService, Registration,
    ResetPolicy,
};
use authd_kernel::{Client, Secret};
use authd_testkit::{FixedClock, InlineHasher, MemoryUsers, SeededRandom};
use futures_util::FutureExt as _;
use time::Duration;
use time::macros::datetime;

struct World {
    resets: PasswordResetService<MemoryUsers, InlineHasher, FixedClock, SeededRandom>,
    identity: IdentityService<MemoryUsers, InlineHasher, FixedClock, SeededRandom>,
    users: MemoryUsers,
    clock: FixedClock,
}

fn world() -> World {
    let users = MemoryUsers::default();
    let hasher = InlineHasher::cheap();
    let clock = FixedClock::at(datetime!(2026-03-01 09:00 UTC));
    let policy = ResetPolicy {
        ttl: Duration::hours(1),
        reset_url: "https://app.example.com/reset-password".into(),
        product: "authd".into(),
    };
    World {
        resets: PasswordResetService::new(
            users.clone(),
            hasher.clone(),
            clock.clone(),
            SeededRandom::new(3),
            policy,
        ),
        identity: IdentityService::new(users.clone(), hasher, clock.clone(), SeededRandom::new(4)),
        users,
        clock,
    }
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    future
        .now_or_never()
        .expect("in-memory fakes never suspend")
}

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

/// Registers Ada, asks for a reset, and returns the token from the queued email's link.
fn requested(w: &World) -> Secret {
    run(w.identity.register(
        Registration {
            email: "ada@example.com".into(),
            name: "Ada".into(),
            password: Secret::new("analytical engine"),
        },
        &Client::default(),
    ))
    .unwrap();
    run(w
        .resets
        .request(&email("ada@example.com"), Some("req-1"), &Client::default()))
    .unwrap();
    token_from(&w.users.outbox().last().unwrap().text)
}

fn token_from(text: &str) -> Secret {
    let after = text.split("?token=").nth(1).expect("a link with a token");
    Secret::new(after.split_whitespace().next().unwrap())
}

#[test]
fn a_request_queues_an_email_with_a_link_in_both_parts() {
    let w = world();
    let token = requested(&w);
    let sent = w.users.outbox();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to.as_str(), "ada@example.com");
    let link = format!(
        "https://app.example.com/reset-password?token={}",
        token.expose()
    );
    assert!(sent[0].text.contains(&link));
    assert!(sent[0].html.contains(&link));
    assert_eq!(token.expose().len(), 43, "256 bits, base64url");
}

#[test]
fn an_unknown_email_queues_nothing() {
    let w = world();
    run(w
        .resets
        .request(&email("nobody@example.com"), None, &Client::default()))
    .unwrap();
    assert!(w.users.outbox().is_empty());
}

#[test]
fn a_reset_sets_the_password_and_spends_the_token() {
    let w = world();
    let token = requested(&w);
    run(w.resets.reset(
        &token,
        Secret::new("a brand new passphrase"),
        &Client::default(),
    ))
    .unwrap();
    assert!(
        run(w
            .identity
            .login("ada@example.com", &Secret::new("a brand new passphrase")))
        .is_ok()
    );
    assert!(matches!(
        run(w
            .identity
            .login("ada@example.com", &Secret::new("analytical engine"))),
        Err(IdentityError::InvalidCredentials)
    ));
    let again = run(w.resets.reset(
        &token,
        Secret::new("yet another passphrase"),
        &Client::default(),
    ));
    assert!(matches!(again, Err(IdentityError::InvalidResetToken)));
}

#[test]
fn an_expired_token_is_refused() {
    let w = world();
    let token = requested(&w);
    w.clock.advance(Duration::hours(1));
    let result = run(w.resets.reset(
        &token,
        Secret::new("a brand new passphrase"),
        &Client::default(),
    ));
    assert!(matches!(result, Err(IdentityError::InvalidResetToken)));
}

#[test]
fn a_newer_request_supersedes_the_older_token() {
    let w = world();
    let old = requested(&w);
    run(w
        .resets
        .request(&email("ada@example.com"), None, &Client::default()))
    .unwrap();
    let new = token_from(&w.users.outbox().last().unwrap().text);
    assert!(matches!(
        run(w.resets.reset(
            &old,
            Secret::new("a brand new passphrase"),
            &Client::default()
        )),
        Err(IdentityError::InvalidResetToken)
    ));
    run(w.resets.reset(
        &new,
        Secret::new("a brand new passphrase"),
        &Client::default(),
    ))
    .unwrap();
}

#[test]
fn the_new_password_must_pass_the_policy_and_the_token_survives_a_weak_one() {
    let w = world();
    let token = requested(&w);
    let weak = run(w
        .resets
        .reset(&token, Secret::new("password"), &Client::default()));
    assert!(matches!(
        weak,
        Err(IdentityError::WeakPassword(
            PasswordProblem::TooShort | PasswordProblem::Common
        ))
    ));
    run(w.resets.reset(
        &token,
        Secret::new("a brand new passphrase"),
        &Client::default(),
    ))
    .unwrap();
}

#[test]
fn unknown_tokens_are_refused() {
    let w = world();
    requested(&w);
    let result = run(w.resets.reset(
        &Secret::new("made-up"),
        Secret::new("a brand new passphrase"),
        &Client::default(),
    ));
    assert!(matches!(result, Err(IdentityError::InvalidResetToken)));
}
