//! Passkeys: register (challenge, answer), sign in (challenge, assertion), list and delete.

use std::str::FromStr as _;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authd_identity::Email;
use authd_passkey::{PasskeyId, StoredPasskey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::{self, SignInResponse, StatusResponse, no_store, rfc3339};
use crate::auth::{FullSession, RecentSession};
use crate::client_ip::{RequestClient, client};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, OptionalJsonBody};
use crate::state::AppState;

/// `v1.passkeyLoginChallengeRequest`
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LoginChallengeBody {
    /// Optional; the options are the same whoever asks (usernameless sign-in with discoverable credentials).
    pub email: Option<String>,
}

/// A passkey just registered: the contract's `{"id", "name", "created_at"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredPasskeyResponse {
    /// authd's id of the passkey (for `DELETE /auth/passkeys/{id}`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Registration time, RFC 3339.
    pub created_at: String,
}

/// A passkey in the caller's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyResponse {
    /// What registration answered.
    #[serde(flatten)]
    pub passkey: RegisteredPasskeyResponse,
    /// Last sign-in with it, RFC 3339; `null` until first used.
    pub last_used_at: Option<String>,
}

impl From<&StoredPasskey> for RegisteredPasskeyResponse {
    fn from(p: &StoredPasskey) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name.clone(),
            created_at: rfc3339(p.created_at),
        }
    }
}

impl From<&StoredPasskey> for PasskeyResponse {
    fn from(p: &StoredPasskey) -> Self {
        Self {
            passkey: p.into(),
            last_used_at: p.last_used_at.map(rfc3339),
        }
    }
}

/// The options JSON, as the relying party produced it.
fn options(json: String) -> HttpResponse {
    no_store(StatusCode::OK)
        .content_type("application/json")
        .body(json)
}

/// Options for `navigator.credentials.create()`: `{"publicKey": {...}}` with binary fields base64url.
#[utoipa::path(
    post,
    path = "/auth/passkeys/register-challenge",
    tag = "passkeys",
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 200, description = "PublicKeyCredentialCreationOptions under `publicKey`", body = Object),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn register_challenge(
    state: web::Data<AppState>,
    caller: RecentSession,
) -> Result<HttpResponse, ApiError> {
    Ok(options(
        state
            .accounts
            .begin_passkey_registration(caller.0.user_id)
            .await?,
    ))
}

/// Stores a passkey from the browser's `PublicKeyCredential` JSON (`credential.toJSON()`), with an optional
/// top-level `name`.
#[utoipa::path(
    post,
    path = "/auth/passkeys/register",
    tag = "passkeys",
    request_body(content = Object, description = "PublicKeyCredential JSON plus an optional `name`"),
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 200, body = RegisteredPasskeyResponse),
        (status = 400, description = "invalid_passkey, passkey_already_registered or invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn register(
    state: web::Data<AppState>,
    client: RequestClient,
    caller: RecentSession,
    body: JsonBody<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let name = match body.0.get("name") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(name)) => Some(name.clone()),
        Some(_) => {
            return Err(ApiError::InvalidRequest(
                "field `name`: expected a string".into(),
            ));
        }
    };
    let passkey = state
        .accounts
        .passkeys()
        .finish_registration(
            caller.0.user_id,
            &body.0.to_string(),
            name.as_deref(),
            &client.0,
        )
        .await
        .map_err(ApiError::from_registration)?;
    tracing::info!(user_id = %caller.0.user_id, passkey_id = %passkey.id, "passkey registered");
    Ok(no_store(StatusCode::OK).json(RegisteredPasskeyResponse::from(&passkey)))
}

/// Options for `navigator.credentials.get()`; any discoverable credential of this site may answer.
#[utoipa::path(
    post,
    path = "/auth/passkeys/login-challenge",
    tag = "passkeys",
    request_body(content = LoginChallengeBody, description = "Optional"),
    responses(
        (status = 200, description = "PublicKeyCredentialRequestOptions under `publicKey`", body = Object),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 429, description = "rate_limited: too many challenges from this client IP", body = ErrorBody),
    )
)]
pub async fn login_challenge(
    state: web::Data<AppState>,
    client: RequestClient,
    body: OptionalJsonBody<LoginChallengeBody>,
) -> Result<HttpResponse, ApiError> {
    if let Some(email) = &body.0.email {
        Email::parse(email)
            .map_err(|_| ApiError::InvalidRequest("invalid email address".into()))?;
    }
    Ok(options(
        state.accounts.begin_passkey_sign_in(&client.0).await?,
    ))
}

/// Signs in with the browser's assertion (`PublicKeyCredential` JSON). A passkey with user verification
/// satisfies MFA; without it, a user with TOTP gets a pending session.
#[utoipa::path(
    post,
    path = "/auth/passkeys/login",
    tag = "passkeys",
    request_body(content = Object, description = "PublicKeyCredential JSON"),
    responses(
        (status = 200, description = "Signed in, or (`MfaRequiredResponse`) a pending session", body = SignInResponse),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "passkey_refused", body = ErrorBody),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let sign_in = state
        .accounts
        .sign_in_with_passkey(
            &body.0.to_string(),
            &client(&req, &state.web.trusted_proxies),
        )
        .await
        .map_err(ApiError::from_passkey_sign_in)?;
    Ok(api::signed_in(sign_in, &state.web))
}

/// The caller's passkeys.
#[utoipa::path(
    get,
    path = "/auth/passkeys",
    tag = "passkeys",
    responses(
        (status = 200, body = [PasskeyResponse]),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: FullSession,
) -> Result<HttpResponse, ApiError> {
    let passkeys = state.accounts.passkeys().list(caller.0.user_id).await?;
    Ok(no_store(StatusCode::OK).json(
        passkeys
            .iter()
            .map(PasskeyResponse::from)
            .collect::<Vec<_>>(),
    ))
}

/// Deletes one of the caller's passkeys, unless it is the account's last way in.
#[utoipa::path(
    delete,
    path = "/auth/passkeys/{passkey_id}",
    tag = "passkeys",
    params(("passkey_id" = String, Path, description = "Passkey ID")),
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 200, body = StatusResponse),
        (status = 400, description = "invalid_request (malformed id) or last_login_method", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
        (status = 404, description = "not_found: not one of the caller's passkeys", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn delete(
    state: web::Data<AppState>,
    client: RequestClient,
    passkey_id: web::Path<String>,
    caller: RecentSession,
) -> Result<HttpResponse, ApiError> {
    let id = PasskeyId::from_str(&passkey_id)
        .map_err(|_| ApiError::InvalidRequest("malformed passkey id".into()))?;
    state
        .accounts
        .passkeys()
        .delete(caller.0.user_id, id, &client.0)
        .await?;
    Ok(no_store(StatusCode::OK).json(StatusResponse { status: "deleted" }))
}
