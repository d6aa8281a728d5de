//! Password reset through a real SMTP server on loopback: request, receive, reset, and everything that must
//! be refused on the way.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::json;
use time::Duration;

use crate::helpers::{PASSWORD, TestApp, bearer, nonzero, random_peer, unique_email};
use crate::smtp::{SmtpServer, closed_port};

api_tests!(
    @alone
    the_whole_reset_flow_works_and_ends_every_session,
    an_unknown_email_is_accepted_alike_and_sends_nothing,
    a_used_token_is_refused,
    an_expired_token_is_refused,
    a_newer_request_supersedes_the_older_token,
    a_weak_new_password_is_refused_and_the_token_survives,
    malformed_reset_bodies_get_400,
    each_address_gets_at_most_three_emails_an_hour,
    too_many_requests_from_one_ip_are_refused,
    a_dead_mail_server_does_not_hold_the_answer_and_the_email_follows_when_it_returns,
);

/// The app delivering to `smtp`, polling the outbox every 50 ms and retrying after 1 s.
async fn with_smtp(app: TestApp, port: u16) -> TestApp {
    app.reconfigured(|s| {
        s.smtp.host = Some("127.0.0.1".into());
        s.smtp.port = Some(port);
        s.smtp.tls = authd::config::SmtpTlsSetting::None;
        s.smtp.from = "Example <no-reply@example.com>".into();
        s.smtp.timeout_secs = nonzero(2);
        s.email.poll_interval_ms = nonzero(50);
        s.email.retry_base_secs = nonzero(1);
    })
    .await
}

/// An app sending through a fresh SMTP server, with a registered user who asked for a reset: the app, the
/// server, the user's email and the token from the email that arrived.
async fn requested(app: TestApp) -> (TestApp, SmtpServer, String, String) {
    let smtp = SmtpServer::start();
    let app = with_smtp(app, smtp.addr.port()).await;
    let email = unique_email();
    app.register(&email).await;
    forgot(&app, &email).await;
    let token = smtp.wait_for(1).await[0].token();
    (app, smtp, email, token)
}

async fn forgot(app: &TestApp, email: &str) {
    let response = app
        .post_json("/auth/forgot-password", json!({"email": email}))
        .await;
    assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.text);
    assert_eq!(response.body, json!({"status": "accepted"}));
}

async fn reset(app: &TestApp, token: &str, new_password: &str) -> crate::helpers::TestResponse {
    app.post_json(
        "/auth/reset-password",
        json!({"token": token, "new_password": new_password}),
    )
    .await
}

async fn the_whole_reset_flow_works_and_ends_every_session(app: TestApp) {
    let smtp = SmtpServer::start();
    let app = with_smtp(app, smtp.addr.port()).await;
    let email = unique_email();
    let session = app.register(&email).await;

    forgot(&app, &email.to_uppercase()).await;
    let received = smtp.wait_for(1).await;
    let mail = &received[0];
    assert_eq!(mail.rcpt_to, std::slice::from_ref(&email));
    assert_eq!(mail.to, email);
    assert_eq!(mail.from, "no-reply@example.com");
    assert_eq!(mail.subject, "Reset your authd password");
    let link = format!(
        "{}/reset-password?token={}",
        crate::helpers::FRONTEND,
        mail.token()
    );
    assert!(mail.text.contains(&link), "{}", mail.text);
    assert!(
        mail.html.contains(&format!("href=\"{link}\"")),
        "{}",
        mail.html
    );

    let done = reset(&app, &mail.token(), "a brand new passphrase").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body, json!({"status": "password_reset"}));

    assert_eq!(
        app.validate_bearer(&session.access_token()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refresh = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": session.refresh_token()}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login(&email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let signed_in = app.login(&email, "a brand new passphrase").await;
    assert_eq!(signed_in.status, StatusCode::OK);

    // The security log: the sign-up, the request, the reset; no token anywhere in it.
    let log = app
        .get_as("/auth/events?limit=100", &signed_in.access_token())
        .await;
    let kinds: Vec<&str> = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for kind in ["signed_up", "password_reset_requested", "password_reset"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(
        !log.text.contains(&mail.token()),
        "the reset token in the log"
    );
}

async fn an_unknown_email_is_accepted_alike_and_sends_nothing(app: TestApp) {
    let smtp = SmtpServer::start();
    let app = with_smtp(app, smtp.addr.port()).await;
    let known = unique_email();
    app.register(&known).await;
    forgot(&app, &unique_email()).await;
    forgot(&app, &known).await;
    let received = smtp.wait_for(1).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(received[0].rcpt_to, [known]);
}

async fn a_used_token_is_refused(app: TestApp) {
    let (app, _smtp, email, token) = requested(app).await;
    assert_eq!(
        reset(&app, &token, "a brand new passphrase").await.status,
        StatusCode::OK
    );
    let again = reset(&app, &token, "another new passphrase").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.error(), "invalid_token");
    assert_eq!(
        app.login(&email, "a brand new passphrase").await.status,
        StatusCode::OK
    );
}

async fn an_expired_token_is_refused(app: TestApp) {
    let (app, _smtp, email, token) = requested(app).await;
    app.clock.advance(Duration::hours(1));
    let expired = reset(&app, &token, "a brand new passphrase").await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert_eq!(expired.error(), "invalid_token");
    assert_eq!(app.login(&email, PASSWORD).await.status, StatusCode::OK);
}

async fn a_newer_request_supersedes_the_older_token(app: TestApp) {
    let (app, smtp, email, old) = requested(app).await;
    forgot(&app, &email).await;
    let new = smtp.wait_for(2).await[1].token();
    let superseded = reset(&app, &old, "a brand new passphrase").await;
    assert_eq!(superseded.status, StatusCode::BAD_REQUEST);
    assert_eq!(superseded.error(), "invalid_token");
    assert_eq!(
        reset(&app, &new, "a brand new passphrase").await.status,
        StatusCode::OK
    );
}

async fn a_weak_new_password_is_refused_and_the_token_survives(app: TestApp) {
    let (app, _smtp, _email, token) = requested(app).await;
    let weak = reset(&app, &token, "password1").await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert_eq!(weak.error(), "weak_password");
    assert_eq!(
        reset(&app, &token, "a brand new passphrase").await.status,
        StatusCode::OK
    );
}

async fn malformed_reset_bodies_get_400(app: TestApp) {
    let cases = [
        ("/auth/forgot-password", json!({})),
        ("/auth/forgot-password", json!({"email": 5})),
        ("/auth/forgot-password", json!({"email": "not-an-email"})),
        ("/auth/reset-password", json!({"token": "x"})),
        (
            "/auth/reset-password",
            json!({"new_password": "a brand new passphrase"}),
        ),
        (
            "/auth/reset-password",
            json!({"token": 1, "new_password": "a brand new passphrase"}),
        ),
    ];
    for (path, body) in cases {
        let response = app.post_json(path, body.clone()).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{path} {body}");
        assert_eq!(response.error(), "invalid_request", "{path} {body}");
    }
    let not_json = app
        .call(
            TestRequest::post()
                .uri("/auth/forgot-password")
                .insert_header(("content-type", "application/json"))
                .set_payload("{"),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    let unknown = reset(&app, "made-up-token", "a brand new passphrase").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.error(), "invalid_token");
}

async fn each_address_gets_at_most_three_emails_an_hour(app: TestApp) {
    let smtp = SmtpServer::start();
    let app = with_smtp(app, smtp.addr.port()).await;
    let email = unique_email();
    app.register(&email).await;
    for _ in 0..4 {
        forgot(&app, &email).await;
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    smtp.wait_for(3).await;
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 3);
    app.clock.advance(Duration::hours(1));
    forgot(&app, &email).await;
    smtp.wait_for(4).await;
}

async fn too_many_requests_from_one_ip_are_refused(app: TestApp) {
    let app = app
        .reconfigured(|s| s.email.reset_per_ip_per_hour = nonzero(2))
        .await;
    for _ in 0..2 {
        forgot(&app, &unique_email()).await;
    }
    let refused = app
        .post_json("/auth/forgot-password", json!({"email": unique_email()}))
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.error(), "rate_limited");
    assert!(refused.headers.get("retry-after").is_some());
    let other_ip = app
        .call_from(
            TestRequest::post()
                .uri("/auth/forgot-password")
                .set_json(json!({"email": unique_email()})),
            random_peer(),
        )
        .await;
    assert_eq!(other_ip.status, StatusCode::ACCEPTED);
    let _ = bearer;
}

async fn a_dead_mail_server_does_not_hold_the_answer_and_the_email_follows_when_it_returns(
    app: TestApp,
) {
    let port = closed_port();
    let app = with_smtp(app, port).await;
    let email = unique_email();
    app.register(&email).await;
    // Nothing listens: the answer comes anyway, and the worker records a failed attempt.
    forgot(&app, &email).await;
    wait_until(|| async { app.store.outbox_stats().await.unwrap().retrying >= 1 }).await;

    let smtp = SmtpServer::start_on_port(port);
    app.clock.advance(Duration::seconds(1));
    let received = smtp.wait_for(1).await;
    assert_eq!(received[0].rcpt_to, std::slice::from_ref(&email));
    assert_eq!(
        reset(&app, &received[0].token(), "a brand new passphrase")
            .await
            .status,
        StatusCode::OK
    );
}

async fn wait_until<F: std::future::Future<Output = bool>>(condition: impl Fn() -> F) {
    for _ in 0..200 {
        if condition().await {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the condition never held");
}
