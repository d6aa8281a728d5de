//! The routes of the contract, grouped by flow. Each path is one resource, so a wrong method gets 405.

pub mod events;
pub mod mfa;
pub mod native;
pub mod oauth;
pub mod ops;
pub mod passkeys;
pub mod reset;
pub mod sessions;

use actix_web::dev::HttpServiceFactory;
use actix_web::{FromRequest, Handler, Resource, Responder, guard, web};

use crate::error::ApiError;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(post("/auth/register", native::register))
        .service(post("/auth/login", native::login))
        .service(post("/auth/logout", native::logout))
        .service(post("/auth/refresh", native::refresh))
        .service(get("/auth/validate", native::validate))
        .service(post("/auth/reauthenticate", sessions::reauthenticate))
        .service(get("/auth/sessions", sessions::list))
        .service(get("/auth/events", events::list))
        // Before `/auth/sessions/{session_id}`, which would otherwise take this path and answer 405.
        .service(post(
            "/auth/sessions/revoke-others",
            sessions::revoke_others,
        ))
        .service(delete("/auth/sessions/{session_id}", sessions::revoke))
        .service(post("/auth/mfa/setup", mfa::setup))
        .service(post("/auth/mfa/confirm", mfa::confirm))
        .service(post("/auth/mfa/verify", mfa::verify))
        .service(post("/auth/mfa/recovery-verify", mfa::recovery_verify))
        .service(post("/auth/mfa/disable", mfa::disable))
        .service(post("/auth/mfa/recovery-codes", mfa::recovery_codes))
        .service(post(
            "/auth/mfa/recovery-codes/regenerate",
            mfa::recovery_codes_regenerate,
        ))
        .service(post("/auth/forgot-password", reset::forgot_password))
        .service(post("/auth/reset-password", reset::reset_password))
        .service(get("/auth/keys", ops::keys))
        .service(get("/healthz", ops::healthz))
        .service(get("/readyz", ops::readyz))
        .service(get("/openapi.json", ops::openapi_json))
        .service(get("/docs", ops::docs))
        .service(get("/auth/passkeys", passkeys::list))
        .service(post(
            "/auth/passkeys/register-challenge",
            passkeys::register_challenge,
        ))
        .service(post("/auth/passkeys/register", passkeys::register))
        .service(post(
            "/auth/passkeys/login-challenge",
            passkeys::login_challenge,
        ))
        .service(post("/auth/passkeys/login", passkeys::login))
        .service(delete("/auth/passkeys/{passkey_id}", passkeys::delete))
        .service(get("/auth/providers", oauth::list))
        .service(delete("/auth/providers/{provider}", oauth::unlink))
        // Generic provider paths last, after every literal /auth/... route.
        .service(get("/auth/{provider}/login", oauth::login))
        .service(get("/auth/{provider}/link", oauth::link))
        .service(get("/auth/{provider}/callback", oauth::callback));
}

/// A read: answers GET and HEAD (RFC 9110 wants HEAD wherever GET is; the server sends no body for it).
/// `GET /metrics` on the API's listener (when `server.metrics_bind` does not move it to one of its own).
pub fn public_metrics(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/metrics", ops::metrics));
}

/// The metrics listener's only route, with the figures that belong on an internal network only.
pub fn private_metrics(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/metrics", ops::private_metrics));
}

fn get<F, Args>(path: &str, handler: F) -> impl HttpServiceFactory + use<F, Args>
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    one_method(
        path,
        web::route().guard(guard::Any(guard::Get()).or(guard::Head())),
        handler,
        "GET, HEAD",
    )
}

fn post<F, Args>(path: &str, handler: F) -> impl HttpServiceFactory + use<F, Args>
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    one_method(path, web::post(), handler, "POST")
}

fn delete<F, Args>(path: &str, handler: F) -> impl HttpServiceFactory + use<F, Args>
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    one_method(path, web::delete(), handler, "DELETE")
}

/// One path, one method: any other method gets the JSON 405 with an `Allow` header.
fn one_method<F, Args>(
    path: &str,
    route: actix_web::Route,
    handler: F,
    allow: &'static str,
) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(route.to(handler))
        .default_service(web::to(move || async move {
            Err::<actix_web::HttpResponse, _>(ApiError::MethodNotAllowed { allow })
        }))
}
