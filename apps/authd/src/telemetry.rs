//! Logs: one span per request carrying a request id, method and route pattern (never the query string,
//! which may carry one-time codes), and one event when it is answered. The id is echoed in `X-Request-Id`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage as _};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::EnvFilter;

/// Builds the per-request span.
#[derive(Debug)]
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| request.path().to_owned());
        tracing::info_span!("request", request_id = %request_id, method = %request.method(), route = %route)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let _entered = span.enter();
        match outcome {
            Ok(response) => tracing::info!(status = response.status().as_u16(), "answered"),
            Err(err) => tracing::warn!(
                status = err.as_response_error().status_code().as_u16(),
                "failed"
            ),
        }
    }
}

/// Middleware: copies the request id into the `X-Request-Id` response header.
pub async fn echo_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
    let mut response = next.call(req).await?;
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), id);
    }
    Ok(response)
}

/// Installs the global subscriber: `AUTHD_LOG` (or `RUST_LOG`) filters, `AUTHD_LOG_FORMAT=json` switches to
/// JSON lines.
pub fn init() {
    let filter = EnvFilter::try_from_env("AUTHD_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var("AUTHD_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.init();
    }
}
