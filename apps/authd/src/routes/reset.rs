//! Password reset: ask for a link by email, then set a new password with it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use authd_account::ResetEmail;
use authd_identity::Email;
use authd_kernel::Client;
use tracing::Instrument as _;
use tracing_actix_web::RequestId;

use crate::api::{ForgotPasswordBody, ResetPasswordBody, StatusResponse, no_store};
use crate::background;
use crate::client_ip::RequestClient;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// Sends a reset link to the address if it has an account. The answer is the same, and as fast, either
/// way: the lookup and the queueing happen after the response, and the email leaves through the outbox.
#[utoipa::path(
    post,
    path = "/auth/forgot-password",
    tag = "password reset",
    request_body = ForgotPasswordBody,
    responses(
        (status = 202, description = "Accepted, whether or not the address has an account", body = StatusResponse),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 429, description = "rate_limited (per client IP), with Retry-After", body = ErrorBody),
    )
)]
pub async fn forgot_password(
    state: web::Data<AppState>,
    client: RequestClient,
    request_id: RequestId,
    body: JsonBody<ForgotPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let email = Email::parse(&body.0.email)
        .map_err(|_| ApiError::InvalidRequest("invalid email address".into()))?;
    state.accounts.admit_password_reset(client.0.ip).await?;
    let span = tracing::info_span!("password_reset_request", request_id = %request_id);
    let request = ResetRequest {
        email,
        request_id: request_id.to_string(),
        client: client.0,
    };
    background::spawn(queue_reset_email(state.into_inner(), request).instrument(span));
    Ok(no_store(StatusCode::ACCEPTED).json(StatusResponse { status: "accepted" }))
}

/// What the background task needs of a reset request.
struct ResetRequest {
    email: Email,
    request_id: String,
    client: Client,
}

async fn queue_reset_email(state: std::sync::Arc<AppState>, request: ResetRequest) {
    match state
        .accounts
        .send_password_reset(&request.email, Some(&request.request_id), &request.client)
        .await
    {
        Ok(ResetEmail::Handled) => state.outbox.wake(),
        Ok(ResetEmail::OverLimit) => tracing::info!(
            "reset emails for this address are over their hourly limit; not sending another"
        ),
        Err(err) => tracing::error!(error = %err, "could not queue a password-reset email"),
    }
}

/// Sets a new password with the emailed token; every session of the account ends.
#[utoipa::path(
    post,
    path = "/auth/reset-password",
    tag = "password reset",
    request_body = ResetPasswordBody,
    responses(
        (status = 200, description = "Password changed; all sessions revoked", body = StatusResponse),
        (status = 400, description = "invalid_token, weak_password or invalid_request", body = ErrorBody),
        (status = 503, description = "Password hashing saturated; retry (the token is not spent)", body = ErrorBody),
    )
)]
pub async fn reset_password(
    state: web::Data<AppState>,
    client: RequestClient,
    body: JsonBody<ResetPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let ResetPasswordBody {
        token,
        new_password,
    } = body.0;
    let user_id = state
        .accounts
        .reset_password(&token.into_secret(), new_password.into_secret(), &client.0)
        .await?;
    tracing::info!(user_id = %user_id, "password reset; every session revoked");
    Ok(no_store(StatusCode::OK).json(StatusResponse {
        status: "password_reset",
    }))
}
