//! CSRF and login-CSRF defence: a state-changing request that carries an auth cookie and an `Origin` that is
//! not allowed is refused with 403 before it reaches a handler. Requests without cookies (other services
//! using Bearer tokens) are not affected, and neither are requests without an `Origin` (non-browsers).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web;

use crate::cookies::{ACCESS_COOKIE, REFRESH_COOKIE};
use crate::error::ApiError;
use crate::state::AppState;

/// Middleware: the origin check.
pub async fn check_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if is_forbidden(&req) {
        return Ok(req
            .error_response(ApiError::ForbiddenOrigin)
            .map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn is_forbidden(req: &ServiceRequest) -> bool {
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let has_auth_cookie =
        req.cookie(ACCESS_COOKIE).is_some() || req.cookie(REFRESH_COOKIE).is_some();
    if !state_changing || !has_auth_cookie {
        return false;
    }
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    else {
        return false;
    };
    let allowed = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.web.allows_origin(origin));
    !allowed
}
