//! The ports' clauses about concurrent calls ("MUST hand X to one caller only, even under concurrent
//! calls", "atomically"), checked with real concurrency: several tasks on several pooled connections race
//! for one thing and exactly one may win. The contract suites check the same clauses sequentially.

use std::future::Future;

use authd_account::ports::RateLimiter as _;

use authd_identity::PasswordHash;
use authd_identity::ports::PasswordResetRepository as _;
use authd_kernel::EventKind;
use authd_kernel::Secret;
use authd_mfa::ports::MfaRepository as _;
use authd_mfa::{EncryptedSecret, RecoveryCodeHash};
use authd_oauth::ports::OAuthRepository as _;
use authd_oauth::{FlowPurpose, PendingAuthorization, ProviderKind, RedirectPath};
use authd_passkey::ports::PasskeyRepository as _;
use authd_passkey::{CeremonyPurpose, CeremonyRecord};
use authd_session::ports::{SessionRepository as _, SigningKeyRepository as _};
use authd_session::{KeyId, StoredSigningKey};
use authd_store::Store;
use authd_testkit::contract::passkeys::passkey_of;
use authd_testkit::contract::resets::{email_to, reset_for};
use authd_testkit::contract::sessions::{
    event, event_for, laptop, pending_of, refresh_of, session_of,
};
use authd_testkit::contract::{T0, registered, token_hash, unique};
use time::Duration;

on_both_backends!(
    concurrent_rotations_of_one_token_let_exactly_one_through,
    concurrent_callbacks_with_one_state_let_one_through,
    concurrent_answers_to_one_ceremony_let_one_through,
    concurrent_uses_of_one_totp_step_let_one_through,
    concurrent_uses_of_one_recovery_code_let_one_through,
    concurrent_consumptions_of_one_reset_let_one_through,
    concurrent_second_factor_attempts_never_pass_the_limit,
    concurrent_logins_over_one_passkey_state_record_one_use,
    concurrent_hits_on_one_counter_are_each_counted_once,
);

on_both_backends!(
    @alone
    instances_starting_together_agree_on_one_signing_key,
);

const RACERS: usize = 6;

/// Starts `RACERS` tasks of `attempt` at once and counts the ones that won.
async fn winners<Fut>(attempt: impl Fn() -> Fut) -> usize
where
    Fut: Future<Output = bool> + Send + 'static,
{
    let tasks: Vec<_> = (0..RACERS).map(|_| tokio::spawn(attempt())).collect();
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.unwrap());
    }
    won
}

async fn concurrent_rotations_of_one_token_let_exactly_one_through(store: Store) {
    let user = registered(&store).await;
    let session = session_of(&user);
    let first = refresh_of(&session, T0);
    store.create(&session, Some(&first), None).await.unwrap();
    let won = winners(|| {
        let (store, old, next) = (store.clone(), first.hash.clone(), refresh_of(&session, T0));
        async move {
            store
                .rotate_refresh(&old, &next, T0, &laptop())
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1);
}

async fn concurrent_callbacks_with_one_state_let_one_through(store: Store) {
    let pending = PendingAuthorization {
        state_hash: token_hash(),
        provider: ProviderKind::Google,
        binding_hash: token_hash(),
        pkce_verifier: Secret::new("verifier"),
        nonce: Secret::new("nonce"),
        redirect_to: RedirectPath::parse(None).unwrap(),
        purpose: FlowPurpose::SignIn,
        created_at: T0,
        expires_at: T0 + Duration::minutes(10),
    };
    store.save_authorization(&pending).await.unwrap();
    let won = winners(|| {
        let (store, hash) = (store.clone(), pending.state_hash.clone());
        async move { store.take_authorization(&hash).await.unwrap().is_some() }
    })
    .await;
    assert_eq!(won, 1);
}

async fn concurrent_answers_to_one_ceremony_let_one_through(store: Store) {
    let ceremony = CeremonyRecord {
        challenge: unique("challenge"),
        purpose: CeremonyPurpose::Authentication,
        state: "{}".into(),
        created_at: T0,
        expires_at: T0 + Duration::minutes(5),
    };
    store.save_ceremony(&ceremony).await.unwrap();
    let won = winners(|| {
        let (store, challenge) = (store.clone(), ceremony.challenge.clone());
        async move { store.take_ceremony(&challenge).await.unwrap().is_some() }
    })
    .await;
    assert_eq!(won, 1);
}

/// A user with an enabled TOTP factor (last step 100) and recovery codes `code-0`...
async fn enrolled(store: &Store) -> authd_identity::User {
    let user = registered(store).await;
    store
        .save_pending(user.id, &EncryptedSecret(vec![1]), T0)
        .await
        .unwrap();
    let codes: Vec<_> = (0..3)
        .map(|i| RecoveryCodeHash(format!("code-{i}")))
        .collect();
    store
        .enable(
            user.id,
            100,
            &codes,
            T0,
            &event(&user, EventKind::MfaEnabled),
        )
        .await
        .unwrap();
    user
}

async fn concurrent_uses_of_one_totp_step_let_one_through(store: Store) {
    let user = enrolled(&store).await;
    let won = winners(|| {
        let store = store.clone();
        async move { store.use_step(user.id, 101).await.unwrap() }
    })
    .await;
    assert_eq!(won, 1);
}

async fn concurrent_uses_of_one_recovery_code_let_one_through(store: Store) {
    let user = enrolled(&store).await;
    let won = winners(|| {
        let store = store.clone();
        let code = RecoveryCodeHash("code-1".into());
        let used = event(&user, EventKind::RecoveryCodeUsed);
        async move {
            store
                .use_recovery_code(used.user_id, &code, T0, &used)
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1);
}

async fn concurrent_consumptions_of_one_reset_let_one_through(store: Store) {
    let user = registered(&store).await;
    let reset = reset_for(&user, T0);
    store
        .replace_reset_and_enqueue(
            &reset,
            &email_to(&user),
            None,
            &event_for(user.id, EventKind::PasswordResetRequested),
        )
        .await
        .unwrap();
    let won = winners(|| {
        let (store, hash) = (store.clone(), reset.hash.clone());
        let password = PasswordHash::from_phc(unique("$scrypt$ln=4,r=8,p=1$c2FsdA"));
        async move {
            store
                .consume_reset_and_sign_out(
                    &hash,
                    user.id,
                    &password,
                    T0,
                    &event_for(user.id, EventKind::PasswordReset),
                )
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1);
}

async fn concurrent_second_factor_attempts_never_pass_the_limit(store: Store) {
    let user = registered(&store).await;
    let pending = pending_of(&user);
    store.create(&pending, None, None).await.unwrap();
    let limit = 2;
    let won = winners(|| {
        let store = store.clone();
        async move {
            store
                .reserve_mfa_attempt(pending.id, limit)
                .await
                .unwrap()
                .is_some()
        }
    })
    .await;
    assert_eq!(won, 2);
}

async fn concurrent_logins_over_one_passkey_state_record_one_use(store: Store) {
    let user = registered(&store).await;
    let key = passkey_of(&user, T0);
    store
        .insert(&key, &event_for(key.user_id, EventKind::PasskeyAdded))
        .await
        .unwrap();
    let won = winners(|| {
        let (store, previous) = (store.clone(), key.data.clone());
        let next = unique("state");
        async move {
            store
                .record_use(key.id, &previous, &next, T0)
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1);
}

async fn instances_starting_together_agree_on_one_signing_key(store: Store) {
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = store.clone();
            let candidate = StoredSigningKey {
                kid: KeyId(1),
                private_key: Secret::new(format!("{i:02}").repeat(32)),
                active: true,
                created_at: T0,
            };
            tokio::spawn(async move { store.load_or_insert(&candidate).await.unwrap() })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        let keys = task.await.unwrap();
        assert_eq!(keys.len(), 1, "more than one candidate got in");
        seen.push(keys[0].private_key.expose().to_owned());
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "instances read different keys: {seen:?}");
}

async fn concurrent_hits_on_one_counter_are_each_counted_once(store: Store) {
    let bucket = unique("login:ip");
    let window = Duration::minutes(5);
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (store, bucket) = (store.clone(), bucket.clone());
            tokio::spawn(async move { store.hit(&bucket, window, T0).await.unwrap().hits })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    seen.sort_unstable();
    let expected: Vec<u32> = (1..=u32::try_from(RACERS).unwrap()).collect();
    assert_eq!(
        seen, expected,
        "every hit counted once, none lost or doubled"
    );
}
