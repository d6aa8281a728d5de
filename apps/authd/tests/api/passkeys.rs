//! Passkeys through the HTTP API, with a software authenticator producing real signed responses.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::{Value, json};
use time::Duration;

use crate::browser::{Browser, browser};
use crate::helpers::{FRONTEND, PASSWORD, TestApp, TestResponse, bearer, unique_email};

api_tests!(
    a_passkey_registers_and_signs_in_without_a_username,
    a_passkey_works_after_a_restart_and_on_a_second_instance,
    the_options_are_what_browsers_take,
    login_options_do_not_depend_on_the_email,
    a_response_from_another_origin_is_refused,
    a_replayed_assertion_is_refused,
    expired_or_used_challenges_are_refused,
    passkeys_are_listed_and_deleted_by_their_owner_only,
    the_last_way_in_cannot_be_deleted,
    malformed_passkey_bodies_get_400,
    a_verified_passkey_satisfies_mfa,
    a_stolen_stale_token_cannot_add_or_remove_a_passkey_until_a_passkey_reauthenticates,
    another_accounts_passkey_does_not_reauthenticate,
    a_registration_begun_in_a_session_that_ended_cannot_be_finished_in_another,
    adding_and_removing_a_passkey_are_recorded_with_its_name,
    login_challenges_are_limited_per_client_ip,
);

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> TestResponse {
    let mut request = TestRequest::post().uri(path).set_json(body);
    if let Some(token) = token {
        request = request.insert_header(bearer(token));
    }
    app.call(request).await
}

/// The device's answer to a registration challenge asked of `app` by `token`, made at `origin`: the body
/// for `/auth/passkeys/register`.
async fn created_on(app: &TestApp, device: &mut Browser, token: &str, origin: &str) -> Value {
    let challenge = post(
        app,
        "/auth/passkeys/register-challenge",
        Some(token),
        json!({}),
    )
    .await;
    assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.text);
    let created = crate::browser::create(device, &challenge.text, origin)
        .await
        .unwrap();
    serde_json::from_str(&created).unwrap()
}

/// The device's assertion for a login challenge asked of `app` with `body`.
async fn asserted_on(app: &TestApp, device: &mut Browser, body: Value) -> Value {
    let challenge = post(app, "/auth/passkeys/login-challenge", None, body).await;
    assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.text);
    serde_json::from_str(
        &crate::browser::get(device, &challenge.text, FRONTEND)
            .await
            .unwrap(),
    )
    .unwrap()
}

/// Registers a passkey on `device` for the account of `token`; the API's answer.
async fn register(
    app: &TestApp,
    device: &mut Browser,
    token: &str,
    name: Option<&str>,
) -> TestResponse {
    let mut body = created_on(app, device, token, FRONTEND).await;
    if let Some(name) = name {
        body["name"] = json!(name);
    }
    post(app, "/auth/passkeys/register", Some(token), body).await
}

/// Signs in with `device` (usernameless); the assertion and the API's answer.
async fn sign_in(app: &TestApp, device: &mut Browser) -> (Value, TestResponse) {
    let assertion = asserted_on(app, device, json!({})).await;
    let answer = post(app, "/auth/passkeys/login", None, assertion.clone()).await;
    (assertion, answer)
}

async fn a_passkey_registers_and_signs_in_without_a_username(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let mut device = browser(true);
    let registered = register(&app, &mut device, &session.access_token(), Some("Laptop")).await;
    assert_eq!(registered.status, StatusCode::OK, "{}", registered.text);
    assert_eq!(registered.body["name"], "Laptop");
    assert!(
        registered.body["id"].as_str().is_some()
            && registered.body["created_at"].as_str().is_some()
    );
    let mut fields: Vec<_> = registered.body.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(fields, ["created_at", "id", "name"], "the contract's shape");

    let (_, signed_in) = sign_in(&app, &mut device).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    assert_eq!(signed_in.body["status"], "authenticated");
    assert_eq!(signed_in.body["user"]["id"], session.body["user"]["id"]);
    assert_eq!(
        app.validate_bearer(&signed_in.access_token()).await.status,
        StatusCode::OK
    );

    // With the email given, as a login form with an email field does.
    let email = session.body["user"]["email"].clone();
    let assertion = asserted_on(&app, &mut device, json!({"email": email})).await;
    let with_email = post(&app, "/auth/passkeys/login", None, assertion).await;
    assert_eq!(with_email.status, StatusCode::OK, "{}", with_email.text);
    let token = session.access_token();
    let list = app
        .call(
            TestRequest::get()
                .uri("/auth/passkeys")
                .insert_header(bearer(&token)),
        )
        .await;
    assert!(
        list.body[0]["last_used_at"].as_str().is_some(),
        "the use was not recorded"
    );
}

async fn a_passkey_works_after_a_restart_and_on_a_second_instance(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let mut device = browser(true);
    // The challenge comes from this instance...
    let created = created_on(&app, &mut device, &session.access_token(), FRONTEND).await;
    // ... and the answer goes to another one sharing the database.
    let second = app.reconfigured(|_| {}).await;
    let registered = post(
        &second,
        "/auth/passkeys/register",
        Some(&session.access_token()),
        created,
    )
    .await;
    assert_eq!(registered.status, StatusCode::OK, "{}", registered.text);
    let assertion = asserted_on(&second, &mut device, json!({})).await;
    let third = app.reconfigured(|_| {}).await;
    let signed_in = post(&third, "/auth/passkeys/login", None, assertion).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
}

async fn the_options_are_what_browsers_take(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let mut device = browser(true);
    register(&app, &mut device, &session.access_token(), None).await;
    let create = post(
        &app,
        "/auth/passkeys/register-challenge",
        Some(&session.access_token()),
        json!({}),
    )
    .await;
    let options = &create.body["publicKey"];
    assert_eq!(options["rp"]["id"], "app.example.com");
    assert!(
        options["challenge"]
            .as_str()
            .is_some_and(|c| !c.contains(['+', '/', '='])),
        "challenge not base64url"
    );
    assert!(options["user"]["id"].as_str().is_some());
    assert_eq!(options["user"]["name"], session.body["user"]["email"]);
    let algorithms: Vec<i64> = options["pubKeyCredParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["alg"].as_i64().unwrap())
        .collect();
    assert!(
        algorithms.contains(&-7) && algorithms.contains(&-257),
        "{algorithms:?}"
    );
    assert_eq!(
        options["authenticatorSelection"]["residentKey"],
        "preferred"
    );
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "preferred"
    );
    assert_eq!(
        options["excludeCredentials"].as_array().unwrap().len(),
        1,
        "the existing passkey is not excluded"
    );
    let get = post(&app, "/auth/passkeys/login-challenge", None, json!({})).await;
    assert_eq!(get.body["publicKey"]["rpId"], "app.example.com");
    assert_eq!(get.body["publicKey"]["userVerification"], "preferred");
}

async fn login_options_do_not_depend_on_the_email(app: TestApp) {
    let known = unique_email();
    app.register(&known).await;
    let shape = |response: &TestResponse| {
        let mut options = response.body["publicKey"].clone();
        options["challenge"] = json!("");
        options
    };
    let for_known = post(
        &app,
        "/auth/passkeys/login-challenge",
        None,
        json!({"email": known}),
    )
    .await;
    let for_unknown = post(
        &app,
        "/auth/passkeys/login-challenge",
        None,
        json!({"email": unique_email()}),
    )
    .await;
    let without = post(&app, "/auth/passkeys/login-challenge", None, json!({})).await;
    assert_eq!(for_known.status, StatusCode::OK);
    assert_eq!(shape(&for_known), shape(&for_unknown));
    assert_eq!(shape(&for_known), shape(&without));
}

async fn a_response_from_another_origin_is_refused(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let mut device = browser(true);
    let forged = created_on(
        &app,
        &mut device,
        &session.access_token(),
        "https://evil.app.example.com",
    )
    .await;
    let refused = post(
        &app,
        "/auth/passkeys/register",
        Some(&session.access_token()),
        forged,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.error(), "invalid_passkey");
}

async fn a_replayed_assertion_is_refused(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let mut device = browser(true);
    register(&app, &mut device, &session.access_token(), None).await;
    let (assertion, first) = sign_in(&app, &mut device).await;
    assert_eq!(first.status, StatusCode::OK);
    let replay = post(&app, "/auth/passkeys/login", None, assertion).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.error(), "passkey_refused");
}

async fn expired_or_used_challenges_are_refused(app: TestApp) {
    let session = app.register(&unique_email()).await;
    let token = session.access_token();
    let mut device = browser(true);
    let created = created_on(&app, &mut device, &token, FRONTEND).await;
    app.clock.advance(Duration::minutes(5));
    let late = post(
        &app,
        "/auth/passkeys/register",
        Some(&token),
        created.clone(),
    )
    .await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(late.error(), "invalid_passkey");
    let again = post(&app, "/auth/passkeys/register", Some(&token), created).await;
    assert_eq!(
        again.error(),
        "invalid_passkey",
        "a consumed challenge was accepted"
    );

    let token = app
        .login(session.body["user"]["email"].as_str().unwrap(), PASSWORD)
        .await
        .access_token();
    let mut device = browser(true);
    register(&app, &mut device, &token, None).await;
    let assertion = asserted_on(&app, &mut device, json!({})).await;
    app.clock.advance(Duration::minutes(5));
    let late = post(&app, "/auth/passkeys/login", None, assertion).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
}

async fn passkeys_are_listed_and_deleted_by_their_owner_only(app: TestApp) {
    let ada = app.register(&unique_email()).await.access_token();
    let mut device = browser(true);
    let registered = register(&app, &mut device, &ada, Some("Phone")).await;
    let id = registered.body["id"].as_str().unwrap().to_owned();
    let list = app
        .call(
            TestRequest::get()
                .uri("/auth/passkeys")
                .insert_header(bearer(&ada)),
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["name"], "Phone");
    assert!(
        list.body[0]["last_used_at"].is_null(),
        "present, and null until first used: {}",
        list.text
    );

    let bob = app.register(&unique_email()).await.access_token();
    let delete = |token: &str, id: &str| {
        TestRequest::delete()
            .uri(&format!("/auth/passkeys/{id}"))
            .insert_header(bearer(token))
    };
    let theft = app.call(delete(&bob, &id)).await;
    assert_eq!(theft.status, StatusCode::NOT_FOUND);
    assert_eq!(theft.error(), "not_found");
    let malformed = app.call(delete(&ada, "not-a-uuid")).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let deleted = app.call(delete(&ada, &id)).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(deleted.body, json!({"status": "deleted"}));
    let (_, after) = sign_in(&app, &mut device).await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "a deleted passkey still signs in"
    );
}

async fn the_last_way_in_cannot_be_deleted(app: TestApp) {
    // An account made through GitHub (no password) adds a passkey, drops GitHub (allowed: the passkey is
    // another way in), and then cannot drop the passkey.
    let (app, session_token) = crate::oauth::signed_up_with_github(app).await;
    let mut device = browser(true);
    let id = register(&app, &mut device, &session_token, None).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unlinked = app
        .call(
            TestRequest::delete()
                .uri("/auth/providers/github")
                .insert_header(bearer(&session_token)),
        )
        .await;
    assert_eq!(unlinked.status, StatusCode::OK, "{}", unlinked.text);
    let refused = app
        .call(
            TestRequest::delete()
                .uri(&format!("/auth/passkeys/{id}"))
                .insert_header(bearer(&session_token)),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.error(), "last_login_method");
}

async fn malformed_passkey_bodies_get_400(app: TestApp) {
    let token = app.register(&unique_email()).await.access_token();
    for (path, auth, body) in [
        (
            "/auth/passkeys/register",
            Some(token.as_str()),
            json!({"id": 5}),
        ),
        (
            "/auth/passkeys/register",
            Some(token.as_str()),
            json!({"name": 5}),
        ),
        ("/auth/passkeys/login", None, json!({"response": "nope"})),
        (
            "/auth/passkeys/login-challenge",
            None,
            json!({"email": "not-an-email"}),
        ),
        ("/auth/passkeys/login-challenge", None, json!({"email": 7})),
    ] {
        let response = post(&app, path, auth, body.clone()).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            response.text
        );
    }
    let unauthenticated = post(&app, "/auth/passkeys/register-challenge", None, json!({})).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
}

async fn a_verified_passkey_satisfies_mfa(app: TestApp) {
    let email = unique_email();
    let token = app.register(&email).await.access_token();
    let setup = post(&app, "/auth/mfa/setup", Some(&token), json!({})).await;
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    let confirmed = post(
        &app,
        "/auth/mfa/confirm",
        Some(&token),
        json!({"code": crate::mfa::totp(&secret, app.now_unix())}),
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::OK);
    let mut verifying = browser(true);
    register(&app, &mut verifying, &token, None).await;
    let (_, full) = sign_in(&app, &mut verifying).await;
    assert_eq!(full.body["status"], "authenticated", "{}", full.text);

    let mut presence_only = browser(false);
    register(&app, &mut presence_only, &token, None).await;
    let (_, pending) = sign_in(&app, &mut presence_only).await;
    assert_eq!(pending.body["status"], "mfa_required", "{}", pending.text);
}

async fn a_stolen_stale_token_cannot_add_or_remove_a_passkey_until_a_passkey_reauthenticates(
    app: TestApp,
) {
    let token = app.register(&unique_email()).await.access_token();
    let mut device = browser(true);
    let first = register(&app, &mut device, &token, Some("Laptop")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let passkey_id = first.body["id"].as_str().unwrap().to_owned();

    // The attacker's copy of the bearer token, eleven minutes on: no new credential, no removal.
    app.clock.advance(Duration::minutes(11));
    let challenge = post(
        &app,
        "/auth/passkeys/register-challenge",
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(
        challenge.status,
        StatusCode::FORBIDDEN,
        "{}",
        challenge.text
    );
    assert_eq!(challenge.error(), "reauth_required");
    let answer = post(
        &app,
        "/auth/passkeys/register",
        Some(&token),
        json!({"id": "x"}),
    )
    .await;
    assert_eq!(answer.error(), "reauth_required");
    let removal = app
        .call(
            TestRequest::delete()
                .uri(&format!("/auth/passkeys/{passkey_id}"))
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(removal.error(), "reauth_required");

    // The owner proves the passkey again; then adding one works.
    let assertion = asserted_on(&app, &mut device, json!({})).await;
    let proven = post(
        &app,
        "/auth/reauthenticate",
        Some(&token),
        json!({"passkey": assertion}),
    )
    .await;
    assert_eq!(proven.status, StatusCode::OK, "{}", proven.text);
    let mut second_device = browser(true);
    let added = register(&app, &mut second_device, &token, Some("Phone")).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
}

async fn another_accounts_passkey_does_not_reauthenticate(app: TestApp) {
    let victim = app.register(&unique_email()).await.access_token();
    let attacker = app.register(&unique_email()).await.access_token();
    let mut attackers_device = browser(true);
    register(&app, &mut attackers_device, &attacker, None).await;
    app.clock.advance(Duration::minutes(11));
    let assertion = asserted_on(&app, &mut attackers_device, json!({})).await;
    let refused = post(
        &app,
        "/auth/reauthenticate",
        Some(&victim),
        json!({"passkey": assertion}),
    )
    .await;
    assert_eq!(
        (refused.status, refused.error()),
        (StatusCode::UNAUTHORIZED, "passkey_refused")
    );
    let still_stale = post(
        &app,
        "/auth/passkeys/register-challenge",
        Some(&victim),
        json!({}),
    )
    .await;
    assert_eq!(still_stale.error(), "reauth_required");
}

async fn a_registration_begun_in_a_session_that_ended_cannot_be_finished_in_another(app: TestApp) {
    let email = unique_email();
    let first = app.register(&email).await.access_token();
    let mut device = browser(true);
    let answer = created_on(&app, &mut device, &first, FRONTEND).await;
    let logout = app
        .call(
            TestRequest::post()
                .uri("/auth/logout")
                .insert_header(bearer(&first)),
        )
        .await;
    assert_eq!(logout.status, StatusCode::OK);
    let second = app.login(&email, PASSWORD).await.access_token();
    let refused = post(&app, "/auth/passkeys/register", Some(&second), answer).await;
    assert_eq!(
        (refused.status, refused.error()),
        (StatusCode::BAD_REQUEST, "invalid_passkey"),
        "{}",
        refused.text
    );
    let listed = app
        .call(
            TestRequest::get()
                .uri("/auth/passkeys")
                .insert_header(bearer(&second)),
        )
        .await;
    assert_eq!(listed.body, json!([]));
}

async fn adding_and_removing_a_passkey_are_recorded_with_its_name(app: TestApp) {
    let token = app.register(&unique_email()).await.access_token();
    let mut device = browser(true);
    let added = register(&app, &mut device, &token, Some("YubiKey")).await;
    let id = added.body["id"].as_str().unwrap().to_owned();
    let mut other = browser(true);
    register(&app, &mut other, &token, Some("Phone")).await;
    let removed = app
        .call(
            TestRequest::delete()
                .uri(&format!("/auth/passkeys/{id}"))
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    let log = app
        .call(
            TestRequest::get()
                .uri("/auth/events")
                .insert_header(bearer(&token)),
        )
        .await;
    let events = log.body["events"].as_array().unwrap();
    let named = |kind: &str| -> Vec<Value> {
        events
            .iter()
            .filter(|e| e["type"] == kind)
            .map(|e| e["detail"].clone())
            .collect()
    };
    assert_eq!(named("passkey_removed"), [json!({"name": "YubiKey"})]);
    let mut added = named("passkey_added");
    added.sort_by_key(ToString::to_string);
    assert_eq!(
        added,
        [json!({"name": "Phone"}), json!({"name": "YubiKey"})]
    );
}

async fn login_challenges_are_limited_per_client_ip(app: TestApp) {
    let app = app
        .reconfigured(|s| s.rate_limit.ceremonies_per_ip = crate::helpers::nonzero(3))
        .await;
    for _ in 0..3 {
        let ok = post(&app, "/auth/passkeys/login-challenge", None, json!({})).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    }
    let refused = post(&app, "/auth/passkeys/login-challenge", None, json!({})).await;
    assert_eq!(
        (refused.status, refused.error()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let elsewhere = app
        .call_from(
            TestRequest::post()
                .uri("/auth/passkeys/login-challenge")
                .set_json(json!({})),
            crate::helpers::random_peer(),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::OK);
}
