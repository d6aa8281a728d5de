//! The security log: event rows, written inside the transactions of the changes they record (see
//! [`EventRow::insert`] callers) or alone, read newest first, purged after their retention.

use authd_account::ports::{EventCursor, SecurityLog};
use authd_kernel::{
    Client, DetailObject, DetailValue, EventId, EventKind, SecurityEvent, StoreError, UserId,
};
use diesel::{
    BoolExpressionMethods as _, ExpressionMethods as _, Insertable, QueryDsl as _, Queryable,
};
use diesel_async::RunQueryDsl as _;
use serde_json::Value;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::Store;
use crate::convert::{db_error, from_db, to_db, uuid};
use crate::schema::auth_events;

/// Inserts the event row (an `Option<&EventRow>`) when `changed`, inside the caller's transaction: the log
/// records what the transaction did, and nothing when it did nothing. A macro, because the connection type
/// differs per backend (like [`with_conn!`]).
macro_rules! record_if {
    ($conn:expr, $changed:expr, $event:expr) => {
        if let (true, Some(row)) = ($changed, $event) {
            diesel::insert_into($crate::schema::auth_events::table)
                .values(row)
                .execute($conn)
                .await?;
        }
    };
}

/// One stored event.
#[derive(Queryable, Insertable)]
#[diesel(table_name = auth_events)]
pub(crate) struct EventRow {
    id: String,
    user_id: Option<String>,
    kind: String,
    at: PrimitiveDateTime,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: String,
}

impl EventRow {
    pub(crate) fn from_domain(event: &SecurityEvent) -> Self {
        Self {
            id: event.id.to_string(),
            user_id: Some(event.user_id.to_string()),
            kind: event.kind.as_str().to_owned(),
            at: to_db(event.at),
            ip: event.client.ip.map(|ip| ip.to_string()),
            user_agent: event.client.user_agent.clone(),
            detail: detail_json(&event.detail),
        }
    }

    fn into_domain(self) -> Result<SecurityEvent, StoreError> {
        let unknown = || StoreError::message(format!("unknown event kind {:?}", self.kind));
        Ok(SecurityEvent {
            id: EventId::from_uuid(uuid(&self.id)?),
            user_id: UserId::from_uuid(uuid(self.user_id.as_deref().unwrap_or_default())?),
            kind: EventKind::parse(&self.kind).ok_or_else(unknown)?,
            at: from_db(self.at),
            client: Client {
                ip: self.ip.as_deref().and_then(|ip| ip.parse().ok()),
                user_agent: self.user_agent,
            },
            detail: parse_detail(&self.detail)?,
        })
    }
}

fn detail_json(detail: &[(String, DetailValue)]) -> String {
    serde_json::to_string(&DetailObject(detail)).unwrap_or_else(|_| "{}".to_owned())
}

fn parse_detail(raw: &str) -> Result<Vec<(String, DetailValue)>, StoreError> {
    let bad = || StoreError::message("malformed event detail");
    let Value::Object(object) = serde_json::from_str(raw).map_err(|_| bad())? else {
        return Err(bad());
    };
    object
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                Value::String(text) => DetailValue::Text(text),
                Value::Bool(flag) => DetailValue::Flag(flag),
                Value::Number(n) => DetailValue::Count(n.as_u64().ok_or_else(bad)?),
                _ => return Err(bad()),
            };
            Ok((key, value))
        })
        .collect()
}

impl SecurityLog for Store {
    async fn record(&self, event: &SecurityEvent) -> Result<(), StoreError> {
        let row = EventRow::from_domain(event);
        with_conn!(self, |conn| {
            diesel::insert_into(auth_events::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(db_error)
        })?;
        Ok(())
    }

    async fn events_of(
        &self,
        user: UserId,
        before: Option<EventCursor>,
        limit: usize,
    ) -> Result<Vec<SecurityEvent>, StoreError> {
        let user = user.to_string();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let cursor = before.map(|c| (to_db(c.at), c.id.to_string()));
        let rows: Vec<EventRow> = with_conn!(self, |conn| {
            let mut query = auth_events::table
                .filter(auth_events::user_id.eq(&user))
                .into_boxed();
            if let Some((at, id)) = &cursor {
                query = query.filter(
                    auth_events::at
                        .lt(*at)
                        .or(auth_events::at.eq(*at).and(auth_events::id.lt(id))),
                );
            }
            query
                .order((auth_events::at.desc(), auth_events::id.desc()))
                .limit(limit)
                .load(conn)
                .await
                .map_err(db_error)
        })?;
        rows.into_iter().map(EventRow::into_domain).collect()
    }
}

impl Store {
    /// Deletes the events recorded before `cutoff` (the retention). Safe on every instance at once.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn purge_events_before(&self, cutoff: OffsetDateTime) -> Result<usize, StoreError> {
        with_conn!(self, |conn| {
            diesel::delete(auth_events::table.filter(auth_events::at.lt(to_db(cutoff))))
                .execute(conn)
                .await
                .map_err(db_error)
        })
    }
}
