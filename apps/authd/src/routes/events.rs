//! The user's security log: `GET /auth/events`, newest first, a page at a time.

use std::str::FromStr as _;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use authd_account::ports::EventCursor;
use authd_kernel::{DetailObject, EventId, SecurityEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::api::{no_store, rfc3339};
use crate::auth::FullSession;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Events per page unless `limit` says otherwise, and the most a page holds.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

/// `?limit=&before=`
#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Events per page, 1 to 100 (default 50).
    pub limit: Option<String>,
    /// The `next` of the previous page.
    pub before: Option<String>,
}

/// One event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    /// Event id.
    pub id: String,
    /// What happened (`signed_in`, `session_revoked`, ...).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When (RFC 3339).
    pub at: String,
    /// The client address, if known.
    pub ip: Option<String>,
    /// The browser, if it said.
    pub user_agent: Option<String>,
    /// A small object, e.g. `{"method": "passkey", "mfa": true}`; never a secret, code or token.
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// A page of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsResponse {
    /// Newest first.
    pub events: Vec<EventResponse>,
    /// The cursor of the next page, or null on the last.
    pub next: Option<String>,
}

impl EventsQuery {
    fn limit(&self) -> Result<usize, ApiError> {
        let Some(raw) = &self.limit else {
            return Ok(DEFAULT_LIMIT);
        };
        raw.parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::InvalidRequest(format!("`limit` must be 1 to {MAX_LIMIT}")))
    }

    fn before(&self) -> Result<Option<EventCursor>, ApiError> {
        self.before
            .as_deref()
            .map(|raw| {
                parse_cursor(raw)
                    .ok_or_else(|| ApiError::InvalidRequest("malformed `before` cursor".into()))
            })
            .transpose()
    }
}

/// `<unix microseconds>.<event id>`: a position only, so any cursor yields the caller's own events.
fn cursor_text(cursor: EventCursor) -> String {
    format!("{}.{}", cursor.at.unix_timestamp_nanos() / 1000, cursor.id)
}

fn parse_cursor(raw: &str) -> Option<EventCursor> {
    let (micros, id) = raw.split_once('.')?;
    let nanos = micros.parse::<i128>().ok()?.checked_mul(1000)?;
    Some(EventCursor {
        at: OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?,
        id: EventId::from_str(id).ok()?,
    })
}

impl From<&SecurityEvent> for EventResponse {
    fn from(event: &SecurityEvent) -> Self {
        Self {
            id: event.id.to_string(),
            kind: event.kind.as_str(),
            at: rfc3339(event.at),
            ip: event.client.ip.map(|ip| ip.to_string()),
            user_agent: event.client.user_agent.clone(),
            detail: serde_json::to_value(DetailObject(&event.detail)).unwrap_or_default(),
        }
    }
}

/// The caller's security log, newest first.
#[utoipa::path(
    get,
    path = "/auth/events",
    tag = "sessions",
    params(EventsQuery),
    responses(
        (status = 200, body = EventsResponse),
        (status = 400, description = "invalid_request: `limit` outside 1..100 or a malformed cursor", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: FullSession,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = state
        .accounts
        .events_of(&caller.0, query.before()?, query.limit()?)
        .await?;
    Ok(no_store(StatusCode::OK).json(EventsResponse {
        events: page.events.iter().map(EventResponse::from).collect(),
        next: page.next.map(cursor_text),
    }))
}
