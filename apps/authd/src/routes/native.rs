//! Native authentication: register, login, logout, refresh, validate.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use authd_account::{AccountError, SignIn};
use authd_identity::{IdentityError, Registration};
use authd_kernel::Secret;

use crate::api::{
    self, AuthenticatedResponse, LoginBody, RefreshBody, RegisterBody, SecretField, SignInResponse,
    StatusResponse, ValidateResponse,
};
use crate::auth::{FullSession, access_token};
use crate::client_ip::client;
use crate::cookies::{self, REFRESH_COOKIE};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, OptionalJsonBody};
use crate::state::AppState;

/// Creates an account with its personal workspace and signs it in.
#[utoipa::path(
    post,
    path = "/auth/register",
    tag = "native",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "User created and signed in", body = AuthenticatedResponse),
        (status = 400, description = "invalid_request, weak_password or email_taken", body = ErrorBody),
        (status = 429, description = "rate_limited (sign-ups per client IP), with Retry-After", body = ErrorBody),
        (status = 503, description = "Password hashing saturated; retry", body = ErrorBody),
    )
)]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let registration = Registration {
        email: body.email,
        name: body.name,
        password: body.password.into_secret(),
    };
    let session = state
        .accounts
        .sign_up(registration, &client(&req, &state.web.trusted_proxies))
        .await?;
    Ok(api::authenticated(StatusCode::CREATED, session, &state.web))
}

/// Checks email and password and signs the user in.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "native",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in, or (`MfaRequiredResponse`) a pending session waiting for the second factor", body = SignInResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "invalid_credentials", body = ErrorBody),
        (status = 429, description = "rate_limited, with Retry-After", body = ErrorBody),
        (status = 503, description = "Password hashing saturated; retry", body = ErrorBody),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let LoginBody { email, password } = body.0;
    let client = client(&req, &state.web.trusted_proxies);
    let outcome = state
        .accounts
        .sign_in_with_password(&email, &password.into_secret(), &client)
        .await;
    if let Some(label) = login_metric(&outcome) {
        state.metrics.login(label);
    }
    Ok(api::signed_in(outcome?, &state.web))
}

/// The login counter's label for an outcome; refusals other than a wrong password are not logins counted.
fn login_metric(outcome: &Result<SignIn, AccountError>) -> Option<&'static str> {
    match outcome {
        Ok(SignIn::Complete(_)) => Some("success"),
        Ok(SignIn::SecondFactorRequired(_)) => Some("mfa_required"),
        Err(AccountError::Identity(IdentityError::InvalidCredentials)) => {
            Some("invalid_credentials")
        }
        Err(_) => None,
    }
}

/// Revokes the current session (if a token is present) and clears both cookies. Idempotent.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "native",
    responses((status = 200, description = "Logout successful", body = StatusResponse))
)]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let refresh_cookie = req.cookie(REFRESH_COOKIE).map(|c| Secret::new(c.value()));
    state
        .accounts
        .sign_out(
            access_token(&req).as_deref(),
            refresh_cookie.as_ref(),
            &client(&req, &state.web.trusted_proxies),
        )
        .await?;
    let mut response = api::no_store(StatusCode::OK);
    for cookie in cookies::cleared(&state.web) {
        response.cookie(cookie);
    }
    Ok(response.json(StatusResponse {
        status: "logged_out",
    }))
}

/// Exchanges a refresh token (body or cookie) for a new pair; the old token stops working, and presenting it
/// again revokes the session.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "native",
    request_body(content = RefreshBody, description = "Optional: the cookie may carry the token instead"),
    responses(
        (status = 200, description = "New tokens", body = AuthenticatedResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "invalid_token", body = ErrorBody),
    )
)]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: OptionalJsonBody<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let presented = body
        .0
        .refresh_token
        .filter(|t| !t.is_empty())
        .map(SecretField::into_secret)
        .or_else(|| req.cookie(REFRESH_COOKIE).map(|c| Secret::new(c.value())))
        .filter(|t| !t.expose().is_empty())
        .ok_or(ApiError::InvalidToken)?;
    let session = state
        .accounts
        .refresh(&presented, &client(&req, &state.web.trusted_proxies))
        .await?;
    Ok(api::authenticated(StatusCode::OK, session, &state.web))
}

/// The caller and their workspaces, for other services to check a token against.
#[utoipa::path(
    get,
    path = "/auth/validate",
    tag = "native",
    responses(
        (status = 200, description = "Token valid", body = ValidateResponse),
        (status = 401, description = "Missing, invalid, expired, revoked or MFA-pending token", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn validate(
    state: web::Data<AppState>,
    caller: FullSession,
) -> Result<HttpResponse, ApiError> {
    let profile = state.accounts.profile(caller.0.user_id).await?;
    Ok(api::no_store(StatusCode::OK).json(ValidateResponse {
        status: "active",
        user: (&profile.user).into(),
        workspaces: profile.memberships.iter().map(Into::into).collect(),
    }))
}
