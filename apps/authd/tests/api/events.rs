//! The security log through the HTTP API: the events the session flows record, read back through
//! `GET /auth/events`, paged, and never holding a secret.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::{PASSWORD, TestApp, bearer, unique_email};
use crate::mfa::totp;

api_tests!(
    the_session_flows_are_recorded_and_read_back_without_secrets,
    the_log_is_paged_newest_first_and_checks_its_query,
    mfa_changes_are_recorded,
    a_lock_out_is_recorded_once,
);

/// The caller's whole log, newest first.
async fn log_of(app: &TestApp, token: &str) -> Vec<Value> {
    let page = app.get_as("/auth/events?limit=100", token).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    page.body["events"].as_array().unwrap().clone()
}

fn of_type<'a>(log: &'a [Value], kind: &str) -> Vec<&'a Value> {
    log.iter().filter(|e| e["type"] == kind).collect()
}

async fn the_session_flows_are_recorded_and_read_back_without_secrets(app: TestApp) {
    let email = unique_email();
    let signed_up = app.register(&email).await;
    let token = signed_up.access_token();
    let wrong = app.login(&email, "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    // TOTP on, then a sign-in with a wrong and a right code.
    let setup = app.post_as("/auth/mfa/setup", &token, json!({})).await;
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    let confirm_code = totp(&secret, app.now_unix());
    app.post_as("/auth/mfa/confirm", &token, json!({"code": confirm_code}))
        .await;
    app.clock.advance(Duration::seconds(30));
    let pending = app.login(&email, PASSWORD).await.body["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong_code = app
        .post_as("/auth/mfa/verify", &pending, json!({"code": "000000"}))
        .await;
    assert_eq!(wrong_code.status, StatusCode::UNAUTHORIZED);
    let code = totp(&secret, app.now_unix());
    let full = app
        .post_as("/auth/mfa/verify", &pending, json!({"code": code}))
        .await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.text);

    // Re-authenticate, reuse a refresh token, end a session, end the others, sign out.
    app.post_as(
        "/auth/reauthenticate",
        &token,
        json!({"password": PASSWORD}),
    )
    .await;
    let refreshed = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": full.refresh_token()}),
        )
        .await;
    let reused = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": full.refresh_token()}),
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    let spare = app.login(&email, PASSWORD).await;
    app.clock.advance(Duration::seconds(30));
    let spare = app
        .post_as(
            "/auth/mfa/verify",
            spare.body["mfa_token"].as_str().unwrap(),
            json!({"code": totp(&secret, app.now_unix())}),
        )
        .await;
    assert_eq!(spare.status, StatusCode::OK, "{}", spare.text);
    let revoke_others = app
        .post_as("/auth/sessions/revoke-others", &token, json!({}))
        .await;
    assert_eq!(
        revoke_others.status,
        StatusCode::OK,
        "{}",
        revoke_others.text
    );

    let log = log_of(&app, &token).await;
    let first_sign_in = of_type(&log, "signed_in");
    assert!(
        first_sign_in
            .iter()
            .any(|e| e["detail"] == json!({"method": "password", "mfa": false})),
        "{log:#?}"
    );
    assert!(
        first_sign_in
            .iter()
            .any(|e| e["detail"] == json!({"method": "password", "mfa": true})),
        "{log:#?}"
    );
    assert_eq!(
        of_type(&log, "sign_in_failed")[0]["detail"],
        json!({"method": "password"})
    );
    assert_eq!(of_type(&log, "mfa_failed").len(), 1);
    assert_eq!(
        of_type(&log, "reauthenticated")[0]["detail"],
        json!({"method": "password"})
    );
    assert_eq!(of_type(&log, "refresh_token_reused").len(), 1);
    let revoked = of_type(&log, "session_revoked");
    assert_eq!(revoked[0]["detail"]["others"], true);
    assert!(revoked[0]["detail"]["count"].as_u64().unwrap() >= 1);
    for event in &log {
        assert_eq!(event["ip"], app.peer.ip().to_string());
        let mut fields: Vec<&String> = event.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(fields, ["at", "detail", "id", "ip", "type", "user_agent"]);
    }

    let logout = app
        .call(
            TestRequest::post()
                .uri("/auth/logout")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(logout.status, StatusCode::OK);
    let after = app.login(&email, PASSWORD).await.body["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(Duration::seconds(30));
    let last = app
        .post_as(
            "/auth/mfa/verify",
            &after,
            json!({"code": totp(&secret, app.now_unix())}),
        )
        .await;
    assert_eq!(last.status, StatusCode::OK, "{}", last.text);
    let everything = app
        .get_as("/auth/events?limit=100", &last.access_token())
        .await;
    assert_eq!(
        of_type(everything.body["events"].as_array().unwrap(), "signed_out").len(),
        1
    );

    // Nothing secret in any event: no password, code, secret or token.
    let text = everything.text;
    for secret_value in [
        PASSWORD.to_owned(),
        "not the password".to_owned(),
        secret.clone(),
        code,
        confirm_code,
        token,
        full.refresh_token(),
        refreshed.refresh_token(),
        pending,
    ] {
        assert!(
            !text.contains(&secret_value),
            "an event holds {secret_value}"
        );
    }
}

async fn the_log_is_paged_newest_first_and_checks_its_query(app: TestApp) {
    let email = unique_email();
    let token = app.register(&email).await.access_token();
    // Signing up records two events (signed_up, signed_in); three sign-ins make five.
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(1));
        app.login(&email, PASSWORD).await;
    }
    let first = app.get_as("/auth/events?limit=2", &token).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let events = first.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events[0]["at"].as_str() > events[1]["at"].as_str(),
        "newest first"
    );
    let next = first.body["next"].as_str().unwrap();
    let second = app
        .get_as(&format!("/auth/events?limit=2&before={next}"), &token)
        .await;
    let older = second.body["events"].as_array().unwrap();
    assert_eq!(older.len(), 2);
    assert!(older[0]["at"].as_str() < events[1]["at"].as_str());
    let third = app
        .get_as(
            &format!(
                "/auth/events?limit=2&before={}",
                second.body["next"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(third.body["events"].as_array().unwrap().len(), 1);
    assert_eq!(third.body["next"], Value::Null);

    // A stranger holding this cursor sees only their own log.
    let stranger = app.register(&unique_email()).await.access_token();
    let theirs = app
        .get_as(&format!("/auth/events?before={next}"), &stranger)
        .await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert_eq!(
        theirs.body["events"],
        json!([]),
        "their only event is newer than the cursor, and the cursor's owner's events are not theirs"
    );

    for query in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "before=garbage",
        "before=1.2",
    ] {
        let refused = app.get_as(&format!("/auth/events?{query}"), &token).await;
        assert_eq!(
            (refused.status, refused.error()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{query}"
        );
    }
    let anonymous = app.call(TestRequest::get().uri("/auth/events")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn mfa_changes_are_recorded(app: TestApp) {
    let email = unique_email();
    let token = app.register(&email).await.access_token();
    let setup = app.post_as("/auth/mfa/setup", &token, json!({})).await;
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    let confirmed = app
        .post_as(
            "/auth/mfa/confirm",
            &token,
            json!({"code": totp(&secret, app.now_unix())}),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    let renewed = app
        .post_as("/auth/mfa/recovery-codes/regenerate", &token, json!({}))
        .await;
    let recovery = renewed.body["recovery_codes"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let pending = app.login(&email, PASSWORD).await.body["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let full = app
        .post_as(
            "/auth/mfa/recovery-verify",
            &pending,
            json!({"code": recovery}),
        )
        .await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.text);
    app.clock.advance(Duration::seconds(30));
    let disabled = app
        .post_as(
            "/auth/mfa/disable",
            &token,
            json!({"code": totp(&secret, app.now_unix())}),
        )
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);

    let everything = app.get_as("/auth/events?limit=100", &token).await;
    let log = everything.body["events"].as_array().unwrap();
    for kind in [
        "mfa_enabled",
        "recovery_codes_regenerated",
        "recovery_code_used",
        "mfa_disabled",
    ] {
        assert_eq!(of_type(log, kind).len(), 1, "{kind} in {log:#?}");
    }
    assert!(
        !everything.text.contains(&recovery),
        "a recovery code in the log"
    );
    assert!(
        !everything.text.contains(&secret),
        "the TOTP secret in the log"
    );
}

async fn a_lock_out_is_recorded_once(app: TestApp) {
    let email = unique_email();
    app.register(&email).await;
    // The per-account limit is 10 failures in 15 minutes by default: the 11th attempt locks out.
    for _ in 0..13 {
        app.login(&email, "not the password").await;
    }
    app.clock.advance(Duration::minutes(16));
    let token = app.login(&email, PASSWORD).await.access_token();
    let log = log_of(&app, &token).await;
    assert_eq!(of_type(&log, "locked_out").len(), 1, "{log:#?}");
    assert_eq!(
        of_type(&log, "sign_in_failed").len(),
        10,
        "only checked passwords are failures"
    );
    assert_eq!(
        of_type(&log, "signed_up")[0]["detail"],
        json!({"method": "password"})
    );
}
