//! Password-reset tokens and the queueing of their emails: the identity crate's `PasswordResetRepository`.

use authd_identity::ports::PasswordResetRepository;
use authd_identity::{OutgoingEmail, PasswordHash, PasswordReset};
use authd_kernel::{SecurityEvent, StoreError, TokenHash, UserId};
use diesel::{
    ExpressionMethods as _, Insertable, OptionalExtension as _, QueryDsl as _, Queryable,
};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::Store;
use crate::convert::{db_error, from_db, to_db, uuid};
use crate::events::EventRow;
use crate::outbox::OutboxRow;
use crate::schema::{email_outbox, password_resets, sessions, users};

#[derive(Queryable, Insertable)]
#[diesel(table_name = password_resets)]
struct ResetRow {
    token_hash: String,
    user_id: String,
    created_at: PrimitiveDateTime,
    expires_at: PrimitiveDateTime,
    used_at: Option<PrimitiveDateTime>,
}

impl ResetRow {
    fn from_domain(reset: &PasswordReset) -> Self {
        Self {
            token_hash: reset.hash.as_str().to_owned(),
            user_id: reset.user_id.to_string(),
            created_at: to_db(reset.created_at),
            expires_at: to_db(reset.expires_at),
            used_at: reset.used_at.map(to_db),
        }
    }

    fn into_domain(self) -> Result<PasswordReset, StoreError> {
        Ok(PasswordReset {
            hash: TokenHash::from_stored(self.token_hash),
            user_id: UserId::from_uuid(uuid(&self.user_id)?),
            created_at: from_db(self.created_at),
            expires_at: from_db(self.expires_at),
            used_at: self.used_at.map(from_db),
        })
    }
}

impl PasswordResetRepository for Store {
    async fn replace_reset_and_enqueue(
        &self,
        reset: &PasswordReset,
        email: &OutgoingEmail,
        correlation: Option<&str>,
        event: &SecurityEvent,
    ) -> Result<(), StoreError> {
        let event = EventRow::from_domain(event);
        let reset_row = ResetRow::from_domain(reset);
        let outbox_row = OutboxRow::queued(email, correlation, reset.created_at);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::delete(
                    password_resets::table
                        .filter(password_resets::user_id.eq(&reset_row.user_id))
                        .filter(password_resets::used_at.is_null()),
                )
                .execute(conn)
                .await?;
                diesel::insert_into(password_resets::table)
                    .values(&reset_row)
                    .execute(conn)
                    .await?;
                diesel::insert_into(email_outbox::table)
                    .values(&outbox_row)
                    .execute(conn)
                    .await?;
                record_if!(conn, true, Some(&event));
                Ok(())
            })
            .await
            .map_err(db_error)
        })
    }

    async fn find_reset(&self, hash: &TokenHash) -> Result<Option<PasswordReset>, StoreError> {
        let row: Option<ResetRow> = with_conn!(self, |conn| {
            password_resets::table
                .find(hash.as_str())
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        row.map(ResetRow::into_domain).transpose()
    }

    async fn consume_reset_and_sign_out(
        &self,
        hash: &TokenHash,
        user: UserId,
        password_hash: &PasswordHash,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let event = EventRow::from_domain(event);
        let hash = hash.as_str();
        let user = user.to_string();
        let now = to_db(now);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let spent = diesel::update(
                    password_resets::table
                        .filter(password_resets::token_hash.eq(hash))
                        .filter(password_resets::used_at.is_null()),
                )
                .set(password_resets::used_at.eq(Some(now)))
                .execute(conn)
                .await?;
                if spent == 0 {
                    return Ok(false);
                }
                diesel::update(users::table.find(&user))
                    .set((
                        users::password_hash.eq(Some(password_hash.as_phc())),
                        users::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                diesel::update(
                    sessions::table
                        .filter(sessions::user_id.eq(&user))
                        .filter(sessions::revoked_at.is_null()),
                )
                .set(sessions::revoked_at.eq(Some(now)))
                .execute(conn)
                .await?;
                record_if!(conn, true, Some(&event));
                Ok(true)
            })
            .await
            .map_err(db_error)
        })
    }
}
