//! The register and login use cases, against in-memory fakes and a fixed clock.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_identity::{
    IdentityError, IdentityService, PasswordProblem, Registration, Role, ScryptCost,
};
use authd_kernel::{Client, Secret};
use authd_testkit::{FixedClock, InlineHasher, MemoryUsers, SeededRandom};
use futures_util::FutureExt as _;
use time::macros::datetime;

type Service = IdentityService<MemoryUsers, InlineHasher, FixedClock, SeededRandom>;

fn service_with(users: MemoryUsers, hasher: InlineHasher) -> Service {
    IdentityService::new(
        users,
        hasher,
        FixedClock::at(datetime!(2026-03-01 09:00 UTC)),
        SeededRandom::new(7),
    )
}

fn service() -> (Service, MemoryUsers, InlineHasher) {
    let users = MemoryUsers::default();
    let hasher = InlineHasher::cheap();
    (service_with(users.clone(), hasher.clone()), users, hasher)
}

fn registration(email: &str, password: &str) -> Registration {
    Registration {
        email: email.into(),
        name: "Ada Lovelace".into(),
        password: Secret::new(password),
    }
}

/// The fakes never suspend, so every future completes on its first poll.
fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    future
        .now_or_never()
        .expect("in-memory fakes never suspend")
}

#[test]
fn registering_creates_a_user_with_a_personal_workspace_they_own() {
    let (service, users, _) = service();
    let user = run(service.register(
        registration(" Ada@Example.com ", "analytical engine"),
        &Client::default(),
    ))
    .unwrap();
    assert_eq!(user.email.as_str(), "ada@example.com");
    assert!(user.has_password());
    assert_eq!(users.user_count(), 1);
    let memberships = run(service.profile(user.id)).unwrap().unwrap().memberships;
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].role, Role::Owner);
    assert_eq!(memberships[0].workspace.name, "Ada Lovelace's workspace");
    assert_eq!(
        memberships[0].workspace.created_at,
        datetime!(2026-03-01 09:00 UTC)
    );
}

#[test]
fn registering_an_email_twice_in_any_case_is_refused() {
    let (service, users, _) = service();
    run(service.register(
        registration("ada@example.com", "analytical engine"),
        &Client::default(),
    ))
    .unwrap();
    let again = run(service.register(
        registration("ADA@example.com", "difference engine"),
        &Client::default(),
    ));
    assert!(matches!(again, Err(IdentityError::EmailTaken)));
    assert_eq!(users.user_count(), 1);
}

#[test]
fn registration_applies_the_password_policy_before_hashing() {
    let (service, users, _) = service();
    let short = run(service.register(registration("ada@example.com", "short"), &Client::default()));
    assert!(matches!(
        short,
        Err(IdentityError::WeakPassword(PasswordProblem::TooShort))
    ));
    let common = run(service.register(
        registration("ada@example.com", "Password123"),
        &Client::default(),
    ));
    assert!(matches!(
        common,
        Err(IdentityError::WeakPassword(PasswordProblem::Common))
    ));
    let bad_email =
        run(service.register(registration("ada", "analytical engine"), &Client::default()));
    assert!(matches!(bad_email, Err(IdentityError::InvalidEmail)));
    assert_eq!(users.user_count(), 0);
}

#[test]
fn login_accepts_the_right_password_with_any_email_case() {
    let (service, _, _) = service();
    let user = run(service.register(
        registration("ada@example.com", "analytical engine"),
        &Client::default(),
    ))
    .unwrap();
    let logged_in =
        run(service.login(" ADA@example.com", &Secret::new("analytical engine"))).unwrap();
    assert_eq!(logged_in.id, user.id);
}

#[test]
fn wrong_password_unknown_email_and_malformed_email_fail_alike_after_one_verification_each() {
    let (service, _, hasher) = service();
    run(service.register(
        registration("ada@example.com", "analytical engine"),
        &Client::default(),
    ))
    .unwrap();
    for (email, password) in [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", "analytical engine"),
        ("not-an-email", "x"),
    ] {
        let before = hasher.verifications();
        let result = run(service.login(email, &Secret::new(password)));
        assert!(
            matches!(result, Err(IdentityError::InvalidCredentials)),
            "{email}"
        );
        assert_eq!(
            hasher.verifications(),
            before + 1,
            "{email} skipped the (dummy) verification"
        );
    }
}

#[test]
fn a_login_rehashes_a_password_stored_at_an_older_cost() {
    let users = MemoryUsers::default();
    let old = service_with(users.clone(), InlineHasher::cheap());
    let user = run(old.register(
        registration("ada@example.com", "analytical engine"),
        &Client::default(),
    ))
    .unwrap();
    let old_hash = user.password_hash.clone().unwrap();

    let new = service_with(
        users.clone(),
        InlineHasher::with_cost(ScryptCost {
            log_n: 5,
            r: 8,
            p: 1,
        }),
    );
    run(new.login("ada@example.com", &Secret::new("analytical engine"))).unwrap();
    let stored = run(new.user(user.id))
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert_ne!(stored, old_hash);
    assert!(stored.as_phc().starts_with("$scrypt$ln=5,"));
    run(new.login("ada@example.com", &Secret::new("analytical engine"))).unwrap();
}
