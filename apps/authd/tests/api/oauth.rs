//! OAuth through the HTTP API, against the local OAuth 2.0 / OpenID Connect provider of the providers
//! crate's tests (it really checks the client, the redirect URI and the PKCE verifier, and signs ID tokens
//! with RSA): sign-up, sign-in, linking, and every refusal of the callback.

use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::test::TestRequest;
use authd_kernel::Secret;
use authd_oauth::AuthorizationRequest;
use serde_json::json;
use time::Duration;

use authd::config::HttpUrl;

use crate::helpers::{FRONTEND, PASSWORD, TestApp, TestResponse, bearer, nonzero, unique_email};
use crate::provider::{CLIENT_ID, CLIENT_SECRET, FakeProvider, closed_port_url, query_of};

api_tests!(
    signing_up_with_github_creates_an_account_without_password,
    a_verified_google_email_signs_into_the_matching_account,
    a_signed_in_user_links_a_provider_and_lists_it,
    an_identity_linked_to_someone_else_cannot_be_linked_again,
    an_unverified_email_is_not_linked_to_an_existing_account,
    the_state_must_be_intact_bound_to_the_browser_unused_and_fresh,
    redirect_to_must_be_a_relative_path,
    a_wrong_nonce_is_refused,
    a_declined_sign_in_is_a_refusal_only_with_a_valid_state,
    a_provider_that_is_down_gives_502,
    unknown_and_disabled_providers_get_400,
    unlinking_keeps_the_last_way_in,
    a_user_with_mfa_lands_in_a_pending_session,
    a_link_starts_no_session_and_needs_a_recent_one,
    a_link_flow_whose_session_ended_links_nothing_and_signs_nobody_in,
    linking_and_unlinking_are_recorded_with_the_provider,
    a_cross_site_page_cannot_start_a_link_with_the_users_cookies,
);

/// A local provider whose GitHub identity is unique to this test (the PostgreSQL database is shared).
async fn start_provider() -> FakeProvider {
    let provider = FakeProvider::start().await;
    let id = u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap()) >> 12;
    provider.behave(|b| b.github_id = id);
    provider
}

/// An app with the providers configured and a user who signed up through GitHub (no password); the app and
/// the user's access token. The provider keeps running for the rest of the test.
pub async fn signed_up_with_github(app: TestApp) -> (TestApp, String) {
    let provider = start_provider().await;
    let email = unique_email();
    provider.behave(|b| b.emails = json!([{"email": email, "primary": true, "verified": true}]));
    let app = with_providers(app, &provider).await;
    let done = sign_in(&app, &provider, "github", None, "login").await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.text);
    let token = done.cookie("access_token").unwrap().value().to_owned();
    (app, token)
}

/// The app with GitHub and Google both pointed at `provider`.
async fn with_providers(app: TestApp, provider: &FakeProvider) -> TestApp {
    with_providers_then(app, provider, |_| {}).await
}

/// Likewise, then `tweak` (to point some endpoints elsewhere).
async fn with_providers_then(
    app: TestApp,
    provider: &FakeProvider,
    tweak: impl FnOnce(&mut authd::config::Settings),
) -> TestApp {
    let base = provider.url().to_owned();
    app.reconfigured(move |s| {
        s.oauth.github.client_id = Some(CLIENT_ID.into());
        s.oauth.github.client_secret = Some(Secret::new(CLIENT_SECRET));
        s.oauth.github.authorize_url = url(&format!("{base}/login/oauth/authorize"));
        s.oauth.github.token_url = url(&format!("{base}/login/oauth/access_token"));
        s.oauth.github.api_url = url(&base);
        s.oauth.google.client_id = Some(CLIENT_ID.into());
        s.oauth.google.client_secret = Some(Secret::new(CLIENT_SECRET));
        s.oauth.google.issuer_url = url(&base);
        tweak(s);
    })
    .await
}

fn url(raw: &str) -> HttpUrl {
    raw.parse().expect("an http URL")
}

/// A flow begun at `/auth/<provider>/login|link`: where the provider was asked to send the browser back.
struct Begun {
    location: String,
    binding: Cookie<'static>,
}

impl Begun {
    fn state(&self) -> String {
        query_of(&self.location)["state"].clone()
    }
}

async fn begin(app: &TestApp, path: &str, token: Option<&str>) -> Begun {
    let mut request = TestRequest::get().uri(path);
    if let Some(token) = token {
        request = request.insert_header(bearer(token));
    }
    let response = app.call(request).await;
    assert_eq!(
        response.status,
        StatusCode::TEMPORARY_REDIRECT,
        "{}",
        response.text
    );
    let binding = response.cookie("oauth_binding").expect("binding cookie");
    assert_eq!(binding.http_only(), Some(true));
    assert_eq!(binding.path(), Some("/auth"));
    let location = response
        .headers
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    Begun { location, binding }
}

/// The browser at the provider: approves and comes back with a code.
async fn approve(provider: &FakeProvider, begun: &Begun) -> Secret {
    let query = query_of(&begun.location);
    let request = AuthorizationRequest {
        redirect_uri: query["redirect_uri"].clone(),
        state: Secret::new(query["state"].clone()),
        pkce_verifier: Secret::new(""),
        nonce: Secret::new(""),
    };
    provider.approve(&begun.location, &request).await
}

async fn callback(
    app: &TestApp,
    kind: &str,
    code: &str,
    state: &str,
    binding: Option<Cookie<'static>>,
) -> TestResponse {
    let mut request =
        TestRequest::get().uri(&format!("/auth/{kind}/callback?code={code}&state={state}"));
    if let Some(binding) = binding {
        request = request.cookie(binding);
    }
    app.call(request).await
}

/// A whole sign-in through `kind`; returns the callback's answer.
async fn sign_in(
    app: &TestApp,
    provider: &FakeProvider,
    kind: &str,
    token: Option<&str>,
    path: &str,
) -> TestResponse {
    let begun = begin(app, &format!("/auth/{kind}/{path}"), token).await;
    let code = approve(provider, &begun).await;
    callback(
        app,
        kind,
        code.expose(),
        &begun.state(),
        Some(begun.binding.clone()),
    )
    .await
}

async fn me(app: &TestApp, response: &TestResponse) -> serde_json::Value {
    let cookie = response.cookie("access_token").expect("an access cookie");
    let validated = app
        .call(TestRequest::get().uri("/auth/validate").cookie(cookie))
        .await;
    assert_eq!(validated.status, StatusCode::OK, "{}", validated.text);
    validated.body
}

async fn signing_up_with_github_creates_an_account_without_password(app: TestApp) {
    let provider = start_provider().await;
    let email = unique_email();
    provider.behave(|b| b.emails = json!([{"email": email, "primary": true, "verified": true}]));
    let app = with_providers(app, &provider).await;
    let begun = begin(&app, "/auth/github/login?redirect_to=/welcome", None).await;
    let query = query_of(&begun.location);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(
        query["redirect_uri"],
        "http://localhost:8080/auth/github/callback"
    );
    let code = approve(&provider, &begun).await;
    let done = callback(
        &app,
        "github",
        code.expose(),
        &begun.state(),
        Some(begun.binding.clone()),
    )
    .await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.text);
    assert_eq!(
        done.headers.get(header::LOCATION).unwrap(),
        &format!("{FRONTEND}/welcome")
    );
    assert!(done.cookie("refresh_token").is_some());
    assert_eq!(
        done.cookie("oauth_binding").unwrap().value(),
        "",
        "the binding cookie was not cleared"
    );
    let user = me(&app, &done).await;
    assert_eq!(user["user"]["email"], email);
    assert_eq!(user["user"]["has_password"], false);
    assert_eq!(user["workspaces"].as_array().unwrap().len(), 1);
}

async fn a_verified_google_email_signs_into_the_matching_account(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let email = unique_email();
    let registered = app.register(&email).await;
    provider.behave(|b| {
        b.claims = json!({"email": email, "email_verified": true, "sub": unique_email()})
    });
    let done = sign_in(&app, &provider, "google", None, "login").await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.text);
    assert_eq!(
        me(&app, &done).await["user"]["id"],
        registered.body["user"]["id"]
    );
}

async fn a_signed_in_user_links_a_provider_and_lists_it(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let session = app.register(&unique_email()).await;
    let token = session.access_token();
    let linked = sign_in(
        &app,
        &provider,
        "github",
        Some(&token),
        "link?redirect_to=/settings",
    )
    .await;
    assert_eq!(linked.status, StatusCode::FOUND, "{}", linked.text);
    assert_eq!(
        linked.headers.get(header::LOCATION).unwrap(),
        &format!("{FRONTEND}/settings")
    );
    let list = app
        .call(
            TestRequest::get()
                .uri("/auth/providers")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body[0]["provider"], "github");
    assert!(list.body[0]["linked_at"].as_str().is_some());
    let unauthenticated = app.call(TestRequest::get().uri("/auth/github/link")).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
}

async fn an_identity_linked_to_someone_else_cannot_be_linked_again(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let subject = unique_email();
    provider.behave(|b| b.claims = json!({"sub": subject}));
    let first = app.register(&unique_email()).await.access_token();
    assert_eq!(
        sign_in(&app, &provider, "google", Some(&first), "link")
            .await
            .status,
        StatusCode::FOUND
    );
    let second = app.register(&unique_email()).await.access_token();
    let refused = sign_in(&app, &provider, "google", Some(&second), "link").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.error(), "provider_already_linked");
}

async fn an_unverified_email_is_not_linked_to_an_existing_account(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let email = unique_email();
    app.register(&email).await;
    provider.behave(|b| {
        b.claims = json!({"email": email, "email_verified": false, "sub": unique_email()})
    });
    let refused = sign_in(&app, &provider, "google", None, "login").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.error(), "no_usable_email");
    assert!(refused.cookie("access_token").is_none());
}

async fn the_state_must_be_intact_bound_to_the_browser_unused_and_fresh(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let expect_invalid = |response: TestResponse| {
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{}",
            response.text
        );
        assert_eq!(response.error(), "invalid_state");
    };
    let begun = begin(&app, "/auth/github/login", None).await;
    let code = approve(&provider, &begun).await;
    expect_invalid(
        callback(
            &app,
            "github",
            code.expose(),
            "tampered",
            Some(begun.binding.clone()),
        )
        .await,
    );

    let begun = begin(&app, "/auth/github/login", None).await;
    let code = approve(&provider, &begun).await;
    expect_invalid(callback(&app, "github", code.expose(), &begun.state(), None).await);
    expect_invalid(
        callback(
            &app,
            "github",
            code.expose(),
            &begun.state(),
            Some(begun.binding.clone()),
        )
        .await,
    );

    let begun = begin(&app, "/auth/github/login", None).await;
    let code = approve(&provider, &begun).await;
    assert_eq!(
        callback(
            &app,
            "github",
            code.expose(),
            &begun.state(),
            Some(begun.binding.clone())
        )
        .await
        .status,
        StatusCode::FOUND
    );
    expect_invalid(
        callback(
            &app,
            "github",
            code.expose(),
            &begun.state(),
            Some(begun.binding.clone()),
        )
        .await,
    );

    let begun = begin(&app, "/auth/github/login", None).await;
    let code = approve(&provider, &begun).await;
    app.clock.advance(Duration::minutes(10));
    expect_invalid(
        callback(
            &app,
            "github",
            code.expose(),
            &begun.state(),
            Some(begun.binding.clone()),
        )
        .await,
    );

    let begun = begin(&app, "/auth/github/login", None).await;
    let other_provider = callback(
        &app,
        "google",
        "code",
        &begun.state(),
        Some(begun.binding.clone()),
    )
    .await;
    expect_invalid(other_provider);
    expect_invalid(
        app.call(TestRequest::get().uri("/auth/github/callback?code=x"))
            .await,
    );
}

async fn redirect_to_must_be_a_relative_path(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    for target in ["https://evil.example", "//evil.example/x", "evil"] {
        let response = app
            .call(TestRequest::get().uri(&format!("/auth/github/login?redirect_to={target}")))
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{target}");
        assert_eq!(response.error(), "invalid_redirect");
    }
    let twice = app
        .call(TestRequest::get().uri("/auth/github/login?redirect_to=/a&redirect_to=/b"))
        .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert_eq!(twice.error(), "invalid_request");
    assert_eq!(
        twice.body["message"],
        "invalid query string: duplicate field `redirect_to`"
    );
}

async fn a_wrong_nonce_is_refused(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    provider.behave(|b| b.claims = json!({"nonce": "not-the-one-we-sent"}));
    let refused = sign_in(&app, &provider, "google", None, "login").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    assert_eq!(refused.error(), "provider_refused");
}

/// The state is checked before anything else the callback carries: with a forged state, `error=` or a
/// missing code are `invalid_state`; with the real one they are a refusal, and the state is spent.
async fn a_declined_sign_in_is_a_refusal_only_with_a_valid_state(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let begun = begin(&app, "/auth/github/login", None).await;
    let at = |query: &str| {
        TestRequest::get()
            .uri(&format!("/auth/github/callback?{query}"))
            .cookie(begun.binding.clone())
    };
    for forged in ["error=access_denied&state=forged", "state=forged"] {
        let response = app.call(at(forged)).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{forged}");
        assert_eq!(response.error(), "invalid_state", "{forged}");
    }
    let declined = app
        .call(at(&format!("error=access_denied&state={}", begun.state())))
        .await;
    assert_eq!(
        declined.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        declined.text
    );
    assert_eq!(declined.error(), "provider_refused");
    let code = approve(&provider, &begun).await;
    let replayed = app
        .call(at(&format!(
            "code={}&state={}",
            code.expose(),
            begun.state()
        )))
        .await;
    assert_eq!(
        replayed.error(),
        "invalid_state",
        "the refusal spent the state"
    );

    let begun = begin(&app, "/auth/github/login", None).await;
    let empty = app
        .call(
            TestRequest::get()
                .uri(&format!("/auth/github/callback?state={}", begun.state()))
                .cookie(begun.binding.clone()),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNAUTHORIZED, "{}", empty.text);
    assert_eq!(empty.error(), "provider_refused");
}

async fn a_provider_that_is_down_gives_502(app: TestApp) {
    let provider = start_provider().await;
    let dead = closed_port_url().await;
    let app = with_providers_then(app, &provider, |s| {
        s.oauth.github.token_url = url(&format!("{dead}/login/oauth/access_token"));
        s.oauth.github.api_url = url(&dead);
        s.oauth.github.timeout_secs = nonzero(2);
        s.oauth.google.issuer_url = url(&dead);
    })
    .await;
    let down = sign_in(&app, &provider, "github", None, "login").await;
    assert_eq!(down.status, StatusCode::BAD_GATEWAY, "{}", down.text);
    assert_eq!(down.error(), "provider_unavailable");
    let no_discovery = app.call(TestRequest::get().uri("/auth/google/login")).await;
    assert_eq!(no_discovery.status, StatusCode::BAD_GATEWAY);
}

async fn unknown_and_disabled_providers_get_400(app: TestApp) {
    for path in [
        "/auth/github/login",
        "/auth/google/login",
        "/auth/myspace/login",
        "/auth/myspace/callback?code=a&state=b",
        // Checked before the session: the path is wrong whoever asks.
        "/auth/myspace/link",
    ] {
        let response = app.call(TestRequest::get().uri(path)).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(response.error(), "unknown_provider", "{path}");
    }
    let token = app.register(&unique_email()).await.access_token();
    let response = app
        .call(
            TestRequest::delete()
                .uri("/auth/providers/myspace")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(response.error(), "unknown_provider");
    let anonymous = app
        .call(TestRequest::delete().uri("/auth/providers/myspace"))
        .await;
    assert_eq!(anonymous.error(), "unknown_provider");
    let disabled = app.call(TestRequest::get().uri("/auth/github/link")).await;
    assert_eq!(
        disabled.error(),
        "unknown_provider",
        "disabled, whoever asks"
    );
}

async fn unlinking_keeps_the_last_way_in(app: TestApp) {
    let provider = start_provider().await;
    let email = unique_email();
    provider.behave(|b| b.emails = json!([{"email": email, "primary": true, "verified": true}]));
    let app = with_providers(app, &provider).await;
    let done = sign_in(&app, &provider, "github", None, "login").await;
    let token = done.cookie("access_token").unwrap().value().to_owned();
    let unlink = |path: &'static str| {
        TestRequest::delete()
            .uri(path)
            .insert_header(bearer(&token))
    };
    let last = app.call(unlink("/auth/providers/github")).await;
    assert_eq!(last.status, StatusCode::BAD_REQUEST);
    assert_eq!(last.error(), "last_login_method");
    let not_linked = app.call(unlink("/auth/providers/google")).await;
    assert_eq!(not_linked.error(), "not_linked");

    // With a second way in (Google), GitHub can go.
    provider.behave(|b| b.claims = json!({"sub": unique_email(), "email": unique_email()}));
    assert_eq!(
        sign_in(&app, &provider, "google", Some(&token), "link")
            .await
            .status,
        StatusCode::FOUND
    );
    let removed = app.call(unlink("/auth/providers/github")).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    assert_eq!(removed.body, json!({"status": "unlinked"}));
    let _ = PASSWORD;
}

async fn a_user_with_mfa_lands_in_a_pending_session(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let email = unique_email();
    let token = app.register(&email).await.access_token();
    let setup = app
        .call(
            TestRequest::post()
                .uri("/auth/mfa/setup")
                .insert_header(bearer(&token)),
        )
        .await;
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    let code = crate::mfa::totp(&secret, app.now_unix());
    let confirmed = app
        .call(
            TestRequest::post()
                .uri("/auth/mfa/confirm")
                .insert_header(bearer(&token))
                .set_json(json!({"code": code})),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK);
    provider.behave(|b| {
        b.claims = json!({"email": email, "email_verified": true, "sub": unique_email()})
    });
    let done = sign_in(&app, &provider, "google", None, "login?redirect_to=/home").await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.text);
    assert_eq!(
        done.headers.get(header::LOCATION).unwrap(),
        &format!("{FRONTEND}/home?mfa_required=true")
    );
    assert!(done.cookie("refresh_token").is_none());
    let pending = done.cookie("access_token").unwrap();
    let refused = app
        .call(TestRequest::get().uri("/auth/validate").cookie(pending))
        .await;
    assert_eq!(refused.error(), "mfa_required");
}

async fn a_link_starts_no_session_and_needs_a_recent_one(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let token = app.register(&unique_email()).await.access_token();
    let linked = sign_in(&app, &provider, "github", Some(&token), "link").await;
    assert_eq!(linked.status, StatusCode::FOUND, "{}", linked.text);
    assert!(linked.cookie("access_token").is_none(), "no new session");
    assert!(linked.cookie("refresh_token").is_none(), "no new session");

    app.clock.advance(time::Duration::minutes(11));
    let stale_link = app
        .call(
            TestRequest::get()
                .uri("/auth/google/link")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(
        (stale_link.status, stale_link.error()),
        (StatusCode::FORBIDDEN, "reauth_required")
    );
    let stale_unlink = app
        .call(
            TestRequest::delete()
                .uri("/auth/providers/github")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(stale_unlink.error(), "reauth_required");
}

async fn a_link_flow_whose_session_ended_links_nothing_and_signs_nobody_in(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let email = unique_email();
    let token = app.register(&email).await.access_token();
    let begun = begin(&app, "/auth/github/link", Some(&token)).await;
    let logout = app
        .call(
            TestRequest::post()
                .uri("/auth/logout")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(logout.status, StatusCode::OK);
    let code = approve(&provider, &begun).await;
    let answer = callback(
        &app,
        "github",
        code.expose(),
        &begun.state(),
        Some(begun.binding.clone()),
    )
    .await;
    assert_eq!(
        (answer.status, answer.error()),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );
    assert!(answer.cookie("access_token").is_none());
    let fresh = app.login(&email, PASSWORD).await.access_token();
    let links = app
        .call(
            TestRequest::get()
                .uri("/auth/providers")
                .insert_header(bearer(&fresh)),
        )
        .await;
    assert_eq!(links.body, serde_json::json!([]), "nothing was linked");
}

async fn linking_and_unlinking_are_recorded_with_the_provider(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let token = app.register(&unique_email()).await.access_token();
    let linked = sign_in(&app, &provider, "github", Some(&token), "link").await;
    assert_eq!(linked.status, StatusCode::FOUND, "{}", linked.text);
    let unlinked = app
        .call(
            TestRequest::delete()
                .uri("/auth/providers/github")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(unlinked.status, StatusCode::OK, "{}", unlinked.text);
    let log = app
        .call(
            TestRequest::get()
                .uri("/auth/events")
                .insert_header(bearer(&token)),
        )
        .await;
    let detail_of = |kind: &str| {
        log.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == kind)
            .map(|e| e["detail"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        detail_of("provider_linked"),
        [serde_json::json!({"provider": "github"})]
    );
    assert_eq!(
        detail_of("provider_unlinked"),
        [serde_json::json!({"provider": "github"})]
    );
}

async fn a_cross_site_page_cannot_start_a_link_with_the_users_cookies(app: TestApp) {
    let provider = start_provider().await;
    let app = with_providers(app, &provider).await;
    let session = app.register(&unique_email()).await;
    let cookie = session.cookie("access_token").unwrap();
    let link = |headers: Vec<(&'static str, String)>| {
        let mut request = TestRequest::get()
            .uri("/auth/github/link")
            .cookie(cookie.clone());
        for header in headers {
            request = request.insert_header(header);
        }
        app.call(request)
    };
    let refused = link(vec![("sec-fetch-site", "cross-site".into())]).await;
    assert_eq!(
        (refused.status, refused.error()),
        (StatusCode::FORBIDDEN, "forbidden_origin")
    );
    let no_signal = link(vec![]).await;
    assert_eq!(
        no_signal.status,
        StatusCode::FORBIDDEN,
        "no Sec-Fetch-Site, no Referer"
    );
    let foreign_referer = link(vec![("referer", "https://evil.example/page".into())]).await;
    assert_eq!(foreign_referer.status, StatusCode::FORBIDDEN);

    for allowed in [
        vec![("sec-fetch-site", "same-site".into())],
        vec![("sec-fetch-site", "same-origin".into())],
        vec![("sec-fetch-site", "none".into())],
        vec![("referer", format!("{FRONTEND}/settings"))],
    ] {
        let begun = link(allowed.clone()).await;
        assert_eq!(
            begun.status,
            StatusCode::TEMPORARY_REDIRECT,
            "{allowed:?}: {}",
            begun.text
        );
    }
    // A bearer token cannot be forged by another site's page.
    let bearer_link = app
        .call(
            TestRequest::get()
                .uri("/auth/github/link")
                .insert_header(bearer(&session.access_token()))
                .insert_header(("sec-fetch-site", "cross-site")),
        )
        .await;
    assert_eq!(bearer_link.status, StatusCode::TEMPORARY_REDIRECT);
}
