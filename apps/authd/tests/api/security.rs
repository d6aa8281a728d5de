//! CSRF origin checks, CORS, and state that must survive a restart or be shared by instances.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::test::TestRequest;
use actix_web::web;

use std::sync::Arc;

use authd::startup::build_state;
use authd_kernel::{SealingKey, Secret, SystemClock};
use authd_session::ports::SigningKeyRepository as _;
use authd_session::{KeyId, KeyRing, StoredSigningKey};
use authd_store::testing::TestDatabase;

use crate::helpers::{FRONTEND, PASSWORD, TestApp, bearer, test_settings, unique_email};

api_tests!(
    every_answer_carries_the_security_headers_and_hsts_behind_tls,
    cookie_authenticated_writes_from_a_foreign_origin_are_refused,
    requests_without_cookies_are_not_subject_to_the_origin_check,
    cors_answers_allowed_origins_only,
    tokens_survive_a_restart_and_work_on_a_second_instance,
    a_trickled_body_times_out_with_408,
    a_cross_site_form_cannot_sign_a_browser_into_another_account,
);

/// Needs a database no app has started on yet (the first start decides how the key is sealed).
mod the_stored_signing_key_is_sealed {
    use std::sync::Arc;

    use authd_store::testing;

    #[actix_web::test]
    async fn sqlite() {
        super::the_stored_signing_key_is_sealed_with_the_encryption_key(
            Arc::new(testing::sqlite()),
        )
        .await;
    }

    #[actix_web::test]
    async fn postgres() {
        let Some(db) = testing::postgres_private() else {
            return;
        };
        super::the_stored_signing_key_is_sealed_with_the_encryption_key(Arc::new(db)).await;
    }
}

async fn cookie_authenticated_writes_from_a_foreign_origin_are_refused(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let cookie = session.cookie("access_token").unwrap();
    let forged = app
        .call(
            TestRequest::post()
                .uri("/auth/logout")
                .cookie(cookie.clone())
                .insert_header((header::ORIGIN, "https://evil.example")),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(forged.error(), "forbidden_origin");
    assert_eq!(
        app.validate_bearer(&session.access_token()).await.status,
        StatusCode::OK,
        "the session was touched"
    );

    let allowed = app
        .call(
            TestRequest::post()
                .uri("/auth/logout")
                .cookie(cookie)
                .insert_header((header::ORIGIN, FRONTEND)),
        )
        .await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(
        app.validate_bearer(&session.access_token()).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn requests_without_cookies_are_not_subject_to_the_origin_check(app: TestApp) {
    let email = unique_email();
    app.register(&email).await;
    let response = app
        .call(
            TestRequest::post()
                .uri("/auth/login")
                .insert_header((header::ORIGIN, "https://elsewhere.example"))
                .set_json(serde_json::json!({"email": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        response
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
}

async fn cors_answers_allowed_origins_only(app: TestApp) {
    let preflight = |origin: &'static str| {
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/auth/login")
            .insert_header((header::ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type"))
    };
    let allowed = app.call(preflight(FRONTEND)).await;
    assert!(allowed.status.is_success(), "{:?}", allowed.status);
    assert_eq!(
        allowed
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        FRONTEND
    );
    assert_eq!(
        allowed
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
            .unwrap(),
        "true"
    );

    let foreign = app.call(preflight("https://evil.example")).await;
    assert_no_cors_headers(&foreign.headers);
    assert_eq!(foreign.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(foreign.error(), "method_not_allowed", "a JSON error body");
    let foreign_read = app
        .call(
            TestRequest::get()
                .uri("/auth/keys")
                .insert_header((header::ORIGIN, "https://evil.example")),
        )
        .await;
    assert_eq!(foreign_read.status, StatusCode::OK);
    assert_no_cors_headers(&foreign_read.headers);

    let simple = app
        .call(
            TestRequest::get()
                .uri("/healthz")
                .insert_header((header::ORIGIN, FRONTEND)),
        )
        .await;
    assert_eq!(
        simple
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .unwrap(),
        FRONTEND
    );
}

fn assert_no_cors_headers(headers: &header::HeaderMap) {
    let cors: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(
        cors.is_empty(),
        "CORS headers for a foreign origin: {cors:?}"
    );
}

async fn tokens_survive_a_restart_and_work_on_a_second_instance(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let second = app.reconfigured(|_| {}).await;
    let validated = second.validate_bearer(&session.access_token()).await;
    assert_eq!(validated.status, StatusCode::OK, "{}", validated.text);
    let refreshed = second
        .post_json(
            "/auth/refresh",
            serde_json::json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);
    // Reuse detected on the first instance, for a rotation done on the second.
    let replay = app
        .post_json(
            "/auth/refresh",
            serde_json::json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        second
            .validate_bearer(&refreshed.access_token())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let _ = bearer;
}

/// A client that sends headers and then only part of its body gets 408 once the body timeout passes,
/// instead of holding the request (and its connection) open for ever.
async fn a_trickled_body_times_out_with_408(app: TestApp) {
    let app = app.reconfigured(|s| s.server.body_timeout_secs = 1).await;
    let (mut sender, payload) = actix_http::h1::Payload::create(false);
    sender.feed_data(web::Bytes::from_static(br#"{"email":"#));
    let request = TestRequest::post()
        .uri("/auth/login")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CONTENT_LENGTH, "100"))
        .to_request();
    let (request, _) = request.replace_payload(actix_http::Payload::from(payload));
    let response = app.send(request).await;
    assert_eq!(
        response.status,
        StatusCode::REQUEST_TIMEOUT,
        "{}",
        response.text
    );
    assert_eq!(response.error(), "request_timeout");
    drop(sender);
}

/// The generated signing key is stored sealed, not in clear; the tokens it signs verify on a restart with
/// the same encryption key, and an instance given another encryption key refuses to start (naming the
/// signing key) rather than sign with a key it cannot read.
async fn the_stored_signing_key_is_sealed_with_the_encryption_key(db: Arc<TestDatabase>) {
    let key = "5e".repeat(32);
    let mut settings = test_settings(&db);
    settings.secrets.encryption_key = SealingKey::from_hex(&key);
    let first = TestApp::on(db.clone(), |s| *s = settings.clone()).await;
    let session = first.register(&unique_email()).await;

    let probe = StoredSigningKey {
        kid: KeyId(99),
        private_key: Secret::new("not stored: keys exist already"),
        active: true,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
    };
    let stored = first.store.load_or_insert(&probe).await.unwrap();
    assert_eq!(stored.len(), 1);
    let sealed = stored[0].private_key.expose();
    assert!(sealed.starts_with("sealed:"), "stored in clear");
    let ring = KeyRing::from_stored(&stored, &SealingKey::from_hex(&key).unwrap()).unwrap();
    assert!(!sealed.contains(ring.active().private_key_hex().expose()));

    let restarted = TestApp::on(db.clone(), |s| *s = settings.clone()).await;
    let validated = restarted.validate_bearer(&session.access_token()).await;
    assert_eq!(validated.status, StatusCode::OK, "{}", validated.text);

    settings.secrets.encryption_key = SealingKey::from_hex(&"a7".repeat(32));
    let Err(refused) = build_state(&settings, Arc::new(SystemClock)).await else {
        panic!("started with another encryption key");
    };
    let message = refused.to_string();
    assert!(message.contains("signing key"), "{message}");
}

/// Login CSRF: a foreign page's HTML form (text/plain, no cookies, no preflight) posting the attacker's
/// own refresh token must not get cookies set in the visitor's browser.
async fn a_cross_site_form_cannot_sign_a_browser_into_another_account(app: TestApp) {
    let attacker = app.register(&unique_email()).await;
    let form = format!(
        r#"{{"refresh_token":"{}","x":"="}}"#,
        attacker.refresh_token()
    );
    let response = app
        .call(
            TestRequest::post()
                .uri("/auth/refresh")
                .insert_header((header::CONTENT_TYPE, "text/plain"))
                .insert_header((header::ORIGIN, "https://evil.example"))
                .set_payload(form),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    assert_eq!(response.error(), "invalid_request");
    assert!(response.cookie("access_token").is_none());
    let empty = app
        .call(
            TestRequest::post()
                .uri("/auth/refresh")
                .insert_header((header::CONTENT_TYPE, "text/plain")),
        )
        .await;
    assert_eq!(
        empty.status,
        StatusCode::UNAUTHORIZED,
        "an empty body still reads the cookie"
    );
}

async fn every_answer_carries_the_security_headers_and_hsts_behind_tls(app: TestApp) {
    let header_of = |response: &crate::helpers::TestResponse, name: header::HeaderName| {
        response
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for path in ["/healthz", "/no/such/route", "/auth/validate"] {
        let answer = app.call(TestRequest::get().uri(path)).await;
        assert_eq!(
            header_of(&answer, header::STRICT_TRANSPORT_SECURITY).as_deref(),
            Some("max-age=31536000; includeSubDomains"),
            "{path}"
        );
        assert_eq!(
            header_of(&answer, header::CACHE_CONTROL).as_deref(),
            Some("no-store"),
            "{path}"
        );
        assert_eq!(
            header_of(&answer, header::X_CONTENT_TYPE_OPTIONS).as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header_of(&answer, header::REFERRER_POLICY).as_deref(),
            Some("no-referrer"),
            "{path}"
        );
    }
    for tweak in [
        (|s: &mut authd::config::Settings| s.cookies.secure = false) as fn(&mut _),
        |s: &mut authd::config::Settings| s.server.hsts_max_age_secs = 0,
    ] {
        let plain = app.reconfigured(tweak).await;
        let answer = plain.call(TestRequest::get().uri("/healthz")).await;
        assert!(
            answer
                .headers
                .get(header::STRICT_TRANSPORT_SECURITY)
                .is_none(),
            "no HSTS over plain http or when turned off"
        );
    }
}
