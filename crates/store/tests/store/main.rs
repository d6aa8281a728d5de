//! The store's own suite, run against real SQLite and real PostgreSQL: every test runs once per backend.
//! The ports' contract suites (`authd_testkit::contract`) run here too; what is left below is specific to
//! the store: time precision, migrations, purging, the outbox, the rate limiter, service secrets, and the
//! clauses about concurrent calls, checked with real concurrency.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_account::ports::SecurityLog as _;
use authd_identity::ports::UserRepository as _;
use authd_kernel::{EventKind, Secret};
use authd_session::ports::SessionRepository as _;
use authd_session::{RefreshRecord, Session};
use authd_store::{Store, testing};
use authd_testkit::contract::sessions::{event, refresh_of, session_of};
use authd_testkit::contract::{T0, registered, unique, unique_email, user, workspace_of};
use time::Duration;
use time::macros::datetime;

/// Generates `<name>::sqlite` and `<name>::postgres` tests from an `async fn <name>(store: Store)`. The
/// PostgreSQL database is the one shared by this test process, or with `@alone` one per test (for tests of
/// a queue, which would steal each other's entries from a shared one).
macro_rules! on_both_backends {
    (@alone $($name:ident),* $(,)?) => { on_both_backends!(@with postgres_private; $($name),*); };
    (@with $postgres:ident; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let db = authd_store::testing::sqlite();
                super::$name(db.store().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = authd_store::testing::$postgres() else { return };
                super::$name(db.store().await).await;
            }
        }
    )*};
    ($($name:ident),* $(,)?) => { on_both_backends!(@with postgres; $($name),*); };
}

mod concurrency;
mod outbox;

/// Every contract suite on both backends; `alone` suites get a PostgreSQL database of their own.
mod contract {
    macro_rules! on_the_store {
        ($suite:ident, shared: $($check:ident),* $(,)?) => {
            on_the_store!(@with postgres; $suite: $($check),*);
        };
        ($suite:ident, alone: $($check:ident),* $(,)?) => {
            on_the_store!(@with postgres_private; $suite: $($check),*);
        };
        (@with $postgres:ident; $suite:ident: $($check:ident),*) => {
            mod $suite {
                $(
                    mod $check {
                        #[tokio::test]
                        async fn sqlite() {
                            let db = authd_store::testing::sqlite();
                            authd_testkit::contract::$suite::$check(db.store().await).await;
                        }

                        #[tokio::test]
                        async fn postgres() {
                            let Some(db) = authd_store::testing::$postgres() else { return };
                            authd_testkit::contract::$suite::$check(db.store().await).await;
                        }
                    }
                )*
            }
        };
    }

    authd_testkit::for_each_contract_suite!(on_the_store);
}

on_both_backends!(
    timestamps_round_trip_to_the_microsecond,
    purging_removes_only_long_expired_rows,
    the_service_secret_is_generated_once,
    events_past_their_retention_are_purged,
);

async fn timestamps_round_trip_to_the_microsecond(store: Store) {
    let mut user = user(&unique_email());
    user.created_at = datetime!(2026-05-01 10:00:00.123456789 UTC);
    store
        .create_with_workspace(&user, &workspace_of(&user), None)
        .await
        .unwrap();
    let stored = store.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.created_at, datetime!(2026-05-01 10:00:00.123456 UTC));
}

async fn purging_removes_only_long_expired_rows(store: Store) {
    let user = registered(&store).await;
    let old = Session {
        expires_at: T0 - Duration::days(8),
        ..session_of(&user)
    };
    let old_token = refresh_of(&old, T0 - Duration::days(40));
    let recent = Session {
        expires_at: T0 - Duration::days(1),
        ..session_of(&user)
    };
    store
        .create(
            &old,
            Some(&RefreshRecord {
                expires_at: T0 - Duration::days(8),
                ..old_token
            }),
            None,
        )
        .await
        .unwrap();
    store.create(&recent, None, None).await.unwrap();

    store.purge_expired(T0).await.unwrap();
    assert!(store.find(old.id).await.unwrap().is_none());
    assert!(store.find(recent.id).await.unwrap().is_some());
}

async fn the_service_secret_is_generated_once(store: Store) {
    let name = unique("test");
    let first = store
        .load_or_insert_secret(&name, &Secret::new("aa"), T0)
        .await
        .unwrap();
    let second = store
        .load_or_insert_secret(&name, &Secret::new("bb"), T0)
        .await
        .unwrap();
    assert_eq!((first.expose(), second.expose()), ("aa", "aa"));
}

#[tokio::test]
async fn sqlite_migrations_run_up_down_up() {
    let db = testing::sqlite();
    migrations_run_up_down_up(db.store().await).await;
}

#[tokio::test]
async fn postgres_migrations_run_up_down_up() {
    let Some(db) = testing::postgres_private() else {
        return;
    };
    migrations_run_up_down_up(db.store().await).await;
}

async fn migrations_run_up_down_up(store: Store) {
    let user = registered(&store).await;
    assert!(store.revert_all_migrations().await.unwrap() >= 1);
    assert!(
        store.find_by_id(user.id).await.is_err(),
        "tables survived the down migration"
    );
    assert!(store.migrate().await.unwrap() >= 1);
    assert_eq!(
        store.migrate().await.unwrap(),
        0,
        "a second run found pending migrations"
    );
    registered(&store).await;
}

#[tokio::test]
async fn postgres_instances_starting_together_both_migrate() {
    let Some(db) = testing::postgres_private() else {
        return;
    };
    let a = Store::open(&db.url, authd_store::PoolOptions::default());
    let b = Store::open(&db.url, authd_store::PoolOptions::default());
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.min(rb), 0, "both instances ran the migrations");
    assert!(ra.max(rb) >= 2);
    registered(&a).await;
}

async fn events_past_their_retention_are_purged(store: Store) {
    let user = registered(&store).await;
    let mut old = event(&user, EventKind::SignedIn);
    old.at = T0 - Duration::days(400);
    let mut kept = event(&user, EventKind::SignedOut);
    kept.at = T0 - Duration::days(10);
    store.record(&old).await.unwrap();
    store.record(&kept).await.unwrap();
    store
        .purge_events_before(T0 - Duration::days(365))
        .await
        .unwrap();
    assert_eq!(store.events_of(user.id, None, 10).await.unwrap(), [kept]);
}
