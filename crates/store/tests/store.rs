//! The store's suite, run against real SQLite and real PostgreSQL: every test below runs once per backend.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_account::ports::RateLimiter as _;
use authd_identity::ports::UserRepository;
use authd_identity::{DisplayName, Email, IdentityError, NewWorkspace, PasswordHash, Role, User};
use authd_kernel::{OpaqueToken, OsRandom, Secret, SystemClock, TokenHash, UserId};
use authd_session::ports::{SessionRepository, SigningKeyRepository};
use authd_session::{KeyId, MfaStatus, RefreshRecord, Session, SessionId, StoredSigningKey};
use authd_store::{Store, testing};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

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

on_both_backends!(
    a_registered_user_is_found_by_email_and_id_with_their_workspace,
    a_duplicate_email_is_reported_as_taken,
    a_failed_registration_leaves_nothing_behind,
    a_password_hash_can_be_replaced,
    timestamps_round_trip_to_the_microsecond,
    a_session_and_its_refresh_token_are_stored_together,
    a_refresh_token_rotates_exactly_once,
    concurrent_rotations_of_one_token_let_exactly_one_through,
    revoking_sessions_one_or_all,
    the_first_signing_key_wins_and_later_candidates_are_ignored,
    rate_limit_counters_count_within_a_window_and_restart_after_it,
    purging_removes_only_long_expired_rows,
);

const T0: OffsetDateTime = datetime!(2026-05-01 10:00:00.123456 UTC);

pub(crate) fn user(email: &str) -> User {
    User {
        id: UserId::generate(&SystemClock, &OsRandom),
        email: Email::parse(email).unwrap(),
        name: DisplayName::parse("Grace Hopper").unwrap(),
        password_hash: Some(PasswordHash::from_phc(
            "$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaA".into(),
        )),
        created_at: T0,
        updated_at: T0,
    }
}

fn unique_email() -> String {
    format!("{}@example.com", uuid::Uuid::new_v4().simple())
}

async fn registered(store: &Store) -> User {
    let user = user(&unique_email());
    let workspace = NewWorkspace::personal_for(&user, &SystemClock, &OsRandom);
    store
        .create_with_workspace(&user, &workspace)
        .await
        .unwrap();
    user
}

async fn a_registered_user_is_found_by_email_and_id_with_their_workspace(store: Store) {
    let user = user(&unique_email());
    let workspace = NewWorkspace::personal_for(&user, &SystemClock, &OsRandom);
    store
        .create_with_workspace(&user, &workspace)
        .await
        .unwrap();

    let by_email = store.find_by_email(&user.email).await.unwrap().unwrap();
    assert_eq!(by_email.id, user.id);
    assert_eq!(by_email.name, user.name);
    assert_eq!(by_email.password_hash, user.password_hash);
    assert_eq!(
        store.find_by_id(user.id).await.unwrap().unwrap().email,
        user.email
    );

    let memberships = store
        .find_profile(user.id)
        .await
        .unwrap()
        .unwrap()
        .memberships;
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].role, Role::Owner);
    assert_eq!(memberships[0].workspace.id, workspace.workspace.id);
    assert_eq!(memberships[0].workspace.name, "Grace Hopper's workspace");

    let nobody = Email::parse(&unique_email()).unwrap();
    assert!(store.find_by_email(&nobody).await.unwrap().is_none());
    let stranger = UserId::generate(&SystemClock, &OsRandom);
    assert!(store.find_profile(stranger).await.unwrap().is_none());
}

async fn a_duplicate_email_is_reported_as_taken(store: Store) {
    let first = registered(&store).await;
    let twin = user(first.email.as_str());
    let workspace = NewWorkspace::personal_for(&twin, &SystemClock, &OsRandom);
    let result = store.create_with_workspace(&twin, &workspace).await;
    assert!(
        matches!(result, Err(IdentityError::EmailTaken)),
        "{result:?}"
    );
}

async fn a_failed_registration_leaves_nothing_behind(store: Store) {
    let first = registered(&store).await;
    let first_workspace = store
        .find_profile(first.id)
        .await
        .unwrap()
        .unwrap()
        .memberships
        .remove(0)
        .workspace;
    // The user insert succeeds, then the workspace insert collides: the transaction must undo the user.
    let second = user(&unique_email());
    let mut clash = NewWorkspace::personal_for(&second, &SystemClock, &OsRandom);
    clash.workspace.id = first_workspace.id;
    assert!(store.create_with_workspace(&second, &clash).await.is_err());
    assert!(store.find_by_email(&second.email).await.unwrap().is_none());
    assert!(store.find_by_id(second.id).await.unwrap().is_none());
}

async fn a_password_hash_can_be_replaced(store: Store) {
    let user = registered(&store).await;
    let new_hash = PasswordHash::from_phc("$scrypt$ln=5,r=8,p=1$bmV3$bmV3".into());
    store
        .set_password_hash(user.id, &new_hash, T0 + Duration::hours(1))
        .await
        .unwrap();
    let stored = store.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, Some(new_hash));
    assert_eq!(stored.updated_at, T0 + Duration::hours(1));
}

async fn timestamps_round_trip_to_the_microsecond(store: Store) {
    let mut user = user(&unique_email());
    user.created_at = datetime!(2026-05-01 10:00:00.123456789 UTC);
    let workspace = NewWorkspace::personal_for(&user, &SystemClock, &OsRandom);
    store
        .create_with_workspace(&user, &workspace)
        .await
        .unwrap();
    let stored = store.find_by_id(user.id).await.unwrap().unwrap();
    assert_eq!(stored.created_at, datetime!(2026-05-01 10:00:00.123456 UTC));
}

fn session(user: &User) -> Session {
    Session {
        id: SessionId::generate(&SystemClock, &OsRandom),
        user_id: user.id,
        mfa: MfaStatus::NotEnrolled,
        created_at: T0,
        expires_at: T0 + Duration::days(30),
        revoked_at: None,
    }
}

fn refresh(session: &Session, at: OffsetDateTime) -> (Secret, RefreshRecord) {
    let token = OpaqueToken::generate(&OsRandom);
    let record = RefreshRecord {
        hash: token.hash,
        session_id: session.id,
        created_at: at,
        expires_at: at + Duration::days(30),
        used_at: None,
    };
    (token.secret, record)
}

async fn a_session_and_its_refresh_token_are_stored_together(store: Store) {
    let user = registered(&store).await;
    let session = session(&user);
    let (secret, record) = refresh(&session, T0);
    store.create(&session, Some(&record)).await.unwrap();

    assert_eq!(store.find(session.id).await.unwrap(), Some(session.clone()));
    let (found, owner) = store
        .find_refresh(&TokenHash::of(secret.expose()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, record);
    assert_eq!(owner, session);
    assert!(
        store
            .find_refresh(&TokenHash::of("unknown"))
            .await
            .unwrap()
            .is_none()
    );

    let pending = Session {
        mfa: MfaStatus::Pending,
        ..self::session(&user)
    };
    store.create(&pending, None).await.unwrap();
    assert_eq!(
        store.find(pending.id).await.unwrap().unwrap().mfa,
        MfaStatus::Pending
    );
}

async fn a_refresh_token_rotates_exactly_once(store: Store) {
    let user = registered(&store).await;
    let session = session(&user);
    let (_, first) = refresh(&session, T0);
    store.create(&session, Some(&first)).await.unwrap();

    let later = T0 + Duration::hours(2);
    let (_, second) = refresh(&session, later);
    assert!(
        store
            .rotate_refresh(&first.hash, &second, later)
            .await
            .unwrap()
    );
    let (used, _) = store.find_refresh(&first.hash).await.unwrap().unwrap();
    assert_eq!(used.used_at, Some(later));
    assert_eq!(
        store.find(session.id).await.unwrap().unwrap().expires_at,
        second.expires_at
    );

    let (_, third) = refresh(&session, later);
    assert!(
        !store
            .rotate_refresh(&first.hash, &third, later)
            .await
            .unwrap()
    );
    assert!(
        store.find_refresh(&third.hash).await.unwrap().is_none(),
        "a refused rotation wrote its token"
    );
}

async fn concurrent_rotations_of_one_token_let_exactly_one_through(store: Store) {
    let user = registered(&store).await;
    let session = session(&user);
    let (_, first) = refresh(&session, T0);
    store.create(&session, Some(&first)).await.unwrap();

    let attempts = (0..6).map(|_| {
        let store = store.clone();
        let old = first.hash.clone();
        let (_, next) = refresh(&session, T0);
        tokio::spawn(async move { store.rotate_refresh(&old, &next, T0).await.unwrap() })
    });
    let mut winners = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        winners += usize::from(attempt.await.unwrap());
    }
    assert_eq!(winners, 1);
}

async fn revoking_sessions_one_or_all(store: Store) {
    let user = registered(&store).await;
    let a = session(&user);
    let b = session(&user);
    let c = session(&user);
    for s in [&a, &b, &c] {
        store.create(s, None).await.unwrap();
    }
    store.revoke(a.id, T0).await.unwrap();
    store.revoke(a.id, T0 + Duration::hours(1)).await.unwrap();
    assert_eq!(
        store.find(a.id).await.unwrap().unwrap().revoked_at,
        Some(T0),
        "revoking twice moved the time"
    );
    assert!(
        store
            .find(b.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_none()
    );

    store
        .revoke_all_for_user(user.id, T0 + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(
        store.find(b.id).await.unwrap().unwrap().revoked_at,
        Some(T0 + Duration::hours(2))
    );
    assert_eq!(
        store.find(c.id).await.unwrap().unwrap().revoked_at,
        Some(T0 + Duration::hours(2))
    );
}

async fn the_first_signing_key_wins_and_later_candidates_are_ignored(store: Store) {
    let candidate = |hex: &str| StoredSigningKey {
        kid: KeyId(1),
        private_key: Secret::new(hex),
        active: true,
        created_at: T0,
    };
    let first = store
        .load_or_insert(&candidate(&"ab".repeat(32)))
        .await
        .unwrap();
    let second = store
        .load_or_insert(&candidate(&"cd".repeat(32)))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].private_key.expose(), "ab".repeat(32));
    assert_eq!(second[0].kid, KeyId(1));
    assert!(second[0].active);
}

async fn rate_limit_counters_count_within_a_window_and_restart_after_it(store: Store) {
    let bucket = format!("login:ip:{}", uuid::Uuid::new_v4());
    let window = Duration::minutes(15);
    for expected in 1..=3 {
        let state = store
            .hit(&bucket, window, T0 + Duration::minutes(expected))
            .await
            .unwrap();
        assert_eq!(state.hits, u32::try_from(expected).unwrap());
        assert_eq!(state.resets_at, T0 + Duration::minutes(1) + window);
    }
    let after = T0 + Duration::minutes(16);
    let restarted = store.hit(&bucket, window, after).await.unwrap();
    assert_eq!(restarted.hits, 1, "a hit after the window starts a new one");
    assert_eq!(restarted.resets_at, after + window);

    store.clear(&bucket).await.unwrap();
    let cleared = store.hit(&bucket, window, after).await.unwrap();
    assert_eq!(cleared.hits, 1, "a cleared bucket counts from zero");
}

async fn purging_removes_only_long_expired_rows(store: Store) {
    let user = registered(&store).await;
    let old = Session {
        expires_at: T0 - Duration::days(8),
        ..session(&user)
    };
    let (_, old_token) = refresh(&old, T0 - Duration::days(40));
    let recent = Session {
        expires_at: T0 - Duration::days(1),
        ..session(&user)
    };
    store
        .create(
            &old,
            Some(&RefreshRecord {
                expires_at: T0 - Duration::days(8),
                ..old_token
            }),
        )
        .await
        .unwrap();
    store.create(&recent, None).await.unwrap();

    store.purge_expired(T0).await.unwrap();
    assert!(store.find(old.id).await.unwrap().is_none());
    assert!(store.find(recent.id).await.unwrap().is_some());
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

mod resets_and_outbox {
    use authd_account::ports::Outbox as _;
    use authd_identity::ports::{PasswordResetRepository, UserRepository};
    use authd_identity::{OutgoingEmail, PasswordHash, PasswordReset};
    use authd_kernel::{OpaqueToken, OsRandom, TokenHash};
    use authd_store::Store;
    use time::Duration;

    use super::{T0, registered};

    on_both_backends!(
        @alone
        a_new_reset_supersedes_the_unused_ones_and_queues_its_email,
        consuming_a_reset_sets_the_password_once,
        a_claimed_email_is_not_claimed_twice_until_its_lease_ends,
        sent_and_failed_emails_lose_their_bodies,
        a_temporary_failure_reschedules_the_email,
    );

    fn reset_for(user: &authd_identity::User, at: time::OffsetDateTime) -> PasswordReset {
        PasswordReset {
            hash: OpaqueToken::generate(&OsRandom).hash,
            user_id: user.id,
            created_at: at,
            expires_at: at + Duration::hours(1),
            used_at: None,
        }
    }

    fn email_to(user: &authd_identity::User) -> OutgoingEmail {
        OutgoingEmail {
            to: user.email.clone(),
            subject: "Reset your password".into(),
            text: "link: https://x.example/reset?token=abc".into(),
            html: "<a href=\"https://x.example/reset?token=abc\">link</a>".into(),
        }
    }

    /// Claims every due email at `at` for a minute and keeps `user`'s.
    async fn claim_for(
        store: &Store,
        user: &authd_identity::User,
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

    async fn a_new_reset_supersedes_the_unused_ones_and_queues_its_email(store: Store) {
        let user = registered(&store).await;
        let first = reset_for(&user, T0);
        store
            .replace_reset_and_enqueue(&first, &email_to(&user), Some("req-1"))
            .await
            .unwrap();
        let second = reset_for(&user, T0 + Duration::minutes(1));
        store
            .replace_reset_and_enqueue(&second, &email_to(&user), None)
            .await
            .unwrap();

        assert!(
            store.find_reset(&first.hash).await.unwrap().is_none(),
            "the older token survived"
        );
        assert_eq!(
            store.find_reset(&second.hash).await.unwrap(),
            Some(second.clone())
        );
        let queued = claim_for(&store, &user, T0 + Duration::minutes(2)).await;
        assert_eq!(queued.len(), 2);
        assert_eq!(queued[0].email, email_to(&user));
        assert_eq!(queued[0].correlation.as_deref(), Some("req-1"));
        assert_eq!(queued[0].attempts, 1);
    }

    async fn consuming_a_reset_sets_the_password_once(store: Store) {
        use authd_session::ports::SessionRepository as _;
        let user = registered(&store).await;
        let live = super::session(&user);
        store.create(&live, None).await.unwrap();
        let reset = reset_for(&user, T0);
        store
            .replace_reset_and_enqueue(&reset, &email_to(&user), None)
            .await
            .unwrap();
        let new_hash = PasswordHash::from_phc("$scrypt$ln=4,r=8,p=1$bmV3$bmV3".into());
        let at = T0 + Duration::minutes(5);
        assert!(
            store
                .consume_reset_and_sign_out(&reset.hash, user.id, &new_hash, at)
                .await
                .unwrap()
        );
        assert!(
            !store
                .consume_reset_and_sign_out(&reset.hash, user.id, &new_hash, at)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .find_reset(&reset.hash)
                .await
                .unwrap()
                .unwrap()
                .used_at,
            Some(at)
        );
        let revoked = store.find(live.id).await.unwrap().unwrap().revoked_at;
        assert_eq!(revoked, Some(at), "a session survived the reset");
        assert_eq!(
            store
                .find_by_id(user.id)
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            Some(new_hash)
        );
        assert!(
            !store
                .consume_reset_and_sign_out(
                    &TokenHash::of("unknown"),
                    user.id,
                    &PasswordHash::from_phc("x".into()),
                    at
                )
                .await
                .unwrap()
        );
    }

    async fn a_claimed_email_is_not_claimed_twice_until_its_lease_ends(store: Store) {
        let user = registered(&store).await;
        store
            .replace_reset_and_enqueue(&reset_for(&user, T0), &email_to(&user), None)
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
            .replace_reset_and_enqueue(&reset_for(&user, T0), &email_to(&user), None)
            .await
            .unwrap();
        store
            .replace_reset_and_enqueue(&reset_for(&user, T0), &email_to(&user), None)
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
            .replace_reset_and_enqueue(&reset_for(&user, T0), &email_to(&user), None)
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
}

mod mfa_and_pending_sessions {
    use authd_kernel::{OpaqueToken, OsRandom, Secret};
    use authd_mfa::ports::MfaRepository;
    use authd_mfa::{EncryptedSecret, MfaState, RecoveryCodeHash};
    use authd_session::ports::SessionRepository;
    use authd_session::{MfaStatus, RefreshRecord, Session};
    use authd_store::Store;
    use time::Duration;

    use super::{T0, registered};

    on_both_backends!(
        a_factor_goes_from_pending_to_enabled_to_disabled,
        setup_does_not_replace_an_enabled_factor,
        the_replay_guard_only_moves_forward,
        recovery_codes_are_single_use_and_replaced_as_a_set,
        a_pending_session_is_promoted_once_and_counts_failures,
        the_service_secret_is_generated_once,
    );

    fn codes(prefix: &str) -> Vec<RecoveryCodeHash> {
        (0..10)
            .map(|i| RecoveryCodeHash(format!("{prefix}{i:062}")))
            .collect()
    }

    async fn a_factor_goes_from_pending_to_enabled_to_disabled(store: Store) {
        let user = registered(&store).await;
        assert!(store.find_factor(user.id).await.unwrap().is_none());
        assert!(
            store
                .save_pending(user.id, &EncryptedSecret(vec![1, 2, 3]), T0)
                .await
                .unwrap()
        );
        let pending = store.find_factor(user.id).await.unwrap().unwrap();
        assert_eq!(
            (pending.state, pending.secret.0.clone()),
            (MfaState::Pending, vec![1, 2, 3])
        );

        let at = T0 + Duration::minutes(1);
        assert!(store.enable(user.id, 100, &codes("a"), at).await.unwrap());
        assert!(
            !store.enable(user.id, 101, &codes("b"), at).await.unwrap(),
            "enabled twice"
        );
        let enabled = store.find_factor(user.id).await.unwrap().unwrap();
        assert_eq!(enabled.state, MfaState::Enabled);
        assert_eq!(enabled.last_used_step, Some(100));
        assert_eq!(enabled.enabled_at, Some(at));
        assert_eq!(enabled.recovery_codes_generated_at, Some(at));

        store
            .disable(user.id, at + Duration::hours(1))
            .await
            .unwrap();
        let disabled = store.find_factor(user.id).await.unwrap().unwrap();
        assert_eq!(disabled.state, MfaState::Disabled);
        assert!(disabled.secret.0.is_empty(), "the secret survived");
        assert_eq!(disabled.disabled_at, Some(at + Duration::hours(1)));
        assert!(
            !store
                .use_recovery_code(user.id, &codes("a")[0], at)
                .await
                .unwrap(),
            "codes survived"
        );
        assert!(
            store
                .save_pending(user.id, &EncryptedSecret(vec![9]), at)
                .await
                .unwrap(),
            "no re-enrolment"
        );
    }

    async fn setup_does_not_replace_an_enabled_factor(store: Store) {
        let user = registered(&store).await;
        store
            .save_pending(user.id, &EncryptedSecret(vec![1]), T0)
            .await
            .unwrap();
        assert!(
            store
                .save_pending(user.id, &EncryptedSecret(vec![2]), T0)
                .await
                .unwrap(),
            "pending not replaced"
        );
        store.enable(user.id, 1, &codes("a"), T0).await.unwrap();
        assert!(
            !store
                .save_pending(user.id, &EncryptedSecret(vec![3]), T0)
                .await
                .unwrap()
        );
        assert_eq!(
            store.find_factor(user.id).await.unwrap().unwrap().secret.0,
            vec![2]
        );
    }

    async fn the_replay_guard_only_moves_forward(store: Store) {
        let user = registered(&store).await;
        store
            .save_pending(user.id, &EncryptedSecret(vec![1]), T0)
            .await
            .unwrap();
        store.enable(user.id, 100, &codes("a"), T0).await.unwrap();
        assert!(!store.use_step(user.id, 100).await.unwrap());
        assert!(!store.use_step(user.id, 99).await.unwrap());
        assert!(store.use_step(user.id, 101).await.unwrap());
        assert!(!store.use_step(user.id, 101).await.unwrap());
    }

    async fn recovery_codes_are_single_use_and_replaced_as_a_set(store: Store) {
        let user = registered(&store).await;
        store
            .save_pending(user.id, &EncryptedSecret(vec![1]), T0)
            .await
            .unwrap();
        store.enable(user.id, 1, &codes("a"), T0).await.unwrap();
        assert!(
            store
                .use_recovery_code(user.id, &codes("a")[3], T0)
                .await
                .unwrap()
        );
        assert!(
            !store
                .use_recovery_code(user.id, &codes("a")[3], T0)
                .await
                .unwrap()
        );
        let later = T0 + Duration::days(1);
        store
            .replace_recovery_codes(user.id, &codes("b"), later)
            .await
            .unwrap();
        assert!(
            !store
                .use_recovery_code(user.id, &codes("a")[4], later)
                .await
                .unwrap()
        );
        assert!(
            store
                .use_recovery_code(user.id, &codes("b")[4], later)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .find_factor(user.id)
                .await
                .unwrap()
                .unwrap()
                .recovery_codes_generated_at,
            Some(later)
        );
    }

    async fn a_pending_session_is_promoted_once_and_counts_failures(store: Store) {
        let user = registered(&store).await;
        let pending = Session {
            mfa: MfaStatus::Pending,
            expires_at: T0 + Duration::minutes(5),
            ..super::session(&user)
        };
        store.create(&pending, None).await.unwrap();
        assert_eq!(
            store.reserve_mfa_attempt(pending.id, 2).await.unwrap(),
            Some(1)
        );
        assert_eq!(
            store.reserve_mfa_attempt(pending.id, 2).await.unwrap(),
            Some(2)
        );
        assert_eq!(
            store.reserve_mfa_attempt(pending.id, 2).await.unwrap(),
            None,
            "the limit holds"
        );
        assert_eq!(
            store.reserve_mfa_attempt(pending.id, 5).await.unwrap(),
            Some(3)
        );
        let refresh = RefreshRecord {
            hash: OpaqueToken::generate(&OsRandom).hash,
            session_id: pending.id,
            created_at: T0,
            expires_at: T0 + Duration::days(30),
            used_at: None,
        };
        assert!(store.promote(pending.id, &refresh).await.unwrap());
        assert_eq!(
            store.reserve_mfa_attempt(pending.id, 5).await.unwrap(),
            None,
            "a verified session takes no second-factor attempts"
        );
        let promoted = store.find(pending.id).await.unwrap().unwrap();
        assert_eq!(
            (promoted.mfa, promoted.expires_at),
            (MfaStatus::Verified, T0 + Duration::days(30))
        );
        assert!(store.find_refresh(&refresh.hash).await.unwrap().is_some());
        let again = RefreshRecord {
            hash: OpaqueToken::generate(&OsRandom).hash,
            ..refresh
        };
        assert!(
            !store.promote(pending.id, &again).await.unwrap(),
            "promoted twice"
        );
        assert!(store.find_refresh(&again.hash).await.unwrap().is_none());
    }

    async fn the_service_secret_is_generated_once(store: Store) {
        let name = format!("test-{}", uuid::Uuid::new_v4());
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
}

mod oauth {
    use authd_identity::ports::UserRepository as _;
    use authd_identity::{DisplayName, NewWorkspace, User};
    use authd_kernel::{OpaqueToken, OsRandom, Secret, SystemClock};
    use authd_oauth::ports::OAuthRepository;
    use authd_oauth::{
        FlowPurpose, LinkedIdentity, OAuthError, PendingAuthorization, ProviderKind, RedirectPath,
    };
    use authd_store::Store;
    use time::Duration;

    use super::{T0, registered, unique_email, user};

    on_both_backends!(
        a_pending_authorization_is_taken_once,
        concurrent_callbacks_with_one_state_let_one_through,
        an_identity_links_to_one_account_and_an_account_to_one_identity_per_provider,
        a_provider_sign_up_creates_account_workspace_and_link_together_or_not_at_all,
        unlinking_removes_only_that_provider,
    );

    fn pending(purpose: FlowPurpose) -> PendingAuthorization {
        PendingAuthorization {
            state_hash: OpaqueToken::generate(&OsRandom).hash,
            provider: ProviderKind::Google,
            binding_hash: OpaqueToken::generate(&OsRandom).hash,
            pkce_verifier: Secret::new("verifier"),
            nonce: Secret::new("nonce"),
            redirect_to: RedirectPath::parse(Some("/after")).unwrap(),
            purpose,
            created_at: T0,
            expires_at: T0 + Duration::minutes(10),
        }
    }

    fn link(user: &User, provider: ProviderKind, subject: &str) -> LinkedIdentity {
        LinkedIdentity {
            user_id: user.id,
            provider,
            subject: subject.into(),
            email: Some(user.email.as_str().into()),
            linked_at: T0,
        }
    }

    async fn a_pending_authorization_is_taken_once(store: Store) {
        let owner = registered(&store).await;
        let p = pending(FlowPurpose::Link(owner.id));
        store.save_authorization(&p).await.unwrap();
        let taken = store
            .take_authorization(&p.state_hash)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (taken.provider, taken.purpose, taken.redirect_to.as_str()),
            (ProviderKind::Google, FlowPurpose::Link(owner.id), "/after")
        );
        assert_eq!(taken.pkce_verifier.expose(), "verifier");
        assert_eq!(taken.binding_hash, p.binding_hash);
        assert!(
            store
                .take_authorization(&p.state_hash)
                .await
                .unwrap()
                .is_none()
        );
    }

    async fn concurrent_callbacks_with_one_state_let_one_through(store: Store) {
        let p = pending(FlowPurpose::SignIn);
        store.save_authorization(&p).await.unwrap();
        let tries = (0..6).map(|_| {
            let store = store.clone();
            let hash = p.state_hash.clone();
            tokio::spawn(async move { store.take_authorization(&hash).await.unwrap().is_some() })
        });
        let mut winners = 0;
        for t in tries.collect::<Vec<_>>() {
            winners += usize::from(t.await.unwrap());
        }
        assert_eq!(winners, 1);
    }

    async fn an_identity_links_to_one_account_and_an_account_to_one_identity_per_provider(
        store: Store,
    ) {
        let ada = registered(&store).await;
        let bob = registered(&store).await;
        let subject = uuid::Uuid::new_v4().to_string();
        store
            .link(&link(&ada, ProviderKind::GitHub, &subject))
            .await
            .unwrap();
        assert!(matches!(
            store
                .link(&link(&bob, ProviderKind::GitHub, &subject))
                .await,
            Err(OAuthError::ProviderAlreadyLinked)
        ));
        assert!(matches!(
            store
                .link(&link(&ada, ProviderKind::GitHub, "another"))
                .await,
            Err(OAuthError::ProviderAlreadyLinked)
        ));
        store
            .link(&link(&ada, ProviderKind::Google, &subject))
            .await
            .unwrap();
        let found = store
            .find_link(ProviderKind::GitHub, &subject)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.user_id, ada.id);
        assert_eq!(store.links_of(ada.id).await.unwrap().len(), 2);
    }

    async fn a_provider_sign_up_creates_account_workspace_and_link_together_or_not_at_all(
        store: Store,
    ) {
        let mut newcomer = user(&unique_email());
        newcomer.password_hash = None;
        newcomer.name = DisplayName::parse("Octo").unwrap();
        let workspace = NewWorkspace::personal_for(&newcomer, &SystemClock, &OsRandom);
        let subject = uuid::Uuid::new_v4().to_string();
        store
            .create_user_with_link(
                &newcomer,
                &workspace,
                &link(&newcomer, ProviderKind::GitHub, &subject),
            )
            .await
            .unwrap();
        let stored = store.find_by_id(newcomer.id).await.unwrap().unwrap();
        assert!(!stored.has_password());
        let profile = store.find_profile(newcomer.id).await.unwrap().unwrap();
        assert_eq!(profile.memberships.len(), 1);

        // Same identity again for another new account: the link clashes, so the account must not exist.
        let second = user(&unique_email());
        let workspace = NewWorkspace::personal_for(&second, &SystemClock, &OsRandom);
        let result = store
            .create_user_with_link(
                &second,
                &workspace,
                &link(&second, ProviderKind::GitHub, &subject),
            )
            .await;
        assert!(
            matches!(result, Err(OAuthError::ProviderAlreadyLinked)),
            "{result:?}"
        );
        assert!(
            store.find_by_id(second.id).await.unwrap().is_none(),
            "half an account was left behind"
        );

        // A taken email: nothing is written either.
        let twin = user(newcomer.email.as_str());
        let workspace = NewWorkspace::personal_for(&twin, &SystemClock, &OsRandom);
        let fresh = uuid::Uuid::new_v4().to_string();
        let result = store
            .create_user_with_link(
                &twin,
                &workspace,
                &link(&twin, ProviderKind::Google, &fresh),
            )
            .await;
        assert!(
            matches!(result, Err(OAuthError::NoUsableEmail(_))),
            "{result:?}"
        );
        assert!(
            store
                .find_link(ProviderKind::Google, &fresh)
                .await
                .unwrap()
                .is_none()
        );
    }

    async fn unlinking_removes_only_that_provider(store: Store) {
        let ada = registered(&store).await;
        let subject = uuid::Uuid::new_v4().to_string();
        store
            .link(&link(&ada, ProviderKind::GitHub, &subject))
            .await
            .unwrap();
        store
            .link(&link(&ada, ProviderKind::Google, &subject))
            .await
            .unwrap();
        assert!(store.unlink(ada.id, ProviderKind::GitHub).await.unwrap());
        assert!(!store.unlink(ada.id, ProviderKind::GitHub).await.unwrap());
        let left = store.links_of(ada.id).await.unwrap();
        assert_eq!(
            left.iter().map(|l| l.provider).collect::<Vec<_>>(),
            [ProviderKind::Google]
        );
    }
}

mod passkeys {
    use authd_identity::ports::LoginMethodRepository as _;
    use authd_kernel::{OsRandom, SystemClock};
    use authd_passkey::ports::PasskeyRepository;
    use authd_passkey::{
        CeremonyPurpose, CeremonyRecord, CredentialId, PasskeyError, PasskeyId, StoredPasskey,
    };
    use authd_store::Store;
    use time::Duration;

    use super::{T0, registered};

    on_both_backends!(
        a_ceremony_is_taken_once,
        passkeys_are_stored_found_used_and_deleted_by_their_owner_only,
        login_methods_count_password_passkeys_and_providers,
    );

    fn passkey(user: authd_kernel::UserId) -> StoredPasskey {
        StoredPasskey {
            id: PasskeyId::generate(&SystemClock, &OsRandom),
            user_id: user,
            credential_id: CredentialId(uuid::Uuid::new_v4().as_bytes().to_vec()),
            name: "Laptop".into(),
            data: "{\"cred\":1}".into(),
            created_at: T0,
            last_used_at: None,
        }
    }

    async fn a_ceremony_is_taken_once(store: Store) {
        let user = registered(&store).await;
        let ceremony = CeremonyRecord {
            challenge: uuid::Uuid::new_v4().to_string(),
            purpose: CeremonyPurpose::Registration(user.id),
            state: "{}".into(),
            created_at: T0,
            expires_at: T0 + Duration::minutes(5),
        };
        store.save_ceremony(&ceremony).await.unwrap();
        let taken = store
            .take_ceremony(&ceremony.challenge)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (taken.purpose, taken.expires_at),
            (CeremonyPurpose::Registration(user.id), ceremony.expires_at)
        );
        assert!(
            store
                .take_ceremony(&ceremony.challenge)
                .await
                .unwrap()
                .is_none()
        );
    }

    async fn passkeys_are_stored_found_used_and_deleted_by_their_owner_only(store: Store) {
        let ada = registered(&store).await;
        let bob = registered(&store).await;
        let key = passkey(ada.id);
        store.insert(&key).await.unwrap();
        assert!(matches!(
            store
                .insert(&StoredPasskey {
                    id: PasskeyId::generate(&SystemClock, &OsRandom),
                    ..key.clone()
                })
                .await,
            Err(PasskeyError::AlreadyRegistered)
        ));
        let found = store
            .find_by_credential(&key.credential_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.id, found.user_id, found.name.as_str()),
            (key.id, ada.id, "Laptop")
        );
        assert!(
            store
                .record_use(
                    key.id,
                    "{\"cred\":1}",
                    "{\"cred\":2}",
                    T0 + Duration::hours(1)
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_use(
                    key.id,
                    "{\"cred\":1}",
                    "{\"cred\":3}",
                    T0 + Duration::hours(2)
                )
                .await
                .unwrap(),
            "a login verified against a state that changed meanwhile is not recorded"
        );
        let used = store.passkeys_of(ada.id).await.unwrap().remove(0);
        assert_eq!(
            (used.data.as_str(), used.last_used_at),
            ("{\"cred\":2}", Some(T0 + Duration::hours(1)))
        );
        assert!(
            !store.delete(bob.id, key.id).await.unwrap(),
            "someone else's passkey was deleted"
        );
        assert!(store.delete(ada.id, key.id).await.unwrap());
        assert!(store.passkeys_of(ada.id).await.unwrap().is_empty());
    }

    async fn login_methods_count_password_passkeys_and_providers(store: Store) {
        let ada = registered(&store).await;
        store.insert(&passkey(ada.id)).await.unwrap();
        store.insert(&passkey(ada.id)).await.unwrap();
        let methods = store.login_methods(ada.id).await.unwrap();
        assert_eq!(
            (methods.password, methods.passkeys, methods.providers),
            (true, 2, 0)
        );
        assert_eq!(methods.count(), 3);
    }
}
