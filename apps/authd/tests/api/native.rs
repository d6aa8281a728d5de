//! Register, login, logout, refresh and validate, as the contract describes them.

use actix_web::cookie::SameSite;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::test::TestRequest;
use authd_identity::Email;
use authd_identity::ports::UserRepository as _;
use serde_json::json;
use time::Duration;

use crate::helpers::{PASSWORD, TestApp, bearer, nonzero, random_peer, unique_email};

api_tests!(
    logging_out_with_an_expired_access_token_still_ends_its_session,
    registering_signs_the_user_in_with_cookies_and_a_personal_workspace,
    registering_a_taken_email_in_any_case_is_refused,
    weak_passwords_are_refused,
    invalid_emails_and_names_are_refused,
    malformed_registration_bodies_get_400_and_write_nothing,
    login_accepts_the_right_password_whatever_the_email_case,
    wrong_password_and_unknown_email_get_the_same_answer,
    malformed_login_bodies_get_400,
    repeated_failures_lock_the_account_for_known_and_unknown_emails_alike,
    concurrent_guesses_cannot_outrun_the_account_limit,
    too_many_attempts_from_one_ip_are_refused,
    behind_a_trusted_proxy_the_forwarded_client_is_limited,
    rate_limits_can_be_turned_off,
    logout_revokes_the_session_and_clears_both_cookies,
    logout_is_idempotent,
    logout_works_with_the_cookie_alone,
    refreshing_rotates_the_pair,
    a_reused_refresh_token_revokes_the_session,
    refresh_reads_the_cookie_and_the_body_wins,
    missing_unknown_and_expired_refresh_tokens_are_refused,
    malformed_refresh_bodies_get_400,
    validate_returns_the_user_and_workspaces_by_bearer_or_cookie,
    validate_refuses_missing_garbage_and_expired_tokens,
    access_tokens_from_a_revoked_session_stop_working,
);

async fn registering_signs_the_user_in_with_cookies_and_a_personal_workspace(app: TestApp) {
    let email = unique_email();
    let response = app
        .post_json("/auth/register", json!({"email": format!("  {}  ", email.to_uppercase()), "name": " Ada ", "password": PASSWORD}))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let body = &response.body;
    assert_eq!(body["status"], "authenticated");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], email);
    assert_eq!(body["user"]["name"], "Ada");
    assert_eq!(body["user"]["has_password"], true);
    assert!(uuid::Uuid::parse_str(body["user"]["id"].as_str().unwrap()).is_ok());
    assert_eq!(response.refresh_token().len(), 43);
    assert_eq!(
        response.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );

    let access = response.cookie("access_token").expect("access cookie");
    assert_eq!(access.value(), response.access_token());
    assert_eq!(access.http_only(), Some(true));
    assert_eq!(access.secure(), Some(true));
    assert_eq!(access.same_site(), Some(SameSite::Lax));
    assert_eq!(access.path(), Some("/"));
    assert_eq!(
        access.max_age(),
        Some(actix_web::cookie::time::Duration::seconds(900))
    );
    let refresh = response.cookie("refresh_token").expect("refresh cookie");
    assert_eq!(refresh.value(), response.refresh_token());
    assert_eq!(refresh.http_only(), Some(true));
    assert_eq!(refresh.secure(), Some(true));
    assert_eq!(refresh.same_site(), Some(SameSite::Strict));
    assert_eq!(refresh.path(), Some("/auth"));

    let validated = app.validate_bearer(&response.access_token()).await;
    assert_eq!(validated.status, StatusCode::OK);
    let workspaces = validated.body["workspaces"].as_array().unwrap();
    assert_eq!(workspaces.len(), 1);
    assert_eq!(workspaces[0]["name"], "Ada's workspace");
    assert_eq!(workspaces[0]["role"], "owner");
    for field in ["created_at", "updated_at"] {
        let at = workspaces[0][field].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).is_ok(),
            "{at}"
        );
    }
}

async fn registering_a_taken_email_in_any_case_is_refused(app: TestApp) {
    let email = unique_email();
    app.register(&email).await;
    let again = app
        .post_json("/auth/register", json!({"email": email.to_uppercase(), "name": "Eve", "password": "another fine passphrase"}))
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.error(), "email_taken");
}

async fn weak_passwords_are_refused(app: TestApp) {
    for password in ["short1!", &"x".repeat(129), "password1", "Qwertyuiop"] {
        let response = app
            .post_json(
                "/auth/register",
                json!({"email": unique_email(), "name": "Ada", "password": password}),
            )
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{password}");
        assert_eq!(response.error(), "weak_password", "{password}");
        assert!(!response.text.contains(password), "the password was echoed");
    }
}

async fn invalid_emails_and_names_are_refused(app: TestApp) {
    for (email, name) in [
        ("not-an-email", "Ada"),
        ("a@b", "Ada"),
        (unique_email().as_str(), "   "),
        (unique_email().as_str(), &"n".repeat(101)),
    ] {
        let response = app
            .post_json(
                "/auth/register",
                json!({"email": email, "name": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{email} {name}");
        assert_eq!(response.error(), "invalid_request");
    }
}

async fn malformed_registration_bodies_get_400_and_write_nothing(app: TestApp) {
    let email = unique_email();
    let cases = [
        TestRequest::post().uri("/auth/register").insert_header(("content-type", "application/json")).set_payload("{not json"),
        TestRequest::post().uri("/auth/register").set_json(json!({"email": email, "name": "Ada"})),
        TestRequest::post().uri("/auth/register").set_json(json!({"email": email, "name": 7, "password": PASSWORD})),
        TestRequest::post().uri("/auth/register").set_json(json!([email, "Ada", PASSWORD])),
        TestRequest::post().uri("/auth/register").set_payload(json!({"email": email, "name": "Ada", "password": PASSWORD}).to_string()),
        TestRequest::post()
            .uri("/auth/register")
            .set_json(json!({"email": email, "name": "Ada", "password": PASSWORD, "padding": "x".repeat(100_000)})),
        TestRequest::post().uri("/auth/register"),
    ];
    for (i, request) in cases.into_iter().enumerate() {
        let response = app.call(request).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "case {i}: {}",
            response.text
        );
        assert_eq!(response.error(), "invalid_request", "case {i}");
        assert!(
            !response.text.contains(PASSWORD),
            "case {i} echoed the password"
        );
    }
    assert!(
        app.store
            .find_by_email(&Email::parse(&email).unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

async fn login_accepts_the_right_password_whatever_the_email_case(app: TestApp) {
    let email = unique_email();
    let registered = app.register(&email).await;
    let response = app
        .login(&format!(" {} ", email.to_uppercase()), PASSWORD)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.body["status"], "authenticated");
    assert_eq!(response.body["user"]["id"], registered.body["user"]["id"]);
    assert!(response.cookie("access_token").is_some());
    assert!(response.cookie("refresh_token").is_some());
    assert_ne!(response.refresh_token(), registered.refresh_token());
}

async fn wrong_password_and_unknown_email_get_the_same_answer(app: TestApp) {
    let email = unique_email();
    app.register(&email).await;
    let wrong = app.login(&email, "not the password at all").await;
    let unknown = app.login(&unique_email(), PASSWORD).await;
    let malformed = app.login("nonsense", PASSWORD).await;
    for response in [&wrong, &unknown, &malformed] {
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(response.error(), "invalid_credentials");
        assert!(response.cookie("access_token").is_none());
    }
    assert_eq!(wrong.body, unknown.body);
}

async fn malformed_login_bodies_get_400(app: TestApp) {
    for body in [
        json!({"email": unique_email()}),
        json!({"email": 1, "password": PASSWORD}),
        json!("x"),
    ] {
        let response = app.post_json("/auth/login", body).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(response.error(), "invalid_request");
    }
}

async fn repeated_failures_lock_the_account_for_known_and_unknown_emails_alike(app: TestApp) {
    let known = unique_email();
    app.register(&known).await;
    let unknown = unique_email();
    for email in [&known, &unknown] {
        for attempt in 0..10 {
            let response = app.login(email, "wrong password here").await;
            assert_eq!(
                response.status,
                StatusCode::UNAUTHORIZED,
                "attempt {attempt}"
            );
        }
        let locked = app.login(email, PASSWORD).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(locked.error(), "rate_limited");
        let retry: u64 = locked
            .headers
            .get(header::RETRY_AFTER)
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
    }
    app.clock.advance(Duration::minutes(15));
    assert_eq!(app.login(&known, PASSWORD).await.status, StatusCode::OK);
}

/// Ten guesses in flight at once against a limit of three: three are checked, seven refused, however the
/// hashing of the first ones interleaves with the others.
async fn concurrent_guesses_cannot_outrun_the_account_limit(app: TestApp) {
    let app = app
        .reconfigured(|s| s.rate_limit.login_failures_per_account = nonzero(3))
        .await;
    let email = unique_email();
    app.register(&email).await;
    let guesses = (0..10).map(|n| {
        let password = format!("wrong guess number {n}");
        let app = &app;
        let email = &email;
        async move { app.login(email, &password).await.status }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((checked, refused), (3, 7), "{statuses:?}");
}

async fn too_many_attempts_from_one_ip_are_refused(app: TestApp) {
    let app = app
        .reconfigured(|s| s.rate_limit.login_per_ip = nonzero(3))
        .await;
    let email = unique_email();
    app.register(&email).await;
    for _ in 0..3 {
        assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);
    }
    let refused = app.login(&email, PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.error(), "rate_limited");
    let elsewhere = app
        .call_from(
            TestRequest::post()
                .uri("/auth/login")
                .set_json(json!({"email": email, "password": PASSWORD})),
            random_peer(),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::OK);
}

async fn behind_a_trusted_proxy_the_forwarded_client_is_limited(app: TestApp) {
    let app = app
        .reconfigured(|s| {
            s.rate_limit.login_per_ip = nonzero(2);
            s.server.trusted_proxies = vec!["10.0.0.0/8".parse().expect("a CIDR")];
        })
        .await;
    let email = unique_email();
    app.register(&email).await;
    let from = |client: &str| {
        TestRequest::post()
            .uri("/auth/login")
            .insert_header(("x-forwarded-for", client.to_owned()))
            .set_json(json!({"email": email, "password": PASSWORD}))
    };
    let client = format!("203.0.113.{}", rand_octet());
    assert_eq!(app.call(from(&client)).await.status, StatusCode::OK);
    assert_eq!(app.call(from(&client)).await.status, StatusCode::OK);
    assert_eq!(
        app.call(from(&client)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let other = format!("198.51.100.{}", rand_octet());
    assert_eq!(app.call(from(&other)).await.status, StatusCode::OK);
}

fn rand_octet() -> u8 {
    uuid::Uuid::new_v4().as_bytes()[0]
}

async fn rate_limits_can_be_turned_off(app: TestApp) {
    let app = app.reconfigured(|s| s.rate_limit.enabled = false).await;
    let email = unique_email();
    app.register(&email).await;
    for _ in 0..12 {
        assert_eq!(
            app.login(&email, "wrong password here").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);
}

async fn logout_revokes_the_session_and_clears_both_cookies(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let token = session.access_token();
    let response = app
        .call(
            TestRequest::post()
                .uri("/auth/logout")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, json!({"status": "logged_out"}));
    for name in ["access_token", "refresh_token"] {
        let cleared = response.cookie(name).expect(name);
        assert_eq!(cleared.value(), "");
        assert_eq!(
            cleared.max_age(),
            Some(actix_web::cookie::time::Duration::ZERO)
        );
    }
    assert_eq!(
        app.validate_bearer(&token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refresh = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
}

async fn logout_is_idempotent(app: TestApp) {
    for request in [
        TestRequest::post().uri("/auth/logout"),
        TestRequest::post()
            .uri("/auth/logout")
            .insert_header(bearer("garbage")),
    ] {
        let response = app.call(request).await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.body["status"], "logged_out");
    }
}

async fn logout_works_with_the_cookie_alone(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let cookie = session.cookie("access_token").unwrap();
    let response = app
        .call(TestRequest::post().uri("/auth/logout").cookie(cookie))
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        app.validate_bearer(&session.access_token()).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn refreshing_rotates_the_pair(app: TestApp) {
    let session = app.register(&unique_email()).await;
    app.clock.advance(Duration::minutes(20));
    let refreshed = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
    assert_eq!(refreshed.body["status"], "authenticated");
    assert_eq!(refreshed.body["user"]["id"], session.body["user"]["id"]);
    assert_ne!(refreshed.refresh_token(), session.refresh_token());
    assert_eq!(
        refreshed.cookie("refresh_token").unwrap().value(),
        refreshed.refresh_token()
    );
    assert_eq!(
        app.validate_bearer(&refreshed.access_token()).await.status,
        StatusCode::OK
    );
    // The first access token expired on its own after 15 minutes.
    assert_eq!(
        app.validate_bearer(&session.access_token()).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_reused_refresh_token_revokes_the_session(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let refreshed = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);

    let replay = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.error(), "invalid_token");
    assert_eq!(
        app.validate_bearer(&refreshed.access_token()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let newest = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": refreshed.refresh_token()}),
        )
        .await;
    assert_eq!(newest.status, StatusCode::UNAUTHORIZED);
}

async fn refresh_reads_the_cookie_and_the_body_wins(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let cookie = session.cookie("refresh_token").unwrap();
    let by_cookie = app
        .call(TestRequest::post().uri("/auth/refresh").cookie(cookie))
        .await;
    assert_eq!(by_cookie.status, StatusCode::OK, "{}", by_cookie.text);

    let stale_cookie = session.cookie("refresh_token").unwrap();
    let body_wins = app
        .call(
            TestRequest::post()
                .uri("/auth/refresh")
                .cookie(stale_cookie)
                .set_json(json!({"refresh_token": by_cookie.refresh_token()})),
        )
        .await;
    assert_eq!(body_wins.status, StatusCode::OK, "{}", body_wins.text);
}

async fn missing_unknown_and_expired_refresh_tokens_are_refused(app: TestApp) {
    for request in [
        TestRequest::post().uri("/auth/refresh"),
        TestRequest::post().uri("/auth/refresh").set_json(json!({})),
        TestRequest::post()
            .uri("/auth/refresh")
            .set_json(json!({"refresh_token": ""})),
        TestRequest::post()
            .uri("/auth/refresh")
            .set_json(json!({"refresh_token": "made-up"})),
    ] {
        let response = app.call(request).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            response.text
        );
        assert_eq!(response.error(), "invalid_token");
    }
    let session = app.register(&unique_email()).await;
    app.clock.advance(Duration::days(30));
    let expired = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
}

async fn malformed_refresh_bodies_get_400(app: TestApp) {
    for payload in ["{", "{\"refresh_token\": 5}", "[1]"] {
        let response = app
            .call(
                TestRequest::post()
                    .uri("/auth/refresh")
                    .insert_header(("content-type", "application/json"))
                    .set_payload(payload),
            )
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{payload}");
        assert_eq!(response.error(), "invalid_request");
    }
}

async fn validate_returns_the_user_and_workspaces_by_bearer_or_cookie(app: TestApp) {
    let email = unique_email();
    let session = app.register(&email).await;
    let by_bearer = app.validate_bearer(&session.access_token()).await;
    assert_eq!(by_bearer.status, StatusCode::OK);
    assert_eq!(by_bearer.body["status"], "active");
    assert_eq!(by_bearer.body["user"], session.body["user"]);
    let cookie = session.cookie("access_token").unwrap();
    let by_cookie = app
        .call(
            TestRequest::get()
                .uri("/auth/validate")
                .cookie(cookie.clone()),
        )
        .await;
    assert_eq!(by_cookie.body, by_bearer.body);
    // The header wins over the cookie.
    let header_wins = app
        .call(
            TestRequest::get()
                .uri("/auth/validate")
                .cookie(cookie)
                .insert_header(bearer("garbage")),
        )
        .await;
    assert_eq!(header_wins.status, StatusCode::UNAUTHORIZED);
}

async fn validate_refuses_missing_garbage_and_expired_tokens(app: TestApp) {
    let missing = app.call(TestRequest::get().uri("/auth/validate")).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.error(), "unauthorized");
    let garbage = app.validate_bearer("definitely-not-a-biscuit").await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    let session = app.register(&unique_email()).await;
    app.clock.advance(Duration::minutes(15));
    let expired = app.validate_bearer(&session.access_token()).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.error(), "unauthorized");
}

async fn access_tokens_from_a_revoked_session_stop_working(app: TestApp) {
    let email = unique_email();
    let first = app.register(&email).await;
    let second = app.login(&email, PASSWORD).await;
    app.call(
        TestRequest::post()
            .uri("/auth/logout")
            .insert_header(bearer(&first.access_token())),
    )
    .await;
    assert_eq!(
        app.validate_bearer(&first.access_token()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.validate_bearer(&second.access_token()).await.status,
        StatusCode::OK,
        "other sessions survive"
    );
}

async fn logging_out_with_an_expired_access_token_still_ends_its_session(app: TestApp) {
    let session = app.register(&unique_email()).await;
    app.clock.advance(Duration::minutes(20));
    assert_eq!(
        app.validate_bearer(&session.access_token()).await.status,
        StatusCode::UNAUTHORIZED,
        "the access token has expired"
    );
    let logout = app
        .call(
            TestRequest::post()
                .uri("/auth/logout")
                .insert_header(bearer(&session.access_token())),
        )
        .await;
    assert_eq!(logout.status, StatusCode::OK, "{}", logout.text);
    let refreshed = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(
        refreshed.status,
        StatusCode::UNAUTHORIZED,
        "the session the expired token named is revoked"
    );
    // A forged token names nothing: logging out with it ends no one's session.
    let other = app.register(&unique_email()).await;
    let forged = format!("{}x", other.access_token());
    app.call(
        TestRequest::post()
            .uri("/auth/logout")
            .insert_header(bearer(&forged)),
    )
    .await;
    assert_eq!(
        app.validate_bearer(&other.access_token()).await.status,
        StatusCode::OK
    );
}
