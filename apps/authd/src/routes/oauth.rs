//! Sign-in and linking with GitHub and Google: redirect to the provider, take the callback, unlink, list.

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest as _, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use authd_account::{ProviderCallback, SignIn};
use authd_kernel::Secret;
use authd_oauth::{Begun, ProviderKind, ProviderReply, RedirectPath};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{LinkedProviderResponse, StatusResponse, no_store, rfc3339};
use crate::auth::{FullSession, RecentSession};
use crate::client_ip::{RequestClient, client};
use crate::cookies::{self, OAUTH_BINDING_COOKIE};
use crate::csrf;
use crate::error::{ApiError, ErrorBody};
use crate::state::{AppState, WebSettings};

/// `?redirect_to=`
#[derive(Debug, Deserialize, IntoParams)]
pub struct RedirectQuery {
    /// A path of the frontend to land on afterwards (relative, e.g. `/settings`); default `/`.
    pub redirect_to: Option<String>,
}

/// The provider's answer: `?code&state`, or `?error` when the person or the provider declined.
#[derive(Deserialize, IntoParams)]
pub struct CallbackQuery {
    /// The authorization code.
    pub code: Option<String>,
    /// The state sent with the redirect.
    pub state: Option<String>,
    /// Set by the provider instead of a code when the sign-in was declined.
    pub error: Option<String>,
}

impl std::fmt::Debug for CallbackQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackQuery")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

fn provider_of(path: &str) -> Result<ProviderKind, ApiError> {
    ProviderKind::parse(path).ok_or(ApiError::UnknownProvider)
}

/// Starts a sign-in: 307 to the provider, with state, PKCE and (Google) a nonce kept server-side, and a
/// cookie binding the flow to this browser.
#[utoipa::path(
    get,
    path = "/auth/{provider}/login",
    tag = "oauth",
    params(("provider" = String, Path, description = "github or google"), RedirectQuery),
    responses(
        (status = 307, description = "Redirect to the provider"),
        (status = 400, description = "unknown_provider or invalid_redirect", body = ErrorBody),
        (status = 429, description = "rate_limited: too many sign-ins begun from this client IP", body = ErrorBody),
        (status = 502, description = "provider_unavailable: the OpenID Connect discovery failed", body = ErrorBody),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    client: RequestClient,
    provider: web::Path<String>,
    query: web::Query<RedirectQuery>,
) -> Result<HttpResponse, ApiError> {
    let kind = provider_of(&provider)?;
    let begun = state
        .accounts
        .begin_provider_sign_in(kind, query.redirect_to.as_deref(), &client.0)
        .await?;
    Ok(redirect_to_provider(begun, &state.web))
}

/// Starts linking a provider to the signed-in account: 307 to the provider.
#[utoipa::path(
    get,
    path = "/auth/{provider}/link",
    tag = "oauth",
    params(("provider" = String, Path, description = "github or google"), RedirectQuery),
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 307, description = "Redirect to the provider"),
        (status = 400, description = "unknown_provider or invalid_redirect", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
        (status = 502, description = "provider_unavailable: the OpenID Connect discovery failed", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn link(
    state: web::Data<AppState>,
    req: HttpRequest,
    provider: web::Path<String>,
    query: web::Query<RedirectQuery>,
) -> Result<HttpResponse, ApiError> {
    // The path first: an unknown or disabled provider is 400 `unknown_provider` whoever asks.
    let kind = provider_of(&provider)?;
    let oauth = state.accounts.oauth();
    oauth.provider(kind)?;
    let caller = RecentSession::extract(&req).await?;
    // A plain navigation a page elsewhere could trigger with the user's cookies: only from this site.
    if !csrf::is_same_site_navigation(&req, &state.web) {
        return Err(ApiError::ForbiddenOrigin);
    }
    let begun = oauth
        .begin_link(
            kind,
            query.redirect_to.as_deref(),
            caller.0.user_id,
            caller.0.session_id,
        )
        .await?;
    Ok(redirect_to_provider(begun, &state.web))
}

/// Sends the browser to the provider, bound to it by a cookie the callback must bring back.
fn redirect_to_provider(begun: Begun, web: &WebSettings) -> HttpResponse {
    no_store(StatusCode::TEMPORARY_REDIRECT)
        .insert_header((header::LOCATION, begun.authorize_url))
        .cookie(cookies::oauth_binding(begun.binding.expose(), web))
        .finish()
}

/// The provider's redirect back: exchanges the code, signs in (or links), and sends the browser to the
/// frontend with the auth cookies (a pending session and `?mfa_required=true` for users with MFA).
#[utoipa::path(
    get,
    path = "/auth/{provider}/callback",
    tag = "oauth",
    params(("provider" = String, Path, description = "github or google"), CallbackQuery),
    responses(
        (status = 302, description = "Redirect to the frontend with the auth cookies set"),
        (status = 400, description = "invalid_state, unknown_provider, provider_already_linked, no_usable_email or invalid_request", body = ErrorBody),
        (status = 401, description = "provider_refused", body = ErrorBody),
        (status = 502, description = "provider_unavailable", body = ErrorBody),
    )
)]
pub async fn callback(
    state: web::Data<AppState>,
    req: HttpRequest,
    provider: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, ApiError> {
    let kind = provider_of(&provider)?;
    let CallbackQuery {
        code,
        state: flow_state,
        error,
    } = query.into_inner();
    let flow_state = flow_state
        .filter(|s| !s.is_empty())
        .ok_or(ApiError::InvalidState)?;
    let reply = match (code.filter(|c| !c.is_empty()), error) {
        (Some(code), None) => ProviderReply::Code(Secret::new(code)),
        (_, Some(error)) => ProviderReply::Refusal(format!("error={}", loggable(&error))),
        (None, None) => ProviderReply::Refusal("neither a code nor an error".into()),
    };
    let binding = req
        .cookie(OAUTH_BINDING_COOKIE)
        .map(|c| c.value().to_owned());
    let client = client(&req, &state.web.trusted_proxies);
    let done = state
        .accounts
        .complete_provider_flow(kind, reply, &flow_state, binding.as_deref(), &client)
        .await?;
    let mut response = no_store(StatusCode::FOUND);
    response.cookie(cookies::oauth_binding_cleared(&state.web));
    let target = match done {
        ProviderCallback::Linked { user, redirect_to } => {
            tracing::info!(user_id = %user, provider = %kind, "provider linked");
            frontend(&state.web, &redirect_to)
        }
        ProviderCallback::SignedIn(done) => {
            tracing::info!(user_id = %user_of(&done.sign_in), provider = %kind, created = done.created, "OAuth sign-in");
            let target = frontend(&state.web, &done.redirect_to);
            sign_in_cookies(&mut response, done.sign_in, target, &state.web)
        }
    };
    Ok(response.insert_header((header::LOCATION, target)).finish())
}

fn frontend(web: &WebSettings, path: &RedirectPath) -> String {
    format!("{}{}", web.frontend_url, path.as_str())
}

/// Sets the cookies of a provider sign-in and says where to go: a pending one goes to the frontend with
/// `mfa_required=true`, to finish at `/auth/mfa/verify` with the pending token's cookie.
fn sign_in_cookies(
    response: &mut HttpResponseBuilder,
    sign_in: SignIn,
    mut target: String,
    web: &WebSettings,
) -> String {
    match sign_in {
        SignIn::Complete(session) => {
            let tokens = session.tokens;
            response.cookie(cookies::access(
                tokens.access_token.expose(),
                tokens.expires_in,
                web,
            ));
            response.cookie(cookies::refresh(
                tokens.refresh_token.expose(),
                tokens.refresh_expires_in,
                web,
            ));
        }
        SignIn::SecondFactorRequired(pending) => {
            response.cookie(cookies::access(
                pending.tokens.access_token.expose(),
                pending.tokens.expires_in,
                web,
            ));
            target.push_str(if target.contains('?') {
                "&mfa_required=true"
            } else {
                "?mfa_required=true"
            });
        }
    }
    target
}

fn user_of(sign_in: &SignIn) -> authd_kernel::UserId {
    match sign_in {
        SignIn::Complete(session) => session.user.id,
        SignIn::SecondFactorRequired(pending) => pending.user.id,
    }
}

/// Removes a linked provider, unless it is the account's last way in.
#[utoipa::path(
    delete,
    path = "/auth/providers/{provider}",
    tag = "oauth",
    params(("provider" = String, Path, description = "github or google")),
    responses(
        (status = 403, description = "reauth_required (no factor proven in the session for `security.reauth_max_age_secs`: POST /auth/reauthenticate, then retry) or forbidden_origin", body = ErrorBody),
        (status = 200, body = StatusResponse),
        (status = 400, description = "unknown_provider, not_linked or last_login_method", body = ErrorBody),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn unlink(
    state: web::Data<AppState>,
    req: HttpRequest,
    provider: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let kind = provider_of(&provider)?;
    let caller = RecentSession::extract(&req).await?;
    state
        .accounts
        .oauth()
        .unlink(
            caller.0.user_id,
            kind,
            &client(&req, &state.web.trusted_proxies),
        )
        .await?;
    Ok(no_store(StatusCode::OK).json(StatusResponse { status: "unlinked" }))
}

/// The providers linked to the caller's account.
#[utoipa::path(
    get,
    path = "/auth/providers",
    tag = "oauth",
    responses(
        (status = 200, body = [LinkedProviderResponse]),
        (status = 401, description = "unauthorized or mfa_required", body = ErrorBody),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: FullSession,
) -> Result<HttpResponse, ApiError> {
    let links = state.accounts.oauth().links(caller.0.user_id).await?;
    let body: Vec<LinkedProviderResponse> = links
        .into_iter()
        .map(|l| LinkedProviderResponse {
            provider: l.provider.as_str(),
            email: l.email,
            linked_at: rfc3339(l.linked_at),
        })
        .collect();
    Ok(no_store(StatusCode::OK).json(body))
}

/// The provider's `error` code as it may be logged: an OAuth error code is a short ASCII word
/// (`access_denied`); anything else in that parameter is not echoed into the logs.
fn loggable(error: &str) -> &str {
    let is_code = error.len() <= 64
        && error
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if is_code { error } else { "unrecognised" }
}
