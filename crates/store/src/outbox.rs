//! The email outbox: queued messages that workers on any instance claim, send and mark. A claim is a lease
//! (`claimed_until`), so an instance that dies mid-send leaves the email to be retried once the lease ends.

use authd_account::ports::{Outbox, QueuedEmail};
use authd_identity::{Email, OutgoingEmail};
use authd_kernel::StoreError;
use diesel::{
    BoolExpressionMethods as _, ExpressionMethods as _, Insertable, OptionalExtension as _,
    QueryDsl as _, Queryable,
};
use diesel_async::RunQueryDsl as _;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::Store;
use crate::convert::{db_error, to_db};
use crate::schema::email_outbox;

#[derive(Queryable, Insertable)]
#[diesel(table_name = email_outbox)]
pub(crate) struct OutboxRow {
    id: String,
    recipient: String,
    subject: String,
    text_body: String,
    html_body: String,
    correlation: Option<String>,
    created_at: PrimitiveDateTime,
    attempts: i32,
    next_attempt_at: PrimitiveDateTime,
    claimed_until: Option<PrimitiveDateTime>,
    sent_at: Option<PrimitiveDateTime>,
    failed_at: Option<PrimitiveDateTime>,
    last_error: Option<String>,
}

impl OutboxRow {
    /// A new entry, due at once.
    pub(crate) fn queued(
        email: &OutgoingEmail,
        correlation: Option<&str>,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            recipient: email.to.as_str().to_owned(),
            subject: email.subject.clone(),
            text_body: email.text.clone(),
            html_body: email.html.clone(),
            correlation: correlation.map(str::to_owned),
            created_at: to_db(now),
            attempts: 0,
            next_attempt_at: to_db(now),
            claimed_until: None,
            sent_at: None,
            failed_at: None,
            last_error: None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Finished {
    Sent,
    Failed,
}

impl OutboxRow {
    fn into_queued(self) -> Result<QueuedEmail, StoreError> {
        let row = self;
        Ok(QueuedEmail {
            email: OutgoingEmail {
                to: Email::parse(&row.recipient).map_err(|_| {
                    StoreError::message(format!("outbox entry {} has an invalid recipient", row.id))
                })?,
                subject: row.subject,
                text: row.text_body,
                html: row.html_body,
            },
            correlation: row.correlation,
            attempts: u32::try_from(row.attempts).unwrap_or(0),
            id: row.id,
        })
    }
}

impl Outbox for Store {
    /// Each claim is a conditional update, so two workers never hold the same email at once.
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<QueuedEmail>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let now_db = to_db(now);
        let until = to_db(now + lease);
        let candidates: Vec<String> = with_conn!(self, |conn| {
            email_outbox::table
                .filter(email_outbox::sent_at.is_null())
                .filter(email_outbox::failed_at.is_null())
                .filter(email_outbox::next_attempt_at.le(now_db))
                .filter(
                    email_outbox::claimed_until
                        .is_null()
                        .or(email_outbox::claimed_until.le(now_db)),
                )
                .order(email_outbox::next_attempt_at.asc())
                .limit(limit)
                .select(email_outbox::id)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for id in candidates {
            let row: Option<OutboxRow> = with_conn!(self, |conn| {
                diesel::update(
                    email_outbox::table
                        .find(&id)
                        .filter(email_outbox::sent_at.is_null())
                        .filter(email_outbox::failed_at.is_null())
                        .filter(
                            email_outbox::claimed_until
                                .is_null()
                                .or(email_outbox::claimed_until.le(now_db)),
                        ),
                )
                .set((
                    email_outbox::claimed_until.eq(Some(until)),
                    email_outbox::attempts.eq(email_outbox::attempts + 1),
                ))
                .returning(email_outbox::all_columns)
                .get_result(conn)
                .await
                .optional()
                .map_err(db_error)
            })?;
            if let Some(row) = row {
                claimed.push(row.into_queued()?);
            }
        }
        Ok(claimed)
    }

    async fn mark_sent(&self, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.finish_email(id, Finished::Sent, at, None).await
    }

    async fn give_up(&self, id: &str, at: OffsetDateTime, reason: &str) -> Result<(), StoreError> {
        self.finish_email(id, Finished::Failed, at, Some(reason))
            .await
    }

    async fn retry_later(
        &self,
        id: &str,
        next_attempt_at: OffsetDateTime,
        reason: &str,
    ) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::update(email_outbox::table.find(id))
                .set((
                    email_outbox::next_attempt_at.eq(to_db(next_attempt_at)),
                    email_outbox::claimed_until.eq(None::<PrimitiveDateTime>),
                    email_outbox::last_error.eq(Some(reason)),
                ))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }
}

impl Store {
    /// Ends an email's life in the outbox, erasing its bodies (they may hold a one-time link).
    async fn finish_email(
        &self,
        id: &str,
        how: Finished,
        now: OffsetDateTime,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let at = Some(to_db(now));
        let (sent_at, failed_at) = match how {
            Finished::Sent => (at, None),
            Finished::Failed => (None, at),
        };
        with_conn!(self, |conn| {
            diesel::update(email_outbox::table.find(id))
                .set((
                    email_outbox::sent_at.eq(sent_at),
                    email_outbox::failed_at.eq(failed_at),
                    email_outbox::last_error.eq(error),
                    email_outbox::text_body.eq(""),
                    email_outbox::html_body.eq(""),
                    email_outbox::claimed_until.eq(None::<PrimitiveDateTime>),
                ))
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }
}

/// How many emails are where, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Waiting to be sent, including those that failed an attempt and wait for a retry.
    pub pending: u64,
    /// Waiting for a retry after at least one failed attempt.
    pub retrying: u64,
    /// Sent.
    pub sent: u64,
    /// Given up.
    pub failed: u64,
}

impl Store {
    /// Counts the outbox by state.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        use diesel::dsl::{count, count_star};
        let (total, sent, failed): (i64, i64, i64) = with_conn!(self, |conn| {
            email_outbox::table
                .select((
                    count_star(),
                    count(email_outbox::sent_at),
                    count(email_outbox::failed_at),
                ))
                .first(conn)
                .await
                .map_err(db_error)
        })?;
        let retrying: i64 = with_conn!(self, |conn| {
            email_outbox::table
                .filter(email_outbox::sent_at.is_null())
                .filter(email_outbox::failed_at.is_null())
                .filter(email_outbox::last_error.is_not_null())
                .count()
                .get_result(conn)
                .await
                .map_err(db_error)
        })?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(OutboxStats {
            pending: n(total - sent - failed),
            retrying: n(retrying),
            sent: n(sent),
            failed: n(failed),
        })
    }
}
