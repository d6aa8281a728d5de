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

/// Whether a cookie-authenticated navigation (a GET that starts something, like `/auth/{provider}/link`)
/// comes from this site rather than a page elsewhere: `Sec-Fetch-Site` is `same-origin`, `same-site` or
/// `none` (typed or bookmarked), or, from a browser that does not send it, the `Referer` is an allowed
/// origin. A request that does not rely on the access cookie (a bearer token, which another site's page
/// cannot add, or no credential at all, which the handler refuses) passes.
pub fn is_same_site_navigation(
    req: &actix_web::HttpRequest,
    web: &crate::state::WebSettings,
) -> bool {
    if req.headers().contains_key(header::AUTHORIZATION) || req.cookie(ACCESS_COOKIE).is_none() {
        return true;
    }
    let text = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    match text(header::HeaderName::from_static("sec-fetch-site")) {
        Some(site) => matches!(site, "same-origin" | "same-site" | "none"),
        None => text(header::REFERER)
            .and_then(referer_origin)
            .is_some_and(|origin| web.allows_origin(&origin)),
    }
}

/// `scheme://host[:port]` of a `Referer`.
fn referer_origin(referer: &str) -> Option<String> {
    let (scheme, rest) = referer.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::referer_origin;

    #[test]
    fn a_referers_origin_is_its_scheme_and_authority() {
        assert_eq!(
            referer_origin("https://app.example.com:8443/settings?x=1").as_deref(),
            Some("https://app.example.com:8443")
        );
        assert_eq!(
            referer_origin("https://app.example.com").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(referer_origin("not a url"), None);
        assert_eq!(referer_origin("https:///path"), None);
    }
}
