//! One contract suite per repository port: async checks of every `MUST` clause and documented behaviour,
//! each taking a fresh implementation of the port. The in-memory fakes run them in this crate's tests and the
//! real store runs them on SQLite and PostgreSQL in `crates/store/tests`, so the fakes cannot drift from
//! what they stand for.
//!
//! Checks must pass on a database shared with other checks: they make their own accounts with unique emails
//! and never assume a table is empty (suites that must, run `alone`, see [`crate::for_each_contract_suite!`]).
//! Clauses about concurrent calls are checked sequentially here; the store checks them with real
//! concurrency in its own tests.
//!
//! Adding a suite (say for a port of `authd-account`): a file here with its `pub async fn` checks, taking
//! the port by generic parameter, its `pub mod` line, one line in [`crate::for_each_contract_suite!`], and the
//! port on [`crate::MemoryStore`]. Both runners pick the suite up from the macro.

#![expect(clippy::unwrap_used, reason = "contract checks fail loudly")]

pub mod counters;
pub mod events;
pub mod login_methods;
pub mod mfa;
pub mod oauth;
pub mod outbox;
pub mod passkeys;
pub mod resets;
pub mod sessions;
pub mod signing_keys;
pub mod users;

use authd_identity::ports::UserRepository;
use authd_identity::{DisplayName, Email, NewWorkspace, PasswordHash, User};
use authd_kernel::{OpaqueToken, OsRandom, SystemClock, TokenHash, UserId};
use time::OffsetDateTime;
use time::macros::datetime;

/// Calls `$runner!(suite, database: check, ...)` for every suite: `suite` is the module in
/// [`crate::contract`], `database` is `shared` when the checks may share a database with others or `alone`
/// when each needs an empty one, then the suite's checks.
#[macro_export]
macro_rules! for_each_contract_suite {
    ($runner:ident) => {
        $runner!(users, shared:
            a_registered_user_is_found_by_email_and_id_with_their_workspace,
            unknown_accounts_are_not_found,
            a_duplicate_email_is_reported_as_taken_and_writes_nothing,
            a_failed_registration_leaves_nothing_behind,
            a_password_hash_can_be_replaced,
        );
        $runner!(resets, shared:
            a_new_reset_supersedes_the_unused_ones_but_keeps_the_used,
            consuming_a_reset_sets_the_password_and_revokes_every_session_of_the_user,
            a_reset_is_consumed_once_and_a_refused_consumption_writes_nothing,
            an_unknown_reset_is_neither_found_nor_consumed,
        );
        $runner!(login_methods, shared:
            login_methods_count_password_passkeys_and_providers,
            an_account_made_through_a_provider_has_no_password,
            an_unknown_account_has_no_login_methods,
        );
        $runner!(sessions, shared:
            a_session_and_its_refresh_token_are_stored_together,
            a_refresh_token_rotates_exactly_once_and_a_refused_rotation_writes_nothing,
            a_pending_session_is_promoted_once_and_a_refused_promotion_writes_nothing,
            second_factor_attempts_are_counted_up_to_the_limit_on_open_pending_sessions_only,
            a_revoked_session_is_neither_promoted_nor_counted,
            revoking_is_idempotent_and_revoking_all_spares_other_users,
            re_authentication_is_recorded_on_live_sessions_only,
            live_sessions_are_listed_newest_first_without_ended_or_foreign_ones,
            a_session_is_revoked_only_by_its_owner_while_live,
            revoking_the_others_keeps_one_and_counts_the_rest,
            events_are_recorded_with_the_changes_and_only_then,
        );
        $runner!(signing_keys, alone:
            the_first_signing_key_wins_and_later_candidates_are_ignored,
        );
        $runner!(mfa, shared:
            a_factor_goes_from_pending_to_enabled_to_disabled,
            setup_replaces_a_pending_factor_but_not_an_enabled_one,
            only_a_pending_factor_can_be_enabled,
            the_replay_guard_only_moves_forward,
            recovery_codes_are_single_use_per_user_and_replaced_as_a_set,
            mfa_changes_record_their_events,
        );
        $runner!(oauth, shared:
            a_pending_authorization_is_taken_once,
            an_identity_links_to_one_account_and_an_account_to_one_identity_per_provider,
            a_provider_sign_up_creates_account_workspace_and_link_together_or_not_at_all,
            links_are_listed_oldest_first_and_unlinking_removes_only_that_provider,
            a_users_link_flows_are_dropped_and_nothing_else,
        );
        $runner!(counters, shared:
            hits_count_within_a_window_and_restart_after_it,
            buckets_are_independent_and_clearing_starts_over,
        );
        $runner!(events, shared:
            events_are_listed_newest_first_a_page_at_a_time,
            events_at_the_same_time_page_by_id,
            a_cursor_yields_only_the_users_own_events,
            credential_changes_record_their_events,
        );
        $runner!(outbox, alone:
            due_emails_are_claimed_oldest_first_once_per_lease,
            sent_and_given_up_emails_are_never_claimed_again,
            a_retried_email_is_due_again_at_its_new_time,
        );
        $runner!(passkeys, shared:
            a_ceremony_is_taken_once,
            passkeys_are_listed_oldest_first_and_found_by_credential,
            a_credential_is_registered_once,
            a_use_is_recorded_only_over_the_state_it_was_verified_against,
            a_passkey_is_deleted_by_its_owner_only,
            a_users_registrations_are_dropped_and_nothing_else,
        );
    };
}

/// A time with microseconds, the precision every store keeps.
pub const T0: OffsetDateTime = datetime!(2026-05-01 10:00:00.123456 UTC);

/// Unique enough for a database shared by concurrent test runs.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        UserId::generate(&SystemClock, &OsRandom)
            .to_string()
            .replace('-', "")
    )
}

/// A new email address nobody has.
pub fn unique_email() -> String {
    format!("{}@example.com", unique("user"))
}

/// A fresh token hash.
pub fn token_hash() -> TokenHash {
    OpaqueToken::generate(&OsRandom).hash
}

/// An account with a password, not stored.
pub fn user(email: &str) -> User {
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

/// The personal workspace of `user`, created at [`T0`].
pub fn workspace_of(user: &User) -> NewWorkspace {
    let mut new = NewWorkspace::personal_for(user, &SystemClock, &OsRandom);
    new.workspace.created_at = T0;
    new.workspace.updated_at = T0;
    new
}

/// A new account with a password and its workspace, stored.
pub async fn registered(repo: &impl UserRepository) -> User {
    let user = user(&unique_email());
    repo.create_with_workspace(&user, &workspace_of(&user), None)
        .await
        .unwrap();
    user
}
