//! TOTP MFA through the HTTP API: enrol, sign in with a pending session, complete it with a TOTP or recovery
//! code, and every refusal on the way. Codes are computed here with an independent RFC 6238 implementation.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use authd_kernel::Clock as _;
use authd_mfa::ports::MfaRepository as _;
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use serde_json::json;
use time::Duration;

use crate::helpers::{PASSWORD, TestApp, TestResponse, bearer, nonzero, unique_email};

api_tests!(
    the_whole_life_of_a_second_factor,
    a_pending_session_is_refused_everywhere_but_verify_recovery_and_logout,
    a_recovery_code_completes_a_sign_in_once,
    a_totp_code_is_not_accepted_twice,
    five_wrong_codes_revoke_the_pending_session,
    wrong_codes_are_limited_per_user_across_sessions,
    a_pending_session_lives_five_minutes,
    mfa_can_be_disabled_with_a_totp_code_or_a_recovery_code,
    setup_while_enabled_and_confirm_without_setup_are_refused,
    regenerating_recovery_codes_replaces_the_set,
    malformed_mfa_bodies_get_400,
    the_stored_secret_is_encrypted,
    a_stolen_stale_token_cannot_enrol_totp_or_turn_it_off_until_a_code_reauthenticates,
);

/// RFC 6238 with HMAC-SHA1, 6 digits, 30-second steps, written independently of the service.
pub fn totp(secret_base32: &str, unix: i64) -> String {
    let key = data_encoding::BASE32_NOPAD
        .decode(secret_base32.as_bytes())
        .unwrap();
    let step = u64::try_from(unix / 30).unwrap();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

/// A registered user with MFA enabled: their email, TOTP secret, recovery codes and full session.
struct Enrolled {
    email: String,
    secret: String,
    recovery_codes: Vec<String>,
}

impl TestApp {
    pub fn now_unix(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    async fn mfa_post(&self, path: &str, token: &str, body: serde_json::Value) -> TestResponse {
        self.call(
            TestRequest::post()
                .uri(path)
                .insert_header(bearer(token))
                .set_json(body),
        )
        .await
    }

    async fn enrolled(&self) -> Enrolled {
        let email = unique_email();
        let session = self.register(&email).await;
        let token = session.access_token();
        let setup = self.mfa_post("/auth/mfa/setup", &token, json!({})).await;
        assert_eq!(setup.status, StatusCode::OK, "{}", setup.text);
        let secret = setup.body["secret"].as_str().unwrap().to_owned();
        let code = totp(&secret, self.now_unix());
        let confirmed = self
            .mfa_post("/auth/mfa/confirm", &token, json!({"code": code}))
            .await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
        let recovery_codes = confirmed.body["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        // Move past the step the confirmation used, so the next code is fresh.
        self.clock.advance(Duration::seconds(30));
        Enrolled {
            email,
            secret,
            recovery_codes,
        }
    }

    /// Signs in with the password and a TOTP code; the full session's access token.
    async fn login_with_code(&self, user: &Enrolled) -> String {
        let pending = self.pending(&user.email).await;
        let code = totp(&user.secret, self.now_unix());
        let full = self
            .mfa_post("/auth/mfa/verify", &pending, json!({"code": code}))
            .await;
        assert_eq!(full.status, StatusCode::OK, "{}", full.text);
        self.clock.advance(Duration::seconds(30));
        full.access_token()
    }

    /// Logs in with the password and returns the pending token.
    async fn pending(&self, email: &str) -> String {
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        assert_eq!(response.body["status"], "mfa_required");
        response.body["mfa_token"].as_str().unwrap().to_owned()
    }
}

async fn the_whole_life_of_a_second_factor(app: TestApp) {
    let email = unique_email();
    let session = app.register(&email).await;
    let token = session.access_token();

    let setup = app.mfa_post("/auth/mfa/setup", &token, json!({})).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.text);
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        data_encoding::BASE32_NOPAD
            .decode(secret.as_bytes())
            .unwrap()
            .len(),
        20,
        "160-bit secret"
    );
    let url = setup.body["otpauth_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "otpauth://totp/authd:{}?",
            email.replace('@', "%40")
        )) || url.starts_with(&format!("otpauth://totp/authd:{email}?")),
        "{url}"
    );
    assert!(
        url.contains(&format!("secret={secret}")) && url.contains("issuer=authd"),
        "{url}"
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(setup.body["qr_code_base64"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");

    let confirmed = app
        .mfa_post(
            "/auth/mfa/confirm",
            &token,
            json!({"code": totp(&secret, app.now_unix())}),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    let codes = confirmed.body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert!(
        confirmed.body["recovery_codes_generated_at"]
            .as_str()
            .is_some()
    );

    app.call(
        TestRequest::post()
            .uri("/auth/logout")
            .insert_header(bearer(&token)),
    )
    .await;
    app.clock.advance(Duration::seconds(30));
    let login = app.login(&email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["status"], "mfa_required");
    assert_eq!(login.body["expires_in"], 300);
    assert!(login.body.get("refresh_token").is_none());
    assert!(
        login.cookie("refresh_token").is_none(),
        "a pending session got a refresh cookie"
    );
    let pending = login.body["mfa_token"].as_str().unwrap().to_owned();
    assert_eq!(login.cookie("access_token").unwrap().value(), pending);

    let verified = app
        .mfa_post(
            "/auth/mfa/verify",
            &pending,
            json!({"code": totp(&secret, app.now_unix())}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.body["status"], "authenticated");
    assert_eq!(verified.refresh_token().len(), 43);
    assert_eq!(
        app.validate_bearer(&verified.access_token()).await.status,
        StatusCode::OK
    );
    let refreshed = app
        .post_json(
            "/auth/refresh",
            json!({"refresh_token": verified.refresh_token()}),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK);
    // The pending token stays what it was: it does not become a full one.
    assert_eq!(
        app.validate_bearer(&pending).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_pending_session_is_refused_everywhere_but_verify_recovery_and_logout(app: TestApp) {
    let user = app.enrolled().await;
    let pending = app.pending(&user.email).await;
    let validate = app.validate_bearer(&pending).await;
    assert_eq!(validate.status, StatusCode::UNAUTHORIZED);
    assert_eq!(validate.error(), "mfa_required");
    for path in [
        "/auth/mfa/setup",
        "/auth/mfa/recovery-codes",
        "/auth/mfa/recovery-codes/regenerate",
    ] {
        let refused = app.mfa_post(path, &pending, json!({})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(refused.error(), "mfa_required", "{path}");
    }
    let disable = app
        .mfa_post(
            "/auth/mfa/disable",
            &pending,
            json!({"code": totp(&user.secret, app.now_unix())}),
        )
        .await;
    assert_eq!(disable.error(), "mfa_required");
    let logout = app
        .call(
            TestRequest::post()
                .uri("/auth/logout")
                .insert_header(bearer(&pending)),
        )
        .await;
    assert_eq!(logout.status, StatusCode::OK);
    let after = app
        .mfa_post(
            "/auth/mfa/verify",
            &pending,
            json!({"code": totp(&user.secret, app.now_unix())}),
        )
        .await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "a logged-out pending session was completed"
    );
}

async fn a_recovery_code_completes_a_sign_in_once(app: TestApp) {
    let user = app.enrolled().await;
    let code = user.recovery_codes[3].clone();
    let pending = app.pending(&user.email).await;
    let done = app
        .mfa_post(
            "/auth/mfa/recovery-verify",
            &pending,
            json!({"code": code.to_uppercase()}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["status"], "authenticated");

    let again = app.pending(&user.email).await;
    let reused = app
        .mfa_post("/auth/mfa/recovery-verify", &again, json!({"code": code}))
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.error(), "invalid_code");
}

async fn a_totp_code_is_not_accepted_twice(app: TestApp) {
    let user = app.enrolled().await;
    let code = totp(&user.secret, app.now_unix());
    let first = app.pending(&user.email).await;
    assert_eq!(
        app.mfa_post("/auth/mfa/verify", &first, json!({"code": code}))
            .await
            .status,
        StatusCode::OK
    );
    let second = app.pending(&user.email).await;
    let replay = app
        .mfa_post("/auth/mfa/verify", &second, json!({"code": code}))
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.error(), "invalid_code");
    app.clock.advance(Duration::seconds(30));
    let fresh = app
        .mfa_post(
            "/auth/mfa/verify",
            &second,
            json!({"code": totp(&user.secret, app.now_unix())}),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
}

async fn five_wrong_codes_revoke_the_pending_session(app: TestApp) {
    let user = app.enrolled().await;
    let pending = app.pending(&user.email).await;
    let right = totp(&user.secret, app.now_unix());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for attempt in 1..=5 {
        let response = app
            .mfa_post("/auth/mfa/verify", &pending, json!({"code": wrong}))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
        assert_eq!(response.error(), "invalid_code");
    }
    let too_late = app
        .mfa_post("/auth/mfa/verify", &pending, json!({"code": right}))
        .await;
    assert_eq!(too_late.status, StatusCode::UNAUTHORIZED);
    assert_eq!(too_late.error(), "unauthorized");
}

/// Someone with the password could open pending session after pending session, five guesses each: the
/// per-user limit caps the guesses whatever the number of sessions, and it guards disable too.
async fn wrong_codes_are_limited_per_user_across_sessions(app: TestApp) {
    let app = app
        .reconfigured(|s| s.rate_limit.mfa_failures_per_user = nonzero(3))
        .await;
    let user = app.enrolled().await;
    let wrong = |right: &str| {
        if right == "000000" {
            "111111"
        } else {
            "000000"
        }
        .to_owned()
    };
    for _ in 0..3 {
        let pending = app.pending(&user.email).await;
        let guess = wrong(&totp(&user.secret, app.now_unix()));
        let response = app
            .mfa_post("/auth/mfa/verify", &pending, json!({"code": guess}))
            .await;
        assert_eq!(response.error(), "invalid_code");
    }
    let pending = app.pending(&user.email).await;
    let right = totp(&user.secret, app.now_unix());
    let refused = app
        .mfa_post("/auth/mfa/verify", &pending, json!({"code": right}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text
    );
    assert_eq!(refused.error(), "rate_limited");
    let recovery = app
        .mfa_post(
            "/auth/mfa/recovery-verify",
            &pending,
            json!({"code": user.recovery_codes[0]}),
        )
        .await;
    assert_eq!(recovery.status, StatusCode::TOO_MANY_REQUESTS);

    app.clock.advance(Duration::minutes(15));
    let token = full_session(&app, &user).await;
    for _ in 0..3 {
        let guess = wrong(&totp(&user.secret, app.now_unix()));
        let response = app
            .mfa_post("/auth/mfa/disable", &token, json!({"code": guess}))
            .await;
        assert_eq!(response.error(), "invalid_code");
    }
    let right = totp(&user.secret, app.now_unix());
    let refused = app
        .mfa_post("/auth/mfa/disable", &token, json!({"code": right}))
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn a_pending_session_lives_five_minutes(app: TestApp) {
    let user = app.enrolled().await;
    let pending = app.pending(&user.email).await;
    app.clock.advance(Duration::minutes(5));
    let expired = app
        .mfa_post(
            "/auth/mfa/verify",
            &pending,
            json!({"code": totp(&user.secret, app.now_unix())}),
        )
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.error(), "unauthorized");
}

async fn full_session(app: &TestApp, user: &Enrolled) -> String {
    let pending = app.pending(&user.email).await;
    let done = app
        .mfa_post(
            "/auth/mfa/verify",
            &pending,
            json!({"code": totp(&user.secret, app.now_unix())}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    app.clock.advance(Duration::seconds(30));
    done.access_token()
}

async fn mfa_can_be_disabled_with_a_totp_code_or_a_recovery_code(app: TestApp) {
    let by_totp = app.enrolled().await;
    let token = full_session(&app, &by_totp).await;
    let wrong = app
        .mfa_post("/auth/mfa/disable", &token, json!({"code": "not-a-code"}))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.error(), "invalid_code");
    let off = app
        .mfa_post(
            "/auth/mfa/disable",
            &token,
            json!({"code": totp(&by_totp.secret, app.now_unix())}),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert_eq!(off.body, json!({"status": "mfa_disabled"}));
    assert_eq!(
        app.login(&by_totp.email, PASSWORD).await.body["status"],
        "authenticated"
    );
    let again = app
        .mfa_post("/auth/mfa/disable", &token, json!({"code": "123456"}))
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.error(), "mfa_not_enabled");

    let by_recovery = app.enrolled().await;
    let token = full_session(&app, &by_recovery).await;
    let off = app
        .mfa_post(
            "/auth/mfa/disable",
            &token,
            json!({"code": by_recovery.recovery_codes[0]}),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.text);
    assert_eq!(
        app.login(&by_recovery.email, PASSWORD).await.body["status"],
        "authenticated"
    );
}

async fn setup_while_enabled_and_confirm_without_setup_are_refused(app: TestApp) {
    let user = app.enrolled().await;
    let token = full_session(&app, &user).await;
    let setup = app.mfa_post("/auth/mfa/setup", &token, json!({})).await;
    assert_eq!(setup.status, StatusCode::BAD_REQUEST);
    assert_eq!(setup.error(), "mfa_already_enabled");

    let fresh = app.register(&unique_email()).await.access_token();
    let confirm = app
        .mfa_post("/auth/mfa/confirm", &fresh, json!({"code": "123456"}))
        .await;
    assert_eq!(confirm.status, StatusCode::BAD_REQUEST);
    assert_eq!(confirm.error(), "mfa_setup_required");
    let setup = app.mfa_post("/auth/mfa/setup", &fresh, json!({})).await;
    let secret = setup.body["secret"].as_str().unwrap();
    let wrong = app
        .mfa_post(
            "/auth/mfa/confirm",
            &fresh,
            json!({"code": totp(secret, app.now_unix() + 300)}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.error(), "invalid_code");
    let codes = app
        .mfa_post("/auth/mfa/recovery-codes", &fresh, json!({}))
        .await;
    assert_eq!(codes.error(), "mfa_not_enabled");
}

async fn regenerating_recovery_codes_replaces_the_set(app: TestApp) {
    let user = app.enrolled().await;
    let token = full_session(&app, &user).await;
    let first = app
        .mfa_post("/auth/mfa/recovery-codes", &token, json!({}))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let second = app
        .mfa_post("/auth/mfa/recovery-codes/regenerate", &token, json!({}))
        .await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["recovery_codes"].as_array().unwrap().len(), 10);
    for stale in [
        &user.recovery_codes[0],
        first.body["recovery_codes"][0].as_str().unwrap(),
    ] {
        let pending = app.pending(&user.email).await;
        let refused = app
            .mfa_post(
                "/auth/mfa/recovery-verify",
                &pending,
                json!({"code": stale}),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "an old recovery code still works"
        );
    }
    let pending = app.pending(&user.email).await;
    let current = second.body["recovery_codes"][9].as_str().unwrap();
    assert_eq!(
        app.mfa_post(
            "/auth/mfa/recovery-verify",
            &pending,
            json!({"code": current})
        )
        .await
        .status,
        StatusCode::OK
    );
}

async fn malformed_mfa_bodies_get_400(app: TestApp) {
    let user = app.enrolled().await;
    let pending = app.pending(&user.email).await;
    for (path, body) in [
        ("/auth/mfa/verify", json!({})),
        ("/auth/mfa/verify", json!({"code": 123456})),
        ("/auth/mfa/recovery-verify", json!({"code": null})),
    ] {
        let response = app.mfa_post(path, &pending, body).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(response.error(), "invalid_request");
    }
    let token = app.register(&unique_email()).await.access_token();
    let response = app
        .mfa_post("/auth/mfa/confirm", &token, json!(["123456"]))
        .await;
    assert_eq!(response.error(), "invalid_request");
    let weird = app
        .mfa_post(
            "/auth/mfa/verify",
            &pending,
            json!({"code": "é".repeat(10_000)}),
        )
        .await;
    assert_eq!(weird.status, StatusCode::UNAUTHORIZED);
    assert_eq!(weird.error(), "invalid_code");
}

async fn the_stored_secret_is_encrypted(app: TestApp) {
    let user = app.enrolled().await;
    let id = app.login(&user.email, PASSWORD).await;
    assert_eq!(id.body["status"], "mfa_required");
    let token = full_session(&app, &user).await;
    let me = app.validate_bearer(&token).await;
    let user_id: authd_kernel::UserId = me.body["user"]["id"].as_str().unwrap().parse().unwrap();
    let record = app.store.find_factor(user_id).await.unwrap().unwrap();
    let stored = &record.secret.0;
    let raw = data_encoding::BASE32_NOPAD
        .decode(user.secret.as_bytes())
        .unwrap();
    assert!(stored.len() > raw.len(), "no room for a nonce and a tag");
    assert!(
        !stored.windows(raw.len()).any(|w| w == raw.as_slice()),
        "the raw secret is in the row"
    );
    assert!(
        !stored
            .windows(user.secret.len())
            .any(|w| w == user.secret.as_bytes()),
        "the base32 secret is in the row"
    );
}

async fn a_stolen_stale_token_cannot_enrol_totp_or_turn_it_off_until_a_code_reauthenticates(
    app: TestApp,
) {
    let stolen = app.register(&unique_email()).await.access_token();
    app.clock.advance(Duration::minutes(11));
    let enrol = app.mfa_post("/auth/mfa/setup", &stolen, json!({})).await;
    assert_eq!(
        (enrol.status, enrol.error()),
        (StatusCode::FORBIDDEN, "reauth_required")
    );

    let user = app.enrolled().await;
    let token = app.login_with_code(&user).await;
    app.clock.advance(Duration::minutes(11));
    let code = totp(&user.secret, app.now_unix());
    for path in [
        "/auth/mfa/disable",
        "/auth/mfa/recovery-codes",
        "/auth/mfa/recovery-codes/regenerate",
        "/auth/mfa/confirm",
    ] {
        let refused = app.mfa_post(path, &token, json!({"code": code})).await;
        assert_eq!(refused.error(), "reauth_required", "{path}");
    }
    let wrong = app
        .mfa_post("/auth/reauthenticate", &token, json!({"code": "000000"}))
        .await;
    assert_eq!(
        (wrong.status, wrong.error()),
        (StatusCode::UNAUTHORIZED, "invalid_code")
    );
    let proven = app
        .mfa_post("/auth/reauthenticate", &token, json!({"code": code}))
        .await;
    assert_eq!(proven.status, StatusCode::OK, "{}", proven.text);
    app.clock.advance(Duration::seconds(30));
    let next = totp(&user.secret, app.now_unix());
    let disabled = app
        .mfa_post("/auth/mfa/disable", &token, json!({"code": next}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
}
