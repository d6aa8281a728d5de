//! TOTP multi-factor authentication: enrol (setup, confirm), complete a pending sign-in (verify,
//! recovery-verify), turn off (disable), and recovery codes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authd_account::SecondFactor;

use crate::api::{
    self, AuthenticatedResponse, CodeBody, MfaSetupResponse, RecoveryCodesResponse, StatusResponse,
    no_store,
};
use crate::auth::{AnySession, RecentSession};
use crate::client_ip::{RequestClient, client};
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// Starts enrolment: a new secret, its otpauth URL and a QR code. Calling it again replaces a pending secret.
#[utoipa::path(
    post,
    path = "/auth/mfa/setup",
    tag = "mfa",
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 200, body = MfaSetupResponse),
        (status = 400, description = "mfa_already_enabled", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn setup(
    state: web::Data<AppState>,
    caller: RecentSession,
) -> Result<HttpResponse, ApiError> {
    let setup = state.accounts.begin_mfa_enrolment(caller.0.user_id).await?;
    Ok(no_store(StatusCode::OK).json(MfaSetupResponse {
        secret: setup.secret_base32.expose().to_owned(),
        otpauth_url: setup.otpauth_url.expose().to_owned(),
        qr_code_base64: setup.qr_png_base64,
    }))
}

/// Confirms enrolment with a first code; MFA is on from now and the recovery codes are shown, once.
#[utoipa::path(
    post,
    path = "/auth/mfa/confirm",
    tag = "mfa",
    request_body = CodeBody,
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 200, body = RecoveryCodesResponse),
        (status = 400, description = "invalid_code, mfa_setup_required or invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn confirm(
    state: web::Data<AppState>,
    client: RequestClient,
    caller: RecentSession,
    body: JsonBody<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    let codes = state
        .accounts
        .mfa()
        .confirm(caller.0.user_id, &body.0.code, &client.0)
        .await?;
    tracing::info!(user_id = %caller.0.user_id, "multi-factor authentication enabled");
    Ok(api::recovery_codes(codes))
}

/// Completes a pending sign-in with a TOTP code.
#[utoipa::path(
    post,
    path = "/auth/mfa/verify",
    tag = "mfa",
    request_body = CodeBody,
    responses(
        (status = 200, description = "MFA-verified session", body = AuthenticatedResponse),
        (status = 400, description = "invalid_request or mfa_not_pending", body = ErrorBody),
        (status = 401, description = "invalid_code (five revoke the pending session) or unauthorized", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: AnySession,
    body: JsonBody<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    let session = state
        .accounts
        .complete_second_factor(
            caller.0,
            SecondFactor::Totp(&body.0.code),
            &client(&req, &state.web.trusted_proxies),
        )
        .await?;
    Ok(api::authenticated(StatusCode::OK, session, &state.web))
}

/// Completes a pending sign-in with a recovery code, which is spent.
#[utoipa::path(
    post,
    path = "/auth/mfa/recovery-verify",
    tag = "mfa",
    request_body = CodeBody,
    responses(
        (status = 200, description = "MFA-verified session", body = AuthenticatedResponse),
        (status = 400, description = "invalid_request or mfa_not_pending", body = ErrorBody),
        (status = 401, description = "invalid_code (five revoke the pending session) or unauthorized", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn recovery_verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: AnySession,
    body: JsonBody<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    let session = state
        .accounts
        .complete_second_factor(
            caller.0,
            SecondFactor::RecoveryCode(&body.0.code),
            &client(&req, &state.web.trusted_proxies),
        )
        .await?;
    Ok(api::authenticated(StatusCode::OK, session, &state.web))
}

/// Turns MFA off with a TOTP code or a recovery code; the secret and recovery codes are deleted.
#[utoipa::path(
    post,
    path = "/auth/mfa/disable",
    tag = "mfa",
    request_body = CodeBody,
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 200, body = StatusResponse),
        (status = 400, description = "invalid_code, mfa_not_enabled or invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn disable(
    state: web::Data<AppState>,
    client: RequestClient,
    caller: RecentSession,
    body: JsonBody<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    state
        .accounts
        .disable_mfa(caller.0.user_id, &body.0.code, &client.0)
        .await?;
    tracing::info!(user_id = %caller.0.user_id, "multi-factor authentication disabled");
    Ok(no_store(StatusCode::OK).json(StatusResponse {
        status: "mfa_disabled",
    }))
}

/// A fresh set of recovery codes; the previous set stops working.
#[utoipa::path(
    post,
    path = "/auth/mfa/recovery-codes",
    tag = "mfa",
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 200, body = RecoveryCodesResponse),
        (status = 400, description = "mfa_not_enabled", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn recovery_codes(
    state: web::Data<AppState>,
    client: RequestClient,
    caller: RecentSession,
) -> Result<HttpResponse, ApiError> {
    regenerate(&state, &client, caller).await
}

/// A fresh set of recovery codes; the previous set stops working (same as `/auth/mfa/recovery-codes`).
#[utoipa::path(
    post,
    path = "/auth/mfa/recovery-codes/regenerate",
    tag = "mfa",
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 200, body = RecoveryCodesResponse),
        (status = 400, description = "mfa_not_enabled", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn recovery_codes_regenerate(
    state: web::Data<AppState>,
    client: RequestClient,
    caller: RecentSession,
) -> Result<HttpResponse, ApiError> {
    regenerate(&state, &client, caller).await
}

async fn regenerate(
    state: &AppState,
    client: &RequestClient,
    caller: RecentSession,
) -> Result<HttpResponse, ApiError> {
    let codes = state
        .accounts
        .mfa()
        .regenerate_recovery_codes(caller.0.user_id, &client.0)
        .await?;
    tracing::info!(user_id = %caller.0.user_id, "recovery codes regenerated");
    Ok(api::recovery_codes(codes))
}
