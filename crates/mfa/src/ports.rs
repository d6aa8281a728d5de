//! The ports the MFA use cases need.

use std::future::Future;

use authd_kernel::{SecurityEvent, StoreError, UserId};
use time::OffsetDateTime;

use crate::{EncryptedSecret, MfaRecord, RecoveryCodeHash};

/// Storage of TOTP factors and recovery codes.
pub trait MfaRepository: Send + Sync {
    /// The user's factor, in whatever state (pending, enabled or disabled).
    ///
    /// # Errors
    /// A storage failure.
    fn find_factor(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Option<MfaRecord>, StoreError>> + Send;

    /// Stores a pending enrolment with this secret, replacing a previous pending or disabled one (and
    /// clearing its `last_used_step`).
    ///
    /// # Errors
    /// MUST return `Ok(false)`, writing nothing, when the user's factor is already enabled.
    fn save_pending(
        &self,
        user: UserId,
        secret: &EncryptedSecret,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Enables a pending factor, records `step` as used, stores the recovery codes and records `event`, all or
    /// nothing.
    ///
    /// # Errors
    /// MUST return `Ok(false)`, writing nothing, when there is no pending factor.
    fn enable(
        &self,
        user: UserId,
        step: u64,
        recovery: &[RecoveryCodeHash],
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records `step` as the last used one if it is later than the stored one.
    ///
    /// # Errors
    /// MUST return `Ok(false)` when a step at least as late was already used (a replay, possibly through
    /// another instance), atomically.
    fn use_step(
        &self,
        user: UserId,
        step: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Spends one unused recovery code, recording `event` with it.
    ///
    /// # Errors
    /// MUST return `Ok(false)` when no unused code of the user has this hash, atomically.
    fn use_recovery_code(
        &self,
        user: UserId,
        code: &RecoveryCodeHash,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Replaces every recovery code of the user and records `event`, all or nothing.
    ///
    /// # Errors
    /// A storage failure.
    fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery: &[RecoveryCodeHash],
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Turns the factor off: erases the secret, deletes the recovery codes, records `disabled_at` and `event`,
    /// all or nothing.
    ///
    /// # Errors
    /// A storage failure.
    fn disable(
        &self,
        user: UserId,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
