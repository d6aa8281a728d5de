//! CORS with credentials for the allowed origins only. An allowed origin gets its preflight answered and
//! its responses marked readable; any other origin gets no `Access-Control-*` header at all, so its
//! preflight falls through to the router like any other `OPTIONS` (and a browser refuses the request).

use actix_web::HttpResponse;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

const ALLOWED_METHODS: &str = "GET, POST, DELETE, OPTIONS";
const ALLOWED_HEADERS: &str = "authorization, content-type, accept";
const EXPOSED_HEADERS: &str = "retry-after";
const PREFLIGHT_MAX_AGE_SECS: &str = "600";

/// Middleware: answers allowed origins' preflights and adds the CORS headers to their responses.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(origin) = allowed_origin(&req) else {
        let mut response = next.call(req).await?;
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
        return Ok(response.map_into_left_body());
    };
    if is_preflight(&req) {
        let preflight = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECS))
            .insert_header((
                header::VARY,
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ))
            .finish();
        let mut response = req.into_response(preflight);
        allow(response.headers_mut(), origin);
        return Ok(response.map_into_right_body());
    }
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    allow(headers, origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED_HEADERS),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    Ok(response.map_into_left_body())
}

/// The request's `Origin`, when it is one of the allowed origins.
fn allowed_origin(req: &ServiceRequest) -> Option<HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    let state = req.app_data::<web::Data<AppState>>()?;
    state
        .web
        .allows_origin(origin.to_str().ok()?)
        .then(|| origin.clone())
}

fn is_preflight(req: &ServiceRequest) -> bool {
    req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The origin is echoed, never `*`: credentials (cookies) are allowed.
fn allow(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
}
