//! Step-up and the sessions a user can see and end: re-authenticate, list, revoke one, revoke the others.

use std::str::FromStr as _;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authd_account::{Proof, Revoked};
use authd_kernel::Secret;
use authd_session::SessionId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::{SecretField, StatusResponse, no_store, rfc3339};
use crate::auth::FullSession;
use crate::client_ip::client;
use crate::cookies;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// `POST /auth/reauthenticate`: exactly one proof.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthenticateBody {
    /// The account's password.
    #[schema(value_type = Option<String>)]
    pub password: Option<SecretField>,
    /// A current TOTP code.
    pub code: Option<String>,
    /// A passkey assertion (`PublicKeyCredential` JSON) answering `/auth/passkeys/login-challenge`.
    #[schema(value_type = Option<Object>)]
    pub passkey: Option<serde_json::Value>,
}

impl std::fmt::Debug for ReauthenticateBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReauthenticateBody").finish_non_exhaustive()
    }
}

/// The answer to a re-authentication.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReauthenticatedResponse {
    /// `reauthenticated`.
    pub status: &'static str,
    /// When the factor was proven (RFC 3339).
    pub authenticated_at: String,
}

/// One of the caller's sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Session id (UUID).
    pub id: String,
    /// Sign-in time.
    pub created_at: String,
    /// Last sign-in, refresh or re-authentication.
    pub last_used_at: String,
    /// When it ends if not refreshed (never after its absolute end).
    pub expires_at: String,
    /// The client address of its last use, if known.
    pub ip: Option<String>,
    /// The browser of its last use, if it said.
    pub user_agent: Option<String>,
    /// `verified`, `not_enrolled` or `pending`.
    pub mfa: &'static str,
    /// Whether it is the session making this request.
    pub current: bool,
}

/// `GET /auth/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsResponse {
    /// Newest first.
    pub sessions: Vec<SessionResponse>,
}

/// The answer to revoking the other sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedOthersResponse {
    /// `revoked`.
    pub status: &'static str,
    /// How many sessions ended (pending ones included).
    pub revoked: u64,
}

/// The one proof a re-authentication brings.
enum Presented {
    Password(Secret),
    Code(String),
    Passkey(String),
}

impl ReauthenticateBody {
    fn presented(self) -> Result<Presented, ApiError> {
        match (self.password, self.code, self.passkey) {
            (Some(password), None, None) => Ok(Presented::Password(password.into_secret())),
            (None, Some(code), None) => Ok(Presented::Code(code)),
            (None, None, Some(assertion)) => Ok(Presented::Passkey(assertion.to_string())),
            _ => Err(ApiError::InvalidRequest(
                "give exactly one of `password`, `code` or `passkey`".into(),
            )),
        }
    }
}

impl Presented {
    fn proof(&self) -> Proof<'_> {
        match self {
            Self::Password(password) => Proof::Password(password),
            Self::Code(code) => Proof::Totp(code),
            Self::Passkey(assertion) => Proof::Passkey(assertion),
        }
    }
}

/// Proves a factor again (password, TOTP code or passkey), so that the session may change credentials for
/// the next `security.reauth_max_age_secs`.
#[utoipa::path(
    post,
    path = "/auth/reauthenticate",
    tag = "sessions",
    request_body = ReauthenticateBody,
    responses(
        (status = 200, body = ReauthenticatedResponse),
        (status = 400, description = "invalid_request (no proof, or more than one) or mfa_not_enabled", body = ErrorBody),
        (status = 401, description = "invalid_credentials, invalid_code, passkey_refused, unauthorized or mfa_required", body = ErrorBody),
        (status = 429, description = "rate_limited (the account's login limit), with Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn reauthenticate(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: FullSession,
    body: JsonBody<ReauthenticateBody>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.0.presented()?;
    let client = client(&req, &state.web.trusted_proxies);
    let outcome = state
        .accounts
        .reauthenticate(&caller.0, presented.proof(), &client)
        .await;
    state.metrics.reauthentication(if outcome.is_ok() {
        "success"
    } else {
        "failure"
    });
    let at = match presented {
        // A passkey refusal says nothing about which check failed, as at sign-in.
        Presented::Passkey(_) => outcome.map_err(ApiError::from_passkey_sign_in)?,
        Presented::Password(_) | Presented::Code(_) => outcome?,
    };
    Ok(no_store(StatusCode::OK).json(ReauthenticatedResponse {
        status: "reauthenticated",
        authenticated_at: rfc3339(at),
    }))
}

/// The caller's live sessions, newest first; `current` marks the one making the request.
#[utoipa::path(
    get,
    path = "/auth/sessions",
    tag = "sessions",
    responses(
        (status = 200, body = SessionsResponse),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: FullSession,
) -> Result<HttpResponse, ApiError> {
    let sessions = state.accounts.sessions_of(&caller.0).await?;
    let current = caller.0.session_id;
    Ok(no_store(StatusCode::OK).json(SessionsResponse {
        sessions: sessions
            .iter()
            .map(|s| SessionResponse {
                id: s.id.to_string(),
                created_at: rfc3339(s.created_at),
                last_used_at: rfc3339(s.last_used_at),
                expires_at: rfc3339(s.expires_at),
                ip: s.client.ip.map(|ip| ip.to_string()),
                user_agent: s.client.user_agent.clone(),
                mfa: s.mfa.as_str(),
                current: s.id == current,
            })
            .collect(),
    }))
}

/// Ends one of the caller's sessions at once (its access and refresh tokens stop working on every
/// instance); ending the current one also clears the cookies.
#[utoipa::path(
    delete,
    path = "/auth/sessions/{session_id}",
    tag = "sessions",
    params(("session_id" = String, Path, description = "Session ID")),
    responses(
        (status = 200, body = StatusResponse),
        (status = 400, description = "invalid_request (malformed id)", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
        (status = 404, description = "not_found: unknown, ended, or another user's", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    session_id: web::Path<String>,
    caller: FullSession,
) -> Result<HttpResponse, ApiError> {
    let id = SessionId::from_str(&session_id)
        .map_err(|_| ApiError::InvalidRequest("malformed session id".into()))?;
    let client = client(&req, &state.web.trusted_proxies);
    let revoked = state
        .accounts
        .revoke_session(&caller.0, id, &client)
        .await?;
    state.metrics.sessions_revoked(1);
    let mut response = no_store(StatusCode::OK);
    if revoked == Revoked::Current {
        for cookie in cookies::cleared(&state.web) {
            response.cookie(cookie);
        }
    }
    Ok(response.json(StatusResponse { status: "revoked" }))
}

/// Ends every session of the caller but the current one.
#[utoipa::path(
    post,
    path = "/auth/sessions/revoke-others",
    tag = "sessions",
    responses(
        (status = 200, body = RevokedOthersResponse),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn revoke_others(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: FullSession,
) -> Result<HttpResponse, ApiError> {
    let client = client(&req, &state.web.trusted_proxies);
    let revoked = state
        .accounts
        .revoke_other_sessions(&caller.0, &client)
        .await?;
    state.metrics.sessions_revoked(revoked);
    Ok(no_store(StatusCode::OK).json(RevokedOthersResponse {
        status: "revoked",
        revoked,
    }))
}
