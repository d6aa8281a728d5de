//! Sessions and refresh tokens: the session crate's `SessionRepository`.

use authd_kernel::{StoreError, TokenHash, UserId};
use authd_session::ports::SessionRepository;
use authd_session::{MfaStatus, RefreshRecord, Session, SessionId};
use diesel::{
    ExpressionMethods as _, Insertable, OptionalExtension as _, QueryDsl as _, Queryable,
};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::Store;
use crate::convert::{db_error, from_db, to_db, uuid};
use crate::schema::{refresh_tokens, sessions};

#[derive(Queryable, Insertable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: String,
    user_id: String,
    mfa: String,
    created_at: PrimitiveDateTime,
    expires_at: PrimitiveDateTime,
    revoked_at: Option<PrimitiveDateTime>,
    mfa_failures: i32,
}

impl SessionRow {
    fn from_domain(session: &Session) -> Self {
        Self {
            id: session.id.to_string(),
            user_id: session.user_id.to_string(),
            mfa: session.mfa.as_str().to_owned(),
            created_at: to_db(session.created_at),
            expires_at: to_db(session.expires_at),
            revoked_at: session.revoked_at.map(to_db),
            mfa_failures: 0,
        }
    }

    fn into_domain(self) -> Result<Session, StoreError> {
        Ok(Session {
            id: SessionId::from_uuid(uuid(&self.id)?),
            user_id: UserId::from_uuid(uuid(&self.user_id)?),
            mfa: MfaStatus::parse(&self.mfa)
                .ok_or_else(|| StoreError::message(format!("unknown MFA status {:?}", self.mfa)))?,
            created_at: from_db(self.created_at),
            expires_at: from_db(self.expires_at),
            revoked_at: self.revoked_at.map(from_db),
        })
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = refresh_tokens)]
struct RefreshRow {
    token_hash: String,
    session_id: String,
    created_at: PrimitiveDateTime,
    expires_at: PrimitiveDateTime,
    used_at: Option<PrimitiveDateTime>,
}

impl RefreshRow {
    fn from_domain(record: &RefreshRecord) -> Self {
        Self {
            token_hash: record.hash.as_str().to_owned(),
            session_id: record.session_id.to_string(),
            created_at: to_db(record.created_at),
            expires_at: to_db(record.expires_at),
            used_at: record.used_at.map(to_db),
        }
    }

    fn into_domain(self) -> Result<RefreshRecord, StoreError> {
        Ok(RefreshRecord {
            hash: TokenHash::from_stored(self.token_hash),
            session_id: SessionId::from_uuid(uuid(&self.session_id)?),
            created_at: from_db(self.created_at),
            expires_at: from_db(self.expires_at),
            used_at: self.used_at.map(from_db),
        })
    }
}

impl SessionRepository for Store {
    async fn create(
        &self,
        session: &Session,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StoreError> {
        let session_row = SessionRow::from_domain(session);
        let refresh_row = refresh.map(RefreshRow::from_domain);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                diesel::insert_into(sessions::table)
                    .values(&session_row)
                    .execute(conn)
                    .await?;
                if let Some(row) = &refresh_row {
                    diesel::insert_into(refresh_tokens::table)
                        .values(row)
                        .execute(conn)
                        .await?;
                }
                Ok(())
            })
            .await
            .map_err(db_error)
        })
    }

    async fn find(&self, id: SessionId) -> Result<Option<Session>, StoreError> {
        let id = id.to_string();
        let row: Option<SessionRow> = with_conn!(self, |conn| sessions::table
            .find(&id)
            .first(conn)
            .await
            .optional()
            .map_err(db_error))?;
        row.map(SessionRow::into_domain).transpose()
    }

    async fn find_refresh(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(RefreshRecord, Session)>, StoreError> {
        let rows: Option<(RefreshRow, SessionRow)> = with_conn!(self, |conn| {
            refresh_tokens::table
                .inner_join(sessions::table)
                .filter(refresh_tokens::token_hash.eq(hash.as_str()))
                .first(conn)
                .await
                .optional()
                .map_err(db_error)
        })?;
        rows.map(|(refresh, session)| Ok((refresh.into_domain()?, session.into_domain()?)))
            .transpose()
    }

    async fn rotate_refresh(
        &self,
        old: &TokenHash,
        new: &RefreshRecord,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let new_row = RefreshRow::from_domain(new);
        let old = old.as_str();
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                // The `used_at IS NULL` guard makes concurrent exchanges of one token race safely: only one
                // update matches.
                let claimed = diesel::update(
                    refresh_tokens::table
                        .filter(refresh_tokens::token_hash.eq(old))
                        .filter(refresh_tokens::used_at.is_null()),
                )
                .set(refresh_tokens::used_at.eq(Some(to_db(now))))
                .execute(conn)
                .await?;
                if claimed == 0 {
                    return Ok(false);
                }
                diesel::insert_into(refresh_tokens::table)
                    .values(&new_row)
                    .execute(conn)
                    .await?;
                diesel::update(sessions::table.find(&new_row.session_id))
                    .set(sessions::expires_at.eq(new_row.expires_at))
                    .execute(conn)
                    .await?;
                Ok(true)
            })
            .await
            .map_err(db_error)
        })
    }

    async fn promote(&self, id: SessionId, refresh: &RefreshRecord) -> Result<bool, StoreError> {
        let row = RefreshRow::from_domain(refresh);
        let id = id.to_string();
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let promoted = diesel::update(
                    sessions::table
                        .find(&id)
                        .filter(sessions::mfa.eq(MfaStatus::Pending.as_str()))
                        .filter(sessions::revoked_at.is_null()),
                )
                .set((
                    sessions::mfa.eq(MfaStatus::Verified.as_str()),
                    sessions::expires_at.eq(row.expires_at),
                ))
                .execute(conn)
                .await?;
                if promoted == 0 {
                    return Ok(false);
                }
                diesel::insert_into(refresh_tokens::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                Ok(true)
            })
            .await
            .map_err(db_error)
        })
    }

    /// One conditional UPDATE: concurrent attempts cannot all see room under the limit.
    async fn reserve_mfa_attempt(
        &self,
        id: SessionId,
        limit: u32,
    ) -> Result<Option<u32>, StoreError> {
        let id = id.to_string();
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let count: Option<i32> = with_conn!(self, |conn| {
            diesel::update(
                sessions::table
                    .find(&id)
                    .filter(sessions::mfa.eq(MfaStatus::Pending.as_str()))
                    .filter(sessions::revoked_at.is_null())
                    .filter(sessions::mfa_failures.lt(limit)),
            )
            .set(sessions::mfa_failures.eq(sessions::mfa_failures + 1))
            .returning(sessions::mfa_failures)
            .get_result(conn)
            .await
            .optional()
            .map_err(db_error)
        })?;
        Ok(count.and_then(|c| u32::try_from(c).ok()))
    }

    async fn revoke(&self, id: SessionId, now: OffsetDateTime) -> Result<(), StoreError> {
        let id = id.to_string();
        with_conn!(self, |conn| {
            diesel::update(
                sessions::table
                    .find(&id)
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(Some(to_db(now))))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(())
    }

    async fn revoke_all_for_user(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let user = user.to_string();
        with_conn!(self, |conn| {
            diesel::update(
                sessions::table
                    .filter(sessions::user_id.eq(&user))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(Some(to_db(now))))
            .execute(conn)
            .await
            .map_err(db_error)
        })?;
        Ok(())
    }
}
