//! Step-up and the sessions a user can see and end, through the HTTP API: re-authentication by password
//! (the code and passkey ways are in `mfa.rs` and `passkeys.rs`), the 403 on a stale session, listing and
//! revoking sessions (on a second instance too), and the absolute session lifetime.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::test::TestRequest;
use authd_kernel::Clock as _;
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{PASSWORD, TestApp, TestResponse, bearer, nonzero, unique_email};

api_tests!(
    a_fresh_sign_in_needs_no_step_up_and_a_stale_one_does_until_it_reauthenticates,
    reauthentication_refuses_wrong_missing_and_double_proofs,
    failed_reauthentications_count_toward_the_login_limit,
    sessions_are_listed_with_their_client_and_the_current_one_marked,
    revoking_a_session_ends_its_tokens_at_once_on_every_instance,
    revoking_the_current_session_clears_the_cookies,
    another_users_or_a_malformed_session_id_is_refused,
    revoking_the_others_keeps_only_the_current_session,
    a_session_refreshed_every_minute_ends_at_its_absolute_lifetime,
);

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";

impl TestApp {
    pub(crate) async fn post_as(&self, path: &str, token: &str, body: Value) -> TestResponse {
        self.call(
            TestRequest::post()
                .uri(path)
                .insert_header(bearer(token))
                .set_json(body),
        )
        .await
    }

    pub(crate) async fn get_as(&self, path: &str, token: &str) -> TestResponse {
        self.call(TestRequest::get().uri(path).insert_header(bearer(token)))
            .await
    }

    async fn delete_as(&self, path: &str, token: &str) -> TestResponse {
        self.call(TestRequest::delete().uri(path).insert_header(bearer(token)))
            .await
    }

    /// Signs in with the password from a browser that says it is Firefox; the answer.
    async fn login_from_firefox(&self, email: &str) -> TestResponse {
        let response = self
            .call(
                TestRequest::post()
                    .uri("/auth/login")
                    .insert_header((header::USER_AGENT, FIREFOX))
                    .set_json(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        response
    }
}

/// The id of the session `token` belongs to, as its own listing marks it.
async fn current_id(app: &TestApp, token: &str) -> String {
    let list = app.get_as("/auth/sessions", token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    list.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .and_then(|s| s["id"].as_str())
        .unwrap()
        .to_owned()
}

async fn a_fresh_sign_in_needs_no_step_up_and_a_stale_one_does_until_it_reauthenticates(
    app: TestApp,
) {
    let session = app.register(&unique_email()).await;
    let token = session.access_token();
    let fresh = app.post_as("/auth/mfa/setup", &token, json!({})).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);

    // Eleven minutes later the access token (refreshed) still works, but not for a credential change.
    app.clock.advance(Duration::minutes(11));
    let refreshed = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
    let token = refreshed.access_token();
    let stale = app.post_as("/auth/mfa/setup", &token, json!({})).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN, "{}", stale.text);
    assert_eq!(stale.error(), "reauth_required");
    assert_eq!(app.validate_bearer(&token).await.status, StatusCode::OK);

    let proven = app
        .post_as(
            "/auth/reauthenticate",
            &token,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(proven.status, StatusCode::OK, "{}", proven.text);
    assert_eq!(proven.body["status"], "reauthenticated");
    assert_eq!(
        proven.body["authenticated_at"],
        authd::api::rfc3339(app.clock.now())
    );
    let again = app.post_as("/auth/mfa/setup", &token, json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
}

async fn reauthentication_refuses_wrong_missing_and_double_proofs(app: TestApp) {
    let token = app.register(&unique_email()).await.access_token();
    let cases = [
        (
            json!({"password": "not it"}),
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            json!({"password": PASSWORD, "code": "123456"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"code": "123456"}),
            StatusCode::BAD_REQUEST,
            "mfa_not_enabled",
        ),
        (
            json!({"passkey": {"id": "x"}}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"pasword": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (body, status, code) in cases {
        let answer = app
            .post_as("/auth/reauthenticate", &token, body.clone())
            .await;
        assert_eq!((answer.status, answer.error()), (status, code), "{body}");
    }
    let anonymous = app
        .post_json("/auth/reauthenticate", json!({"password": PASSWORD}))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn failed_reauthentications_count_toward_the_login_limit(app: TestApp) {
    let email = unique_email();
    let token = app.register(&email).await.access_token();
    for _ in 0..10 {
        let wrong = app
            .post_as(
                "/auth/reauthenticate",
                &token,
                json!({"password": "not it"}),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text);
    }
    let limited = app
        .post_as(
            "/auth/reauthenticate",
            &token,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.text
    );
    assert!(limited.headers.get(header::RETRY_AFTER).is_some());
    // The account's login limit: the same count stops password sign-in too.
    let login = app.login(&email, PASSWORD).await;
    assert_eq!(
        login.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        login.text
    );
}

async fn sessions_are_listed_with_their_client_and_the_current_one_marked(app: TestApp) {
    let email = unique_email();
    let first = app.register(&email).await.access_token();
    app.clock.advance(Duration::minutes(1));
    let second = app.login_from_firefox(&email).await.access_token();
    let list = app.get_as("/auth/sessions", &second).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let sessions = list.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{}", list.text);
    let (newest, oldest) = (&sessions[0], &sessions[1]);
    assert_eq!(newest["current"], true);
    assert_eq!(oldest["current"], false);
    assert_eq!(newest["user_agent"], FIREFOX);
    assert_eq!(newest["ip"], app.peer.ip().to_string());
    assert_eq!(newest["mfa"], "not_enrolled");
    assert_eq!(newest["created_at"], newest["last_used_at"]);
    let mut fields: Vec<&String> = newest.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "created_at",
            "current",
            "expires_at",
            "id",
            "ip",
            "last_used_at",
            "mfa",
            "user_agent"
        ]
    );
    assert_eq!(
        oldest["user_agent"],
        Value::Null,
        "the test client sent none"
    );
    let from_first = app.get_as("/auth/sessions", &first).await;
    assert_eq!(from_first.body["sessions"][1]["current"], true);
}

async fn revoking_a_session_ends_its_tokens_at_once_on_every_instance(app: TestApp) {
    let email = unique_email();
    let laptop = app.register(&email).await;
    let phone = app.login(&email, PASSWORD).await;
    let second_instance = app.reconfigured(|_| {}).await;
    let phone_id = current_id(&app, &phone.access_token()).await;

    let revoked = app
        .delete_as(
            &format!("/auth/sessions/{phone_id}"),
            &laptop.access_token(),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.body, json!({"status": "revoked"}));
    assert!(
        revoked.cookie("access_token").is_none(),
        "not the current session"
    );
    for instance in [&app, &second_instance] {
        let validated = instance.validate_bearer(&phone.access_token()).await;
        assert_eq!(validated.status, StatusCode::UNAUTHORIZED);
        let refreshed = instance
            .post_json(
                "/auth/refresh",
                json!({"refresh_token": phone.refresh_token()}),
            )
            .await;
        assert_eq!(
            refreshed.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            refreshed.text
        );
    }
    assert_eq!(
        app.validate_bearer(&laptop.access_token()).await.status,
        StatusCode::OK
    );
    let again = app
        .delete_as(
            &format!("/auth/sessions/{phone_id}"),
            &laptop.access_token(),
        )
        .await;
    assert_eq!(
        (again.status, again.error()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

async fn revoking_the_current_session_clears_the_cookies(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let token = session.access_token();
    let id = current_id(&app, &token).await;
    let revoked = app.delete_as(&format!("/auth/sessions/{id}"), &token).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    for name in ["access_token", "refresh_token"] {
        let cookie = revoked.cookie(name).unwrap();
        assert_eq!(
            (cookie.value(), cookie.max_age()),
            ("", Some(actix_web::cookie::time::Duration::ZERO))
        );
    }
    assert_eq!(
        app.validate_bearer(&token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn another_users_or_a_malformed_session_id_is_refused(app: TestApp) {
    let ada = app.register(&unique_email()).await.access_token();
    let eve = app.register(&unique_email()).await.access_token();
    let adas = current_id(&app, &ada).await;
    let foreign = app.delete_as(&format!("/auth/sessions/{adas}"), &eve).await;
    assert_eq!(
        (foreign.status, foreign.error()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert_eq!(app.validate_bearer(&ada).await.status, StatusCode::OK);
    let unknown = app
        .delete_as(&format!("/auth/sessions/{}", uuid::Uuid::new_v4()), &eve)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = app.delete_as("/auth/sessions/not-a-uuid", &eve).await;
    assert_eq!(
        (malformed.status, malformed.error()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    let anonymous = app.call(TestRequest::get().uri("/auth/sessions")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn revoking_the_others_keeps_only_the_current_session(app: TestApp) {
    let email = unique_email();
    let current = app.register(&email).await.access_token();
    let others: Vec<TestResponse> = [
        app.login(&email, PASSWORD).await,
        app.login(&email, PASSWORD).await,
    ]
    .into();
    let stranger = app.register(&unique_email()).await.access_token();
    let revoked = app
        .post_as("/auth/sessions/revoke-others", &current, json!({}))
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.body, json!({"status": "revoked", "revoked": 2}));
    for other in &others {
        assert_eq!(
            app.validate_bearer(&other.access_token()).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(app.validate_bearer(&current).await.status, StatusCode::OK);
    assert_eq!(app.validate_bearer(&stranger).await.status, StatusCode::OK);
    let list = app.get_as("/auth/sessions", &current).await;
    assert_eq!(list.body["sessions"].as_array().unwrap().len(), 1);
    let metrics = app.call(TestRequest::get().uri("/metrics")).await;
    assert!(
        metrics.text.contains("authd_sessions_revoked_total"),
        "{}",
        metrics.text
    );
}

async fn a_session_refreshed_every_minute_ends_at_its_absolute_lifetime(app: TestApp) {
    let app = app
        .reconfigured(|s| s.tokens.session_max_lifetime_secs = nonzero(3600))
        .await;
    let signed_in = app.register(&unique_email()).await;
    let first = signed_in.cookie("refresh_token").unwrap();
    assert_eq!(
        first.max_age(),
        Some(actix_web::cookie::time::Duration::hours(1)),
        "the cookie does not outlive the session"
    );
    let mut refresh = signed_in.refresh_token();
    for minute in 1..=59 {
        app.clock.advance(Duration::minutes(1));
        let next = app
            .post_json("/auth/refresh", json!({"refresh_token": refresh}))
            .await;
        assert_eq!(
            next.status,
            StatusCode::OK,
            "minute {minute}: {}",
            next.text
        );
        let remaining = 3600 - minute * 60;
        assert!(next.body["expires_in"].as_i64().unwrap() <= remaining);
        let cookie = next.cookie("refresh_token").unwrap();
        assert_eq!(
            cookie.max_age(),
            Some(actix_web::cookie::time::Duration::seconds(remaining))
        );
        refresh = next.refresh_token();
    }
    app.clock.advance(Duration::minutes(1));
    let ended = app
        .post_json("/auth/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(ended.status, StatusCode::UNAUTHORIZED, "{}", ended.text);
    assert_eq!(ended.error(), "invalid_token");
}
