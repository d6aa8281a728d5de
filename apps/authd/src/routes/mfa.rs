//! TOTP multi-factor authentication: enrol (setup, confirm), complete a pending sign-in (verify,
//! recovery-verify), turn off (disable), and recovery codes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use authd_mfa::MfaError;
use authd_session::{Authenticated, MfaAttempt, MfaStatus};

use crate::api::{
    self, AuthenticatedResponse, CodeBody, MfaSetupResponse, RecoveryCodesResponse, StatusResponse,
    no_store,
};
use crate::auth::{AnySession, FullSession};
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// Wrong codes a pending session may present before it is revoked (fixed by the contract, whatever the
/// rate-limit settings say).
const PENDING_ATTEMPTS: u32 = 5;

/// Starts enrolment: a new secret, its otpauth URL and a QR code. Calling it again replaces a pending secret.
#[utoipa::path(
    post,
    path = "/auth/mfa/setup",
    tag = "mfa",
    responses(
        (status = 200, body = MfaSetupResponse),
        (status = 400, description = "mfa_already_enabled", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn setup(
    state: web::Data<AppState>,
    caller: FullSession,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .identity
        .user(caller.0.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let setup = state.mfa.setup(user.id, user.email.as_str()).await?;
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
        (status = 200, body = RecoveryCodesResponse),
        (status = 400, description = "invalid_code, mfa_setup_required or invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn confirm(
    state: web::Data<AppState>,
    caller: FullSession,
    body: JsonBody<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    let codes = state.mfa.confirm(caller.0.user_id, &body.0.code).await?;
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
    caller: AnySession,
    body: JsonBody<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    let attempt = begin_attempt(&state, caller).await?;
    let checked = state.mfa.verify(attempt.caller.user_id, &body.0.code).await;
    complete_sign_in(&state, attempt, checked).await
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
    caller: AnySession,
    body: JsonBody<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    let attempt = begin_attempt(&state, caller).await?;
    let checked = state
        .mfa
        .verify_recovery(attempt.caller.user_id, &body.0.code)
        .await;
    complete_sign_in(&state, attempt, checked).await
}

/// A pending sign-in's attempt at its second factor, counted (per user and per session) before the code is
/// checked, so parallel guesses cannot outrun either limit.
struct Attempt {
    caller: Authenticated,
    counted: MfaAttempt,
}

async fn begin_attempt(state: &AppState, caller: AnySession) -> Result<Attempt, ApiError> {
    let caller = match caller.0.mfa {
        MfaStatus::Pending => caller.0,
        MfaStatus::NotEnrolled | MfaStatus::Verified => return Err(ApiError::MfaNotPending),
    };
    state.throttle.before_second_factor(caller.user_id).await?;
    let counted = state
        .sessions
        .begin_mfa_attempt(caller.session_id, PENDING_ATTEMPTS)
        .await?
        // The session used its attempts (the last one is being judged, or revoked it already).
        .ok_or(ApiError::InvalidSecondFactor)?;
    Ok(Attempt { caller, counted })
}

/// Promotes the pending session after a good code; a wrong one may have been the session's last.
async fn complete_sign_in(
    state: &AppState,
    attempt: Attempt,
    checked: Result<(), MfaError>,
) -> Result<HttpResponse, ApiError> {
    let Attempt { caller, counted } = attempt;
    match checked {
        Ok(()) => {
            state.throttle.after_second_factor(caller.user_id).await?;
            let tokens = state.sessions.complete_mfa(caller.session_id).await?;
            let user = state
                .identity
                .user(caller.user_id)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            Ok(api::authenticated(
                StatusCode::OK,
                &user,
                tokens,
                &state.web,
            ))
        }
        Err(MfaError::InvalidCode) => {
            state.sessions.fail_mfa_attempt(counted).await?;
            Err(ApiError::InvalidSecondFactor)
        }
        Err(err) => Err(err.into()),
    }
}

/// Turns MFA off with a TOTP code or a recovery code; the secret and recovery codes are deleted.
#[utoipa::path(
    post,
    path = "/auth/mfa/disable",
    tag = "mfa",
    request_body = CodeBody,
    responses(
        (status = 200, body = StatusResponse),
        (status = 400, description = "invalid_code, mfa_not_enabled or invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn disable(
    state: web::Data<AppState>,
    caller: FullSession,
    body: JsonBody<CodeBody>,
) -> Result<HttpResponse, ApiError> {
    // A stolen full session must not be able to guess its way to turning MFA off.
    state
        .throttle
        .before_second_factor(caller.0.user_id)
        .await?;
    state.mfa.disable(caller.0.user_id, &body.0.code).await?;
    state.throttle.after_second_factor(caller.0.user_id).await?;
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
        (status = 200, body = RecoveryCodesResponse),
        (status = 400, description = "mfa_not_enabled", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn recovery_codes(
    state: web::Data<AppState>,
    caller: FullSession,
) -> Result<HttpResponse, ApiError> {
    regenerate(&state, caller).await
}

/// A fresh set of recovery codes; the previous set stops working (same as `/auth/mfa/recovery-codes`).
#[utoipa::path(
    post,
    path = "/auth/mfa/recovery-codes/regenerate",
    tag = "mfa",
    responses(
        (status = 200, body = RecoveryCodesResponse),
        (status = 400, description = "mfa_not_enabled", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn recovery_codes_regenerate(
    state: web::Data<AppState>,
    caller: FullSession,
) -> Result<HttpResponse, ApiError> {
    regenerate(&state, caller).await
}

async fn regenerate(state: &AppState, caller: FullSession) -> Result<HttpResponse, ApiError> {
    let codes = state
        .mfa
        .regenerate_recovery_codes(caller.0.user_id)
        .await?;
    tracing::info!(user_id = %caller.0.user_id, "recovery codes regenerated");
    Ok(api::recovery_codes(codes))
}
