//! Operations: health, readiness, the published signing keys, metrics and the API description.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::{OpenApi as _, ToSchema};
use utoipa_scalar::Scalar;

use crate::api::{StatusResponse, no_store};
use crate::error::{ApiError, ErrorBody};
use crate::openapi::ApiDoc;
use crate::state::AppState;

/// One published verification key.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyResponse {
    /// Key id, as carried in tokens (Biscuit `root_key_id`), in decimal.
    #[schema(example = "1")]
    pub kid: String,
    /// Always `ed25519`.
    pub algorithm: &'static str,
    /// The 32-byte public key, hex.
    pub public_key: String,
    /// Whether new tokens are signed with it.
    pub active: bool,
}

/// The keys other services verify tokens with.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeysResponse {
    /// Every key tokens may be signed with.
    pub keys: Vec<KeyResponse>,
}

/// The root public keys, for offline token verification with the `authd-session` crate.
#[utoipa::path(
    get,
    path = "/auth/keys",tag = "operations", responses((status = 200, body = KeysResponse)))]
pub async fn keys(state: web::Data<AppState>) -> HttpResponse {
    let ring = state.accounts.sessions().keys();
    let active = ring.active().kid();
    let keys = ring
        .verifier()
        .keys()
        .map(|(kid, key)| KeyResponse {
            kid: kid.to_string(),
            algorithm: "ed25519",
            public_key: key.to_bytes_hex(),
            active: kid == active,
        })
        .collect();
    HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=300"))
        .json(KeysResponse { keys })
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",tag = "operations", responses((status = 200, body = StatusResponse)))]
pub async fn healthz() -> HttpResponse {
    no_store(StatusCode::OK).json(StatusResponse { status: "ok" })
}

/// The database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses((status = 200, body = StatusResponse), (status = 503, body = ErrorBody))
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await.map_err(|err| {
        // A warning rather than the 500's error log: an instance that is not ready is expected during a
        // database failover, and the load balancer acts on the 503.
        tracing::warn!(error = %err, "readiness check failed");
        ApiError::NotReady
    })?;
    Ok(no_store(StatusCode::OK).json(StatusResponse { status: "ready" }))
}

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    // No outbox counts here: they move when a reset is asked for an existing account, so on a public
    // listener they would tell anyone which emails have accounts.
    prometheus(state.metrics.render())
}

/// Prometheus metrics on the metrics listener (`server.metrics_bind`), with the outbox by state.
pub async fn private_metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut body = state.metrics.render();
    match state.store.outbox_stats().await {
        Ok(stats) => body.push_str(&format!(
            "# HELP authd_email_outbox Emails in the outbox by state.\n# TYPE authd_email_outbox gauge\n\
             authd_email_outbox{{state=\"pending\"}} {}\nauthd_email_outbox{{state=\"retrying\"}} {}\n\
             authd_email_outbox{{state=\"sent\"}} {}\nauthd_email_outbox{{state=\"failed\"}} {}\n",
            stats.pending, stats.retrying, stats.sent, stats.failed
        )),
        Err(err) => tracing::warn!(error = %err, "outbox metrics unavailable"),
    }
    prometheus(body)
}

fn prometheus(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}

/// This API, described in OpenAPI 3.
#[utoipa::path(
    get,
    path = "/openapi.json",tag = "operations", responses((status = 200, description = "The OpenAPI document")))]
pub async fn openapi_json() -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ApiDoc::openapi()))
}

/// The page around Scalar: its script pinned to one release and checked by Subresource Integrity, since it
/// runs on authd's own origin (a changed or compromised CDN file is refused by the browser).
const DOCS_HTML: &str = r#"<!doctype html>
<html>
<head>
  <title>$title</title>
  <meta charset="utf-8"/>
  <meta name="viewport" content="width=device-width, initial-scale=1"/>
</head>
<body>
<script id="api-reference" type="application/json">
$spec
</script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.76.0/dist/browser/standalone.js"
  integrity="sha384-oH1C0RwqcwbVXkC+r8A+4qRoyEUQdtxAzOwumkxZtQBBcsy61FOoPt7B50OVJYYQ"
  crossorigin="anonymous"></script>
</body>
</html>
"#;

/// And what the page may do: read the document it embeds, never call the API from authd's origin (no
/// "try it", so no script there can use the visitor's cookies), submit forms, or be framed.
const DOCS_POLICY: &str = "connect-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// This API as a readable page (Scalar, over the same OpenAPI document).
pub async fn docs() -> HttpResponse {
    let page = Scalar::new(ApiDoc::openapi())
        .title("authd API")
        .custom_html(DOCS_HTML)
        .to_html();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("content-security-policy", DOCS_POLICY))
        .body(page)
}
