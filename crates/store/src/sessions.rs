//! Sessions and refresh tokens: the session crate's `SessionRepository`.

use authd_kernel::{Client, DetailValue, SecurityEvent, StoreError, TokenHash, UserId};
use authd_session::ports::SessionRepository;
use authd_session::{MfaStatus, RefreshRecord, Session, SessionId, SignInMethod};
use diesel::{
    AsChangeset, ExpressionMethods as _, Insertable, OptionalExtension as _, QueryDsl as _,
    Queryable,
};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::Store;
use crate::convert::{db_error, from_db, to_db, uuid};
use crate::events::EventRow;
use crate::schema::{auth_events, refresh_tokens, sessions};

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
    authenticated_at: PrimitiveDateTime,
    last_used_at: PrimitiveDateTime,
    ip: Option<String>,
    user_agent: Option<String>,
    sign_in_method: String,
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
            authenticated_at: to_db(session.authenticated_at),
            last_used_at: to_db(session.last_used_at),
            ip: session.client.ip.map(|ip| ip.to_string()),
            user_agent: session.client.user_agent.clone(),
            sign_in_method: session.method.as_str().to_owned(),
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
            authenticated_at: from_db(self.authenticated_at),
            last_used_at: from_db(self.last_used_at),
            // An address that no longer parses is shown as unknown rather than failing the read.
            client: Client {
                ip: self.ip.as_deref().and_then(|ip| ip.parse().ok()),
                user_agent: self.user_agent,
            },
            method: SignInMethod::parse(&self.sign_in_method).ok_or_else(|| {
                StoreError::message(format!("unknown sign-in method {:?}", self.sign_in_method))
            })?,
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
        event: Option<&SecurityEvent>,
    ) -> Result<(), StoreError> {
        let session_row = SessionRow::from_domain(session);
        let refresh_row = refresh.map(RefreshRow::from_domain);
        let event_row = event.map(EventRow::from_domain);
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
                if let Some(row) = &event_row {
                    diesel::insert_into(auth_events::table)
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
        client: &Client,
    ) -> Result<bool, StoreError> {
        let used = UseRow::at(now, client);
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
                    .set((sessions::expires_at.eq(new_row.expires_at), &used))
                    .execute(conn)
                    .await?;
                Ok(true)
            })
            .await
            .map_err(db_error)
        })
    }

    async fn promote(
        &self,
        id: SessionId,
        refresh: &RefreshRecord,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let row = RefreshRow::from_domain(refresh);
        let event_row = EventRow::from_domain(event);
        let now = to_db(now);
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
                    sessions::authenticated_at.eq(now),
                    sessions::last_used_at.eq(now),
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
                diesel::insert_into(auth_events::table)
                    .values(&event_row)
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

    async fn revoke(
        &self,
        id: SessionId,
        now: OffsetDateTime,
        event: Option<&SecurityEvent>,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        let event_row = event.map(EventRow::from_domain);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let revoked = diesel::update(
                    sessions::table
                        .find(&id)
                        .filter(sessions::revoked_at.is_null()),
                )
                .set(sessions::revoked_at.eq(Some(to_db(now))))
                .execute(conn)
                .await?;
                record_if!(conn, revoked > 0, event_row.as_ref());
                Ok(())
            })
            .await
            .map_err(db_error)
        })
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

    async fn record_authentication(
        &self,
        id: SessionId,
        at: OffsetDateTime,
        client: &Client,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let id = id.to_string();
        let used = UseRow::at(at, client);
        let event_row = EventRow::from_domain(event);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let updated = diesel::update(
                    sessions::table
                        .find(&id)
                        .filter(sessions::revoked_at.is_null())
                        .filter(sessions::expires_at.gt(used.last_used_at)),
                )
                .set((sessions::authenticated_at.eq(used.last_used_at), &used))
                .execute(conn)
                .await?;
                record_if!(conn, updated == 1, Some(&event_row));
                Ok(updated == 1)
            })
            .await
            .map_err(db_error)
        })
    }

    async fn live_sessions_of(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
        let user = user.to_string();
        let rows: Vec<SessionRow> = with_conn!(self, |conn| {
            sessions::table
                .filter(sessions::user_id.eq(&user))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(to_db(now)))
                .order((sessions::created_at.desc(), sessions::id.desc()))
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(SessionRow::into_domain).collect()
    }

    async fn revoke_of_user(
        &self,
        user: UserId,
        id: SessionId,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<bool, StoreError> {
        let (user, id, now) = (user.to_string(), id.to_string(), to_db(now));
        let event_row = EventRow::from_domain(event);
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let revoked = diesel::update(
                    sessions::table
                        .find(&id)
                        .filter(sessions::user_id.eq(&user))
                        .filter(sessions::revoked_at.is_null())
                        .filter(sessions::expires_at.gt(now)),
                )
                .set(sessions::revoked_at.eq(Some(now)))
                .execute(conn)
                .await?;
                record_if!(conn, revoked == 1, Some(&event_row));
                Ok(revoked == 1)
            })
            .await
            .map_err(db_error)
        })
    }

    async fn revoke_others(
        &self,
        user: UserId,
        keep: SessionId,
        now: OffsetDateTime,
        event: &SecurityEvent,
    ) -> Result<u64, StoreError> {
        let (user, keep, now) = (user.to_string(), keep.to_string(), to_db(now));
        let event = event.clone();
        with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let revoked = diesel::update(
                    sessions::table
                        .filter(sessions::user_id.eq(&user))
                        .filter(sessions::id.ne(&keep))
                        .filter(sessions::revoked_at.is_null())
                        .filter(sessions::expires_at.gt(now)),
                )
                .set(sessions::revoked_at.eq(Some(now)))
                .execute(conn)
                .await?;
                let count = u64::try_from(revoked).unwrap_or(u64::MAX);
                let event = event.clone().with("count", DetailValue::Count(count));
                record_if!(conn, true, Some(&EventRow::from_domain(&event)));
                Ok(count)
            })
            .await
            .map_err(db_error)
        })
    }
}

/// A session's last use: when, and from which client.
#[derive(AsChangeset)]
#[diesel(table_name = sessions, treat_none_as_null = true)]
struct UseRow {
    last_used_at: PrimitiveDateTime,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl UseRow {
    fn at(at: OffsetDateTime, client: &Client) -> Self {
        Self {
            last_used_at: to_db(at),
            ip: client.ip.map(|ip| ip.to_string()),
            user_agent: client.user_agent.clone(),
        }
    }
}
