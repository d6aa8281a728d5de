//! TOTP factors and recovery codes: the mfa crate's `MfaRepository`.

use authd_kernel::{SecurityEvent, StoreError, UserId};
use authd_mfa::ports::MfaRepository;
use authd_mfa::{EncryptedSecret, MfaRecord, MfaState, RecoveryCodeHash};
use diesel::{
    BoolExpressionMethods as _, ExpressionMethods as _, Insertable, OptionalExtension as _,
    QueryDsl as _, Queryable,
};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::Store;
use crate::convert::{db_error, from_db, to_db, uuid};
use crate::events::EventRow;
use crate::schema::{mfa_factors, mfa_recovery_codes};

#[derive(Queryable, Insertable)]
#[diesel(table_name = mfa_factors)]
struct FactorRow {
    user_id: String,
    secret: Vec<u8>,
    state: String,
    last_used_step: Option<i64>,
    created_at: PrimitiveDateTime,
    enabled_at: Option<PrimitiveDateTime>,
    recovery_codes_generated_at: Option<PrimitiveDateTime>,
    disabled_at: Option<PrimitiveDateTime>,
}

impl FactorRow {
    fn into_domain(self) -> Result<MfaRecord, StoreError> {
        Ok(MfaRecord {
            user_id: UserId::from_uuid(uuid(&self.user_id)?),
            secret: EncryptedSecret(self.secret),
            state: MfaState::parse(&self.state).ok_or_else(|| {
                StoreError::message(format!("unknown MFA state {:?}", self.state))
            })?,
            last_used_step: self.last_used_step.and_then(|s| u64::try_from(s).ok()),
            created_at: from_db(self.created_at),
            enabled_at: self.enabled_at.map(from_db),
            recovery_codes_generated_at: self.recovery_codes_generated_at.map(from_db),
            disabled_at: self.disabled_at.map(from_db),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = mfa_recovery_codes)]
struct RecoveryRow<'a> {
    user_id: &'a str,
    code_hash: &'a str,
    created_at: PrimitiveDateTime,
}

fn recovery_rows<'a>(
    user: &'a str,
    codes: &'a [RecoveryCodeHash],
    now: PrimitiveDateTime,
) -> Vec<RecoveryRow<'a>> {
    codes
        .iter()
        .map(|c| RecoveryRow {
            user_id: user,
            code_hash: &c.0,
            created_at: now,
        })
        .collect()
}

fn step_to_db(step: u64) -> Result<i64, StoreError> {
    i64::try_from(step).map_err(|_| StoreError::message("TOTP step out of range"))
}

impl MfaRepository for Store {
    async fn find_factor(&self, user: UserId) -> Result<Option<MfaRecord>, StoreError> {
        let user = user.to_string();
        let row: Option<FactorRow> = with_conn!(self, |conn| {
            mfa_factors::table
                .find(&user)
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        row.map(FactorRow::into_domain).transpose()
    }

    async fn save_pending(
        &self,
        user: UserId,
        secret: &EncryptedSecret,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let row = FactorRow {
            user_id: user.to_string(),
            secret: secret.0.clone(),
            state: MfaState::Pending.as_str().to_owned(),
            last_used_step: None,
            created_at: to_db(now),
            enabled_at: None,
            recovery_codes_generated_at: None,
            disabled_at: None,
        };
        let enabled = MfaState::Enabled.as_str();
        // Replace a pending or disabled factor; failing that, insert one; failing both, the user has an
        // enabled factor, which setup must not touch.
        let replaced = with_conn!(self, |conn| {
            diesel::update(
                mfa_factors::table
                    .find(&row.user_id)
                    .filter(mfa_factors::state.ne(enabled)),
            )
            .set((
                mfa_factors::secret.eq(&row.secret),
                mfa_factors::state.eq(&row.state),
                mfa_factors::last_used_step.eq(None::<i64>),
                mfa_factors::created_at.eq(row.created_at),
            ))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        if replaced == 1 {
            return Ok(true);
        }
        let written = with_conn!(self, |conn| {
            diesel::insert_into(mfa_factors::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(written == 1)
    }

    async fn enable(
        &self,
        user: UserId,
        step: u64,
        recovery: &[RecoveryCodeHash],
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let user = user.to_string();
        let event = EventRow::from_domain(event);
        let step = step_to_db(step)?;
        let now = to_db(now);
        let rows = recovery_rows(&user, recovery, now);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let enabled = diesel::update(
                    mfa_factors::table
                        .find(&user)
                        .filter(mfa_factors::state.eq(MfaState::Pending.as_str())),
                )
                .set((
                    mfa_factors::state.eq(MfaState::Enabled.as_str()),
                    mfa_factors::last_used_step.eq(Some(step)),
                    mfa_factors::enabled_at.eq(Some(now)),
                    mfa_factors::recovery_codes_generated_at.eq(Some(now)),
                    mfa_factors::disabled_at.eq(None::<PrimitiveDateTime>),
                ))
                .execute(conn)
                .await?;
                if enabled == 0 {
                    return Ok(false);
                }
                diesel::delete(
                    mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(&user)),
                )
                .execute(conn)
                .await?;
                // One statement per code: diesel's multi-row insert is not available for SQLite here.
                for row in &rows {
                    diesel::insert_into(mfa_recovery_codes::table)
                        .values(row)
                        .execute(conn)
                        .await?;
                }
                record_if!(conn, true, Some(&event));
                Ok(true)
            })
            .await
            .map_err(db_error)
        })
    }

    async fn use_step(&self, user: UserId, step: u64) -> Result<bool, StoreError> {
        let user = user.to_string();
        let step = step_to_db(step)?;
        // One conditional update: two instances accepting the same code race here and only one wins.
        let updated = with_conn!(self, |conn| {
            diesel::update(
                mfa_factors::table.find(&user).filter(
                    mfa_factors::last_used_step
                        .is_null()
                        .or(mfa_factors::last_used_step.lt(step)),
                ),
            )
            .set(mfa_factors::last_used_step.eq(Some(step)))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(updated == 1)
    }

    async fn use_recovery_code(
        &self,
        user: UserId,
        code: &RecoveryCodeHash,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let user = user.to_string();
        let event = EventRow::from_domain(event);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let spent = diesel::update(
                    mfa_recovery_codes::table
                        .find((&user, &code.0))
                        .filter(mfa_recovery_codes::used_at.is_null()),
                )
                .set(mfa_recovery_codes::used_at.eq(Some(to_db(now))))
                .execute(conn)
                .await?;
                record_if!(conn, spent == 1, Some(&event));
                Ok(spent == 1)
            })
            .await
            .map_err(db_error)
        })
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery: &[RecoveryCodeHash],
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<(), StoreError> {
        let user = user.to_string();
        let event = EventRow::from_domain(event);
        let now = to_db(now);
        let rows = recovery_rows(&user, recovery, now);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::delete(
                    mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(&user)),
                )
                .execute(conn)
                .await?;
                // One statement per code: diesel's multi-row insert is not available for SQLite here.
                for row in &rows {
                    diesel::insert_into(mfa_recovery_codes::table)
                        .values(row)
                        .execute(conn)
                        .await?;
                }
                diesel::update(mfa_factors::table.find(&user))
                    .set(mfa_factors::recovery_codes_generated_at.eq(Some(now)))
                    .execute(conn)
                    .await?;
                record_if!(conn, true, Some(&event));
                Ok(())
            })
            .await
            .map_err(db_error)
        })
    }

    async fn disable(
        &self,
        user: UserId,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<(), StoreError> {
        let user = user.to_string();
        let event = EventRow::from_domain(event);
        let now = to_db(now);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::delete(
                    mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(&user)),
                )
                .execute(conn)
                .await?;
                diesel::update(mfa_factors::table.find(&user))
                    .set((
                        mfa_factors::state.eq(MfaState::Disabled.as_str()),
                        mfa_factors::secret.eq(Vec::<u8>::new()),
                        mfa_factors::last_used_step.eq(None::<i64>),
                        mfa_factors::disabled_at.eq(Some(now)),
                    ))
                    .execute(conn)
                    .await?;
                record_if!(conn, true, Some(&event));
                Ok(())
            })
            .await
            .map_err(db_error)
        })
    }
}
