//! The contract of [`MfaRepository`].

use authd_account::ports::SecurityLog;
use authd_identity::ports::UserRepository;
use authd_kernel::EventKind;
use authd_mfa::ports::MfaRepository;
use authd_mfa::{EncryptedSecret, MfaState, RecoveryCodeHash};
use time::Duration;

use super::sessions::event;
use super::{T0, registered};

/// Ten recovery code hashes starting with `prefix`.
fn codes(prefix: &str) -> Vec<RecoveryCodeHash> {
    (0..10)
        .map(|i| RecoveryCodeHash(format!("{prefix}{i:062}")))
        .collect()
}

/// Pending, then enabled (with its step and codes), then disabled (secret erased, codes gone, row kept).
pub async fn a_factor_goes_from_pending_to_enabled_to_disabled<R>(repo: R)
where
    R: MfaRepository + UserRepository,
{
    let user = registered(&repo).await;
    assert!(repo.find_factor(user.id).await.unwrap().is_none());
    assert!(
        repo.save_pending(user.id, &EncryptedSecret(vec![1, 2, 3]), T0)
            .await
            .unwrap()
    );
    let pending = repo.find_factor(user.id).await.unwrap().unwrap();
    assert_eq!(
        (pending.user_id, pending.state, pending.secret.0.clone()),
        (user.id, MfaState::Pending, vec![1, 2, 3])
    );
    assert_eq!(
        (
            pending.created_at,
            pending.last_used_step,
            pending.enabled_at
        ),
        (T0, None, None)
    );

    let at = T0 + Duration::minutes(1);
    assert!(
        repo.enable(
            user.id,
            100,
            &codes("a"),
            at,
            &event(&user, EventKind::MfaEnabled)
        )
        .await
        .unwrap()
    );
    let enabled = repo.find_factor(user.id).await.unwrap().unwrap();
    assert_eq!(enabled.state, MfaState::Enabled);
    assert_eq!(enabled.last_used_step, Some(100));
    assert_eq!(enabled.enabled_at, Some(at));
    assert_eq!(enabled.recovery_codes_generated_at, Some(at));
    assert_eq!(enabled.disabled_at, None);

    let off = at + Duration::hours(1);
    repo.disable(user.id, off, &event(&user, EventKind::MfaDisabled))
        .await
        .unwrap();
    let disabled = repo.find_factor(user.id).await.unwrap().unwrap();
    assert_eq!(disabled.state, MfaState::Disabled);
    assert!(disabled.secret.0.is_empty(), "the secret survived");
    assert_eq!(disabled.disabled_at, Some(off));
    assert!(
        !repo
            .use_recovery_code(
                user.id,
                &codes("a")[0],
                off,
                &event(&user, EventKind::RecoveryCodeUsed)
            )
            .await
            .unwrap(),
        "codes survived"
    );
    assert!(
        repo.save_pending(user.id, &EncryptedSecret(vec![9]), off)
            .await
            .unwrap(),
        "a disabled factor cannot be set up again"
    );
    let again = repo.find_factor(user.id).await.unwrap().unwrap();
    assert_eq!(
        (again.state, again.secret.0, again.last_used_step),
        (MfaState::Pending, vec![9], None)
    );
}

/// Setup replaces a pending factor; MUST return `Ok(false)`, writing nothing, over an enabled one.
pub async fn setup_replaces_a_pending_factor_but_not_an_enabled_one<R>(repo: R)
where
    R: MfaRepository + UserRepository,
{
    let user = registered(&repo).await;
    repo.save_pending(user.id, &EncryptedSecret(vec![1]), T0)
        .await
        .unwrap();
    assert!(
        repo.save_pending(user.id, &EncryptedSecret(vec![2]), T0)
            .await
            .unwrap(),
        "pending not replaced"
    );
    repo.enable(
        user.id,
        7,
        &codes("a"),
        T0,
        &event(&user, EventKind::MfaEnabled),
    )
    .await
    .unwrap();
    assert!(
        !repo
            .save_pending(user.id, &EncryptedSecret(vec![3]), T0 + Duration::hours(1))
            .await
            .unwrap()
    );
    let kept = repo.find_factor(user.id).await.unwrap().unwrap();
    assert_eq!(
        (
            kept.state,
            kept.secret.0,
            kept.last_used_step,
            kept.created_at
        ),
        (MfaState::Enabled, vec![2], Some(7), T0)
    );
}

/// MUST return `Ok(false)`, writing nothing, without a pending factor (none, or enabled already).
pub async fn only_a_pending_factor_can_be_enabled<R>(repo: R)
where
    R: MfaRepository + UserRepository,
{
    let user = registered(&repo).await;
    assert!(
        !repo
            .enable(
                user.id,
                1,
                &codes("a"),
                T0,
                &event(&user, EventKind::MfaEnabled)
            )
            .await
            .unwrap()
    );
    assert!(repo.find_factor(user.id).await.unwrap().is_none());
    assert!(
        !repo
            .use_recovery_code(
                user.id,
                &codes("a")[0],
                T0,
                &event(&user, EventKind::RecoveryCodeUsed)
            )
            .await
            .unwrap(),
        "a refused enable stored its codes"
    );

    repo.save_pending(user.id, &EncryptedSecret(vec![1]), T0)
        .await
        .unwrap();
    repo.enable(
        user.id,
        100,
        &codes("a"),
        T0,
        &event(&user, EventKind::MfaEnabled),
    )
    .await
    .unwrap();
    let later = T0 + Duration::minutes(1);
    assert!(
        !repo
            .enable(
                user.id,
                101,
                &codes("b"),
                later,
                &event(&user, EventKind::MfaEnabled)
            )
            .await
            .unwrap(),
        "enabled twice"
    );
    let enabled = repo.find_factor(user.id).await.unwrap().unwrap();
    assert_eq!(
        (enabled.last_used_step, enabled.enabled_at),
        (Some(100), Some(T0))
    );
    assert!(
        !repo
            .use_recovery_code(
                user.id,
                &codes("b")[0],
                later,
                &event(&user, EventKind::RecoveryCodeUsed)
            )
            .await
            .unwrap(),
        "a refused enable replaced the codes"
    );
    assert!(
        repo.use_recovery_code(
            user.id,
            &codes("a")[0],
            later,
            &event(&user, EventKind::RecoveryCodeUsed)
        )
        .await
        .unwrap()
    );
}

/// MUST return `Ok(false)` for a step at least as late as the last used one.
pub async fn the_replay_guard_only_moves_forward<R>(repo: R)
where
    R: MfaRepository + UserRepository,
{
    let user = registered(&repo).await;
    repo.save_pending(user.id, &EncryptedSecret(vec![1]), T0)
        .await
        .unwrap();
    repo.enable(
        user.id,
        100,
        &codes("a"),
        T0,
        &event(&user, EventKind::MfaEnabled),
    )
    .await
    .unwrap();
    assert!(!repo.use_step(user.id, 100).await.unwrap());
    assert!(!repo.use_step(user.id, 99).await.unwrap());
    assert!(repo.use_step(user.id, 101).await.unwrap());
    assert!(!repo.use_step(user.id, 101).await.unwrap());
    assert_eq!(
        repo.find_factor(user.id)
            .await
            .unwrap()
            .unwrap()
            .last_used_step,
        Some(101)
    );
}

/// MUST return `Ok(false)` for a used, replaced or another user's code; replacing records the time.
pub async fn recovery_codes_are_single_use_per_user_and_replaced_as_a_set<R>(repo: R)
where
    R: MfaRepository + UserRepository,
{
    let user = registered(&repo).await;
    let other = registered(&repo).await;
    for who in [&user, &other] {
        repo.save_pending(who.id, &EncryptedSecret(vec![1]), T0)
            .await
            .unwrap();
    }
    repo.enable(
        user.id,
        1,
        &codes("a"),
        T0,
        &event(&user, EventKind::MfaEnabled),
    )
    .await
    .unwrap();
    repo.enable(
        other.id,
        1,
        &codes("z"),
        T0,
        &event(&other, EventKind::MfaEnabled),
    )
    .await
    .unwrap();
    assert!(
        repo.use_recovery_code(
            user.id,
            &codes("a")[3],
            T0,
            &event(&user, EventKind::RecoveryCodeUsed)
        )
        .await
        .unwrap()
    );
    assert!(
        !repo
            .use_recovery_code(
                user.id,
                &codes("a")[3],
                T0,
                &event(&user, EventKind::RecoveryCodeUsed)
            )
            .await
            .unwrap()
    );
    assert!(
        !repo
            .use_recovery_code(
                user.id,
                &codes("z")[0],
                T0,
                &event(&user, EventKind::RecoveryCodeUsed)
            )
            .await
            .unwrap(),
        "another user's code worked"
    );

    let later = T0 + Duration::days(1);
    repo.replace_recovery_codes(
        user.id,
        &codes("b"),
        later,
        &event(&user, EventKind::RecoveryCodesRegenerated),
    )
    .await
    .unwrap();
    assert!(
        !repo
            .use_recovery_code(
                user.id,
                &codes("a")[4],
                later,
                &event(&user, EventKind::RecoveryCodeUsed)
            )
            .await
            .unwrap()
    );
    assert!(
        repo.use_recovery_code(
            user.id,
            &codes("b")[4],
            later,
            &event(&user, EventKind::RecoveryCodeUsed)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        repo.find_factor(user.id)
            .await
            .unwrap()
            .unwrap()
            .recovery_codes_generated_at,
        Some(later)
    );
    assert!(
        repo.use_recovery_code(
            other.id,
            &codes("z")[0],
            later,
            &event(&other, EventKind::RecoveryCodeUsed)
        )
        .await
        .unwrap(),
        "replacing one user's codes touched another's"
    );
}

/// Each MFA change records its event with it; a refused one (a spent recovery code) records nothing.
pub async fn mfa_changes_record_their_events<R>(repo: R)
where
    R: MfaRepository + UserRepository + SecurityLog,
{
    let user = registered(&repo).await;
    repo.save_pending(user.id, &EncryptedSecret(vec![1]), T0)
        .await
        .unwrap();
    let steps = [
        EventKind::MfaEnabled,
        EventKind::RecoveryCodeUsed,
        EventKind::RecoveryCodesRegenerated,
        EventKind::MfaDisabled,
    ];
    repo.enable(user.id, 1, &codes("a"), T0, &event(&user, steps[0]))
        .await
        .unwrap();
    let code = &codes("a")[0];
    assert!(
        repo.use_recovery_code(user.id, code, T0, &event(&user, steps[1]))
            .await
            .unwrap()
    );
    assert!(
        !repo
            .use_recovery_code(user.id, code, T0, &event(&user, steps[1]))
            .await
            .unwrap()
    );
    repo.replace_recovery_codes(user.id, &codes("b"), T0, &event(&user, steps[2]))
        .await
        .unwrap();
    repo.disable(user.id, T0, &event(&user, steps[3]))
        .await
        .unwrap();
    let mut recorded: Vec<EventKind> = repo
        .events_of(user.id, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    recorded.sort_by_key(|k| k.as_str());
    let mut expected = steps.to_vec();
    expected.sort_by_key(|k| k.as_str());
    assert_eq!(
        recorded, expected,
        "one event per change, none for the refused spend"
    );
}
