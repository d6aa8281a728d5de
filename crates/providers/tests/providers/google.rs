//! Google over OpenID Connect: discovery (cached), PKCE, the nonce, and the ID token checks.

use std::time::Instant;

use authd_kernel::Secret;
use authd_oauth::ports::IdentityProvider;
use authd_oauth::{AuthorizationRequest, OAuthError, ProviderIdentity, ProviderKind};
use authd_providers::{GoogleConfig, GoogleProvider};
use serde_json::json;

use authd_testsupport::oauth_provider::{
    self as support, CLIENT_ID, CLIENT_SECRET, FakeProvider, REDIRECT_URI, TIMEOUT,
};

fn config(issuer: &str) -> GoogleConfig {
    GoogleConfig {
        issuer_url: issuer.to_owned(),
        timeout: TIMEOUT,
        ..GoogleConfig::google_com(CLIENT_ID, Secret::new(CLIENT_SECRET))
    }
}

async fn setup() -> (FakeProvider, GoogleProvider) {
    let fake = FakeProvider::start().await;
    let provider = GoogleProvider::new(config(fake.url())).unwrap();
    (fake, provider)
}

async fn sign_in_with(
    fake: &FakeProvider,
    provider: &GoogleProvider,
    exchange_with: impl FnOnce(AuthorizationRequest) -> AuthorizationRequest,
) -> Result<ProviderIdentity, OAuthError> {
    let request = support::request();
    let url = provider.authorize_url(&request).await.unwrap();
    let code = fake.approve(&url, &request).await;
    provider.exchange(&code, &exchange_with(request)).await
}

async fn sign_in(
    fake: &FakeProvider,
    provider: &GoogleProvider,
) -> Result<ProviderIdentity, OAuthError> {
    sign_in_with(fake, provider, |request| request).await
}

fn assert_refused(result: Result<ProviderIdentity, OAuthError>, why: &str) {
    let error = result.unwrap_err();
    assert!(
        matches!(&error, OAuthError::Refused(reason) if reason.contains(why)),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_authorize_url_carries_scopes_state_nonce_redirect_and_s256_challenge() {
    let (_fake, provider) = setup().await;
    let request = support::request();
    let url = provider.authorize_url(&request).await.unwrap();
    let query = support::query_of(&url);
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["scope"], "openid email profile");
    assert_eq!(query["state"], request.state.expose());
    assert_eq!(query["nonce"], request.nonce.expose());
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(
        query["code_challenge"],
        support::s256(request.pkce_verifier.expose())
    );
}

#[tokio::test]
async fn a_verified_id_token_gives_the_subject_and_verified_email() {
    let (fake, provider) = setup().await;
    let identity = sign_in(&fake, &provider).await.unwrap();
    assert_eq!(identity.provider, ProviderKind::Google);
    assert_eq!(identity.subject, "110169484474386276334");
    assert_eq!(identity.email.as_deref(), Some("ada@example.com"));
    assert!(identity.email_verified);
    assert_eq!(identity.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        fake.discoveries(),
        1,
        "discovery is cached after the first success"
    );
}

#[tokio::test]
async fn an_unverified_email_claim_is_reported_as_unverified() {
    let (fake, provider) = setup().await;
    fake.behave(|b| b.claims = json!({ "email_verified": false }));
    let identity = sign_in(&fake, &provider).await.unwrap();
    assert!(!identity.email_verified);
}

#[tokio::test]
async fn a_nonce_other_than_the_requests_is_refused() {
    let (fake, provider) = setup().await;
    fake.behave(|b| b.claims = json!({ "nonce": "replayed-nonce" }));
    assert_refused(sign_in(&fake, &provider).await, "nonce");
}

#[tokio::test]
async fn an_id_token_for_another_audience_is_refused() {
    let (fake, provider) = setup().await;
    fake.behave(|b| b.claims = json!({ "aud": "someone-else" }));
    assert_refused(sign_in(&fake, &provider).await, "audience");
}

#[tokio::test]
async fn an_id_token_from_another_issuer_is_refused() {
    let (fake, provider) = setup().await;
    fake.behave(|b| b.claims = json!({ "iss": "https://evil.example" }));
    assert_refused(sign_in(&fake, &provider).await, "issuer");
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let (fake, provider) = setup().await;
    let now = support::unix_now();
    fake.behave(|b| b.claims = json!({ "iat": now - 7200, "exp": now - 3600 }));
    assert_refused(sign_in(&fake, &provider).await, "expired");
}

#[tokio::test]
async fn an_id_token_signed_by_another_key_is_refused() {
    let (fake, provider) = setup().await;
    fake.behave(|b| b.forge = true);
    assert_refused(sign_in(&fake, &provider).await, "signature");
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused() {
    let (fake, provider) = setup().await;
    let result = sign_in_with(&fake, &provider, |request| AuthorizationRequest {
        pkce_verifier: Secret::new("another-verifier-0123456789abcdefghijklmnop"),
        ..request
    })
    .await;
    assert_refused(result, "invalid_grant");
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_again() {
    let (fake, provider) = setup().await;
    let request = support::request();
    let url = provider.authorize_url(&request).await.unwrap();
    fake.behave(|b| b.rotated = true);
    let code = fake.approve(&url, &request).await;
    let identity = provider.exchange(&code, &request).await.unwrap();
    assert_eq!(identity.subject, "110169484474386276334");
    assert_eq!(fake.discoveries(), 2);
}

#[tokio::test]
async fn a_failed_discovery_is_unavailable_and_retried_on_the_next_call() {
    let (fake, provider) = setup().await;
    fake.behave(|b| b.discovery_down = true);
    let error = provider
        .authorize_url(&support::request())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, OAuthError::Unavailable(reason) if reason.contains("503")),
        "{error:?}"
    );
    fake.behave(|b| b.discovery_down = false);
    sign_in(&fake, &provider).await.unwrap();
    assert_eq!(fake.discoveries(), 2);
}

#[tokio::test]
async fn an_issuer_that_is_down_is_unavailable_quickly() {
    let provider = GoogleProvider::new(config(&support::closed_port_url().await)).unwrap();
    let started = Instant::now();
    let error = provider
        .exchange(&Secret::new("code"), &support::request())
        .await
        .unwrap_err();
    assert!(matches!(error, OAuthError::Unavailable(_)), "{error:?}");
    assert!(started.elapsed() < TIMEOUT * 2);
}

#[tokio::test]
async fn a_slow_token_endpoint_times_out_as_unavailable() {
    let (fake, provider) = setup().await;
    fake.behave(|b| b.token_delay = TIMEOUT * 4);
    let error = sign_in(&fake, &provider).await.unwrap_err();
    assert!(matches!(error, OAuthError::Unavailable(_)), "{error:?}");
}
