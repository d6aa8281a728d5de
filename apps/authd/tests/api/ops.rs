//! Health, readiness, published keys (and offline verification with them), docs, metrics, unknown routes.

use actix_web::http::{Method, StatusCode, header};
use actix_web::test::TestRequest;
use authd_session::TokenVerifier;
use time::OffsetDateTime;

use crate::helpers::{TestApp, unique_email};

api_tests!(
    the_outbox_counts_are_only_on_a_metrics_listener_of_its_own,
    health_and_readiness_answer,
    published_keys_verify_tokens_offline,
    the_openapi_document_lists_every_endpoint_and_docs_render,
    metrics_count_requests_by_route,
    unknown_routes_and_wrong_methods_get_json_errors,
    reads_answer_head_too,
);

async fn health_and_readiness_answer(app: TestApp) {
    let health = app.call(TestRequest::get().uri("/healthz")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let ready = app.call(TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["status"], "ready");
}

async fn published_keys_verify_tokens_offline(app: TestApp) {
    let keys = app.call(TestRequest::get().uri("/auth/keys")).await;
    assert_eq!(keys.status, StatusCode::OK);
    let list = keys.body["keys"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["algorithm"], "ed25519");
    assert_eq!(list[0]["active"], true);
    let public_key = list[0]["public_key"].as_str().unwrap();
    assert_eq!(public_key.len(), 64);
    assert!(public_key.chars().all(|c| c.is_ascii_hexdigit()));
    let kid: u32 = list[0]["kid"].as_str().unwrap().parse().unwrap();

    // What another service does: verify with nothing but the published key.
    let session = app.register(&unique_email()).await;
    let verifier = TokenVerifier::from_hex([(kid, public_key)]).unwrap();
    let claims = verifier
        .verify(&session.access_token(), app_now(&app))
        .unwrap();
    assert_eq!(
        claims.user_id.to_string(),
        session.body["user"]["id"].as_str().unwrap()
    );
}

fn app_now(app: &TestApp) -> OffsetDateTime {
    use authd_kernel::Clock as _;
    app.clock.now()
}

async fn the_openapi_document_lists_every_endpoint_and_docs_render(app: TestApp) {
    let doc = app.call(TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/auth/register", "post"),
        ("/auth/login", "post"),
        ("/auth/logout", "post"),
        ("/auth/refresh", "post"),
        ("/auth/validate", "get"),
        ("/auth/keys", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/auth/forgot-password", "post"),
        ("/auth/reset-password", "post"),
        ("/auth/mfa/setup", "post"),
        ("/auth/mfa/confirm", "post"),
        ("/auth/mfa/verify", "post"),
        ("/auth/mfa/recovery-verify", "post"),
        ("/auth/mfa/disable", "post"),
        ("/auth/mfa/recovery-codes", "post"),
        ("/auth/mfa/recovery-codes/regenerate", "post"),
        ("/auth/passkeys/register-challenge", "post"),
        ("/auth/passkeys/register", "post"),
        ("/auth/passkeys/login-challenge", "post"),
        ("/auth/passkeys/login", "post"),
        ("/auth/passkeys", "get"),
        ("/auth/passkeys/{passkey_id}", "delete"),
        ("/auth/{provider}/login", "get"),
        ("/auth/{provider}/link", "get"),
        ("/auth/{provider}/callback", "get"),
        ("/auth/providers/{provider}", "delete"),
        ("/auth/providers", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    for (path, item) in paths {
        for method in ["post", "delete"] {
            if let Some(operation) = item.get(method) {
                assert!(
                    operation["responses"].get("403").is_some(),
                    "{method} {path} does not document forbidden_origin"
                );
            }
        }
    }
    let login_ok = &paths["/auth/login"]["post"]["responses"]["200"]["content"]["application/json"];
    assert_eq!(
        login_ok["schema"]["$ref"], "#/components/schemas/SignInResponse",
        "login answers either shape"
    );
    let shapes = &doc.body["components"]["schemas"]["SignInResponse"]["oneOf"];
    assert_eq!(shapes.as_array().map(Vec::len), Some(2), "{shapes}");
    let docs = app.call(TestRequest::get().uri("/docs")).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.text.contains("<html") && docs.text.contains("/auth/login"));
    assert!(
        docs.text.contains(r#"integrity="sha384-"#),
        "the CDN script is pinned"
    );
    let policy = docs.headers.get("content-security-policy").unwrap();
    assert!(policy.to_str().unwrap().contains("connect-src 'none'"));
}

async fn metrics_count_requests_by_route(app: TestApp) {
    app.call(TestRequest::get().uri("/healthz")).await;
    app.login(&unique_email(), "whatever password").await;
    let metrics = app.call(TestRequest::get().uri("/metrics")).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .text
            .contains(r#"authd_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains(r#"authd_logins_total{outcome="invalid_credentials"} 1"#)
    );
}

async fn unknown_routes_and_wrong_methods_get_json_errors(app: TestApp) {
    let missing = app.call(TestRequest::get().uri("/no/such/route")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error(), "not_found");
    let wrong_method = app.call(TestRequest::get().uri("/auth/login")).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error(), "method_not_allowed");
    assert_eq!(wrong_method.headers.get(header::ALLOW).unwrap(), "POST");
    let wrong_read = app.call(TestRequest::put().uri("/healthz")).await;
    assert_eq!(wrong_read.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_read.headers.get(header::ALLOW).unwrap(), "GET, HEAD");
    let wrong_delete = app
        .call(TestRequest::post().uri("/auth/providers/github"))
        .await;
    assert_eq!(wrong_delete.headers.get(header::ALLOW).unwrap(), "DELETE");
}

async fn reads_answer_head_too(app: TestApp) {
    for path in [
        "/healthz",
        "/readyz",
        "/auth/keys",
        "/openapi.json",
        "/docs",
    ] {
        let head = app
            .call(TestRequest::default().method(Method::HEAD).uri(path))
            .await;
        assert_eq!(head.status, StatusCode::OK, "HEAD {path}");
    }
    let anonymous = app
        .call(
            TestRequest::default()
                .method(Method::HEAD)
                .uri("/auth/validate"),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn the_outbox_counts_are_only_on_a_metrics_listener_of_its_own(app: TestApp) {
    let public = app.call(TestRequest::get().uri("/metrics")).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(
        !public.text.contains("authd_email_outbox"),
        "the outbox moves when a reset is asked for an existing account: not on a public listener"
    );

    let mut settings = crate::helpers::test_settings(&app.db);
    settings.server.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    let apart = app
        .reconfigured(|s| s.server.metrics_bind = settings.server.metrics_bind)
        .await;
    let on_api = apart.call(TestRequest::get().uri("/metrics")).await;
    assert_eq!(on_api.status, StatusCode::NOT_FOUND);

    let (state, _worker) =
        authd::startup::build_state(&settings, std::sync::Arc::new(apart.clock.clone()))
            .await
            .unwrap();
    let metrics = actix_web::test::init_service(authd::startup::metrics_app(
        actix_web::web::Data::new(state),
    ))
    .await;
    let response =
        actix_web::test::call_service(&metrics, TestRequest::get().uri("/metrics").to_request())
            .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = actix_web::test::read_body(response).await;
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("authd_email_outbox{state=\"pending\"}"),
        "{text}"
    );
}
