//! The throttling policy as the use cases apply it: login limits per account and per client IP, reset
//! limits, unknown emails counted like known ones, windows that end, and the switch.

use std::net::{IpAddr, Ipv4Addr};

use authd_account::{AccountError, ResetEmail, ThrottlePolicy};
use authd_identity::{Email, IdentityError};
use authd_kernel::{Client, EventKind, Secret};

use crate::support::{PASSWORD, POLICY, laptop, run, world, world_with};

const HOME: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
const ELSEWHERE: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)));

fn attempt(
    w: &crate::support::World,
    email: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<authd_account::SignIn, AccountError> {
    run(w
        .accounts
        .sign_in_with_password(email, &Secret::new(password), &Client::new(ip, None)))
}

fn is_rate_limited(result: &Result<authd_account::SignIn, AccountError>) -> bool {
    matches!(
        result,
        Err(AccountError::RateLimited { .. } | AccountError::LockedOut { .. })
    )
}

#[test]
fn an_account_over_its_failures_is_refused_even_the_right_password_until_the_window_ends() {
    let w = world();
    w.sign_up("ada@example.com");
    for _ in 0..POLICY.login_failures_per_account.max {
        let result = attempt(&w, "ada@example.com", "wrong", None);
        assert!(matches!(
            result,
            Err(AccountError::Identity(IdentityError::InvalidCredentials))
        ));
    }
    let refused = attempt(&w, "ADA@example.com ", PASSWORD, None);
    assert!(
        matches!(refused, Err(AccountError::LockedOut { retry_after: 900 })),
        "{refused:?}"
    );
    w.clock.advance(POLICY.login_failures_per_account.window);
    assert!(attempt(&w, "ada@example.com", PASSWORD, None).is_ok());
}

#[test]
fn a_success_forgets_the_accounts_failures() {
    let w = world();
    w.sign_up("ada@example.com");
    for _ in 0..POLICY.login_failures_per_account.max - 1 {
        let _ = attempt(&w, "ada@example.com", "wrong", None);
    }
    assert!(attempt(&w, "ada@example.com", PASSWORD, None).is_ok());
    for _ in 0..POLICY.login_failures_per_account.max {
        let result = attempt(&w, "ada@example.com", "wrong", None);
        assert!(!is_rate_limited(&result), "{result:?}");
    }
}

#[test]
fn unknown_emails_are_counted_exactly_like_known_ones() {
    let w = world();
    for _ in 0..POLICY.login_failures_per_account.max {
        let result = attempt(&w, "nobody@example.com", "wrong", None);
        assert!(matches!(
            result,
            Err(AccountError::Identity(IdentityError::InvalidCredentials))
        ));
    }
    assert!(is_rate_limited(&attempt(
        &w,
        "nobody@example.com",
        "wrong",
        None
    )));
}

#[test]
fn one_client_ip_is_limited_across_accounts_and_others_are_not() {
    let w = world();
    w.sign_up("ada@example.com");
    for n in 0..POLICY.login_per_ip.max {
        let result = attempt(&w, &format!("user{n}@example.com"), "wrong", HOME);
        assert!(!is_rate_limited(&result), "{result:?}");
    }
    assert!(is_rate_limited(&attempt(
        &w,
        "ada@example.com",
        PASSWORD,
        HOME
    )));
    assert!(attempt(&w, "ada@example.com", PASSWORD, ELSEWHERE).is_ok());
}

#[test]
fn reset_requests_are_limited_per_ip_and_reset_emails_per_address() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    for _ in 0..POLICY.reset_requests_per_ip.max {
        run(w.accounts.admit_password_reset(HOME)).unwrap();
    }
    let refused = run(w.accounts.admit_password_reset(HOME));
    assert!(
        matches!(
            refused,
            Err(AccountError::RateLimited { retry_after: 3600 })
        ),
        "{refused:?}"
    );
    run(w.accounts.admit_password_reset(ELSEWHERE)).unwrap();

    let email = Email::parse(ada.email.as_str()).unwrap();
    let first = run(w
        .accounts
        .send_password_reset(&email, Some("req-1"), &laptop()))
    .unwrap();
    let second = run(w
        .accounts
        .send_password_reset(&email, Some("req-2"), &laptop()))
    .unwrap();
    assert_eq!(
        (first, second),
        (ResetEmail::Handled, ResetEmail::OverLimit)
    );
    assert_eq!(w.store.outbox().len(), 1);
}

#[test]
fn with_the_limits_off_nothing_is_counted_or_refused() {
    let w = world_with(ThrottlePolicy {
        enabled: false,
        ..POLICY
    });
    w.sign_up("ada@example.com");
    for _ in 0..=POLICY.login_failures_per_account.max + POLICY.login_per_ip.max {
        let result = attempt(&w, "ada@example.com", "wrong", HOME);
        assert!(!is_rate_limited(&result), "{result:?}");
    }
    assert!(attempt(&w, "ada@example.com", PASSWORD, HOME).is_ok());
    assert_eq!(w.store.hits(""), 0);
}

#[test]
fn the_attempt_that_locks_an_account_out_is_logged_once() {
    let w = world();
    let ada = w.sign_up("ada@example.com");
    for _ in 0..POLICY.login_failures_per_account.max + 3 {
        let _ = attempt(&w, "ada@example.com", "wrong", None);
    }
    for _ in 0..POLICY.login_failures_per_account.max + 1 {
        let _ = attempt(&w, "nobody@example.com", "wrong", None);
    }
    let kinds: Vec<&str> = w
        .store
        .events()
        .iter()
        .filter(|e| e.kind == EventKind::LockedOut)
        .map(|e| {
            assert_eq!(e.user_id, ada.id);
            e.kind.as_str()
        })
        .collect();
    assert_eq!(kinds, ["locked_out"]);
}

#[test]
fn sign_ups_are_limited_per_client_ip_before_any_hashing() {
    let w = world();
    let sign_up = |n: u32, ip: Option<IpAddr>| {
        let registration = authd_identity::Registration {
            email: format!("user{n}@example.com"),
            name: "Ada".into(),
            password: Secret::new(PASSWORD),
        };
        run(w.accounts.sign_up(registration, &Client::new(ip, None)))
    };
    for n in 0..POLICY.registrations_per_ip.max {
        assert!(sign_up(n, HOME).is_ok());
    }
    let refused = sign_up(99, HOME);
    assert!(
        matches!(
            refused,
            Err(AccountError::RateLimited { retry_after: 3600 })
        ),
        "{refused:?}"
    );
    assert_eq!(
        w.store.user_count(),
        usize::try_from(POLICY.registrations_per_ip.max).unwrap(),
        "the refused sign-up created nothing"
    );
    assert!(sign_up(100, ELSEWHERE).is_ok());
}

#[test]
fn ipv6_clients_are_counted_by_their_slash_64() {
    let w = world();
    w.sign_up("ada@example.com");
    let in_one_64 = |n: u16| Some(IpAddr::from([0x2001, 0xdb8, 0, 7, 0, 0, 0, n]));
    for n in 0..u16::try_from(POLICY.login_per_ip.max).unwrap() {
        let result = attempt(&w, &format!("user{n}@example.com"), "wrong", in_one_64(n));
        assert!(!is_rate_limited(&result), "{result:?}");
    }
    assert!(
        is_rate_limited(&attempt(&w, "ada@example.com", PASSWORD, in_one_64(999))),
        "another address of the same /64 is the same client"
    );
    let next_64 = Some(IpAddr::from([0x2001, 0xdb8, 0, 8, 0, 0, 0, 1]));
    assert!(attempt(&w, "ada@example.com", PASSWORD, next_64).is_ok());
}

#[test]
fn ceremonies_begun_without_signing_in_are_limited_per_client_ip() {
    let w = world();
    let client = Client::new(HOME, None);
    for _ in 0..POLICY.anonymous_ceremonies_per_ip.max / 2 {
        run(w.accounts.begin_passkey_sign_in(&client)).unwrap();
        run(w
            .accounts
            .begin_provider_sign_in(authd_oauth::ProviderKind::GitHub, None, &client))
        .unwrap();
    }
    let refused = run(w.accounts.begin_passkey_sign_in(&client));
    assert!(
        matches!(refused, Err(AccountError::RateLimited { retry_after: 300 })),
        "{refused:?}"
    );
    let refused =
        run(w
            .accounts
            .begin_provider_sign_in(authd_oauth::ProviderKind::GitHub, None, &client));
    assert!(matches!(refused, Err(AccountError::RateLimited { .. })));
    run(w
        .accounts
        .begin_passkey_sign_in(&Client::new(ELSEWHERE, None)))
    .unwrap();
}
