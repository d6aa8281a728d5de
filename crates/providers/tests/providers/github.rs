//! GitHub over OAuth 2.0: PKCE, the token request, `/user` and `/user/emails`, and every failure mode.

use std::time::{Duration, Instant};

use authd_kernel::Secret;
use authd_oauth::OAuthError;
use authd_oauth::ports::IdentityProvider;
use authd_providers::{GitHubConfig, GitHubProvider};
use serde_json::json;

use authd_testsupport::oauth_provider::{
    self as support, CLIENT_ID, CLIENT_SECRET, FakeProvider, REDIRECT_URI, TIMEOUT,
};

fn config(base: &str) -> GitHubConfig {
    GitHubConfig {
        authorize_url: format!("{base}/login/oauth/authorize"),
        token_url: format!("{base}/login/oauth/access_token"),
        api_url: base.to_owned(),
        timeout: TIMEOUT,
        ..GitHubConfig::github_com(CLIENT_ID, Secret::new(CLIENT_SECRET))
    }
}

async fn setup() -> (FakeProvider, GitHubProvider) {
    let fake = FakeProvider::start().await;
    let provider = GitHubProvider::new(config(fake.url())).unwrap();
    (fake, provider)
}

/// Authorizes in the "browser" and exchanges the code with `request`'s verifier.
async fn sign_in(
    fake: &FakeProvider,
    provider: &GitHubProvider,
) -> Result<authd_oauth::ProviderIdentity, OAuthError> {
    let request = support::request();
    let url = provider.authorize_url(&request).await.unwrap();
    let code = fake.approve(&url, &request).await;
    provider.exchange(&code, &request).await
}

#[tokio::test]
async fn the_authorize_url_carries_the_client_scopes_state_redirect_and_s256_challenge() {
    let (_fake, provider) = setup().await;
    let request = support::request();
    let url = provider.authorize_url(&request).await.unwrap();
    let query = support::query_of(&url);
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["scope"], "read:user user:email");
    assert_eq!(query["state"], request.state.expose());
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(
        query["code_challenge"],
        support::s256(request.pkce_verifier.expose())
    );
    assert!(!url.contains(request.pkce_verifier.expose()));
}

#[tokio::test]
async fn a_code_exchanged_with_its_verifier_gives_the_user_and_verified_primary_email() {
    let (fake, provider) = setup().await;
    let identity = sign_in(&fake, &provider).await.unwrap();
    assert_eq!(identity.provider, authd_oauth::ProviderKind::GitHub);
    assert_eq!(identity.subject, "583231");
    assert_eq!(identity.email.as_deref(), Some("ada@example.com"));
    assert!(identity.email_verified);
    assert_eq!(identity.name.as_deref(), Some("The Octocat"));
}

#[tokio::test]
async fn a_wrong_verifier_is_refused() {
    let (fake, provider) = setup().await;
    let request = support::request();
    let url = provider.authorize_url(&request).await.unwrap();
    let code = fake.approve(&url, &request).await;
    let tampered = authd_oauth::AuthorizationRequest {
        pkce_verifier: Secret::new("another-verifier-0123456789abcdefghijklmnop"),
        ..request
    };
    let error = provider.exchange(&code, &tampered).await.unwrap_err();
    assert!(
        matches!(&error, OAuthError::Refused(reason) if reason.contains("invalid_grant")),
        "{error:?}"
    );
    assert!(!error.to_string().contains(code.expose()));
}

#[tokio::test]
async fn an_unknown_code_answered_with_200_and_an_error_is_refused() {
    let (_fake, provider) = setup().await;
    let error = provider
        .exchange(&Secret::new("never-issued"), &support::request())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, OAuthError::Refused(reason) if reason.contains("bad_verification_code")),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unverified_primary_email_is_not_reported_as_verified() {
    let (fake, provider) = setup().await;
    fake.behave(|b| {
        b.emails = json!([
            {"email": "ada@example.com", "primary": true, "verified": false},
            {"email": "other@example.com", "primary": false, "verified": true},
        ]);
    });
    let identity = sign_in(&fake, &provider).await.unwrap();
    assert!(!identity.email_verified);
    assert_eq!(identity.email, None);
    assert_eq!(identity.subject, "583231");
}

#[tokio::test]
async fn a_provider_that_is_down_is_unavailable_quickly() {
    let provider = GitHubProvider::new(config(&support::closed_port_url().await)).unwrap();
    let started = Instant::now();
    let error = provider
        .exchange(&Secret::new("code"), &support::request())
        .await
        .unwrap_err();
    assert!(matches!(error, OAuthError::Unavailable(_)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_garbage_token_answer_is_unavailable() {
    let (fake, provider) = setup().await;
    fake.behave(|b| b.garbage_token = true);
    let error = sign_in(&fake, &provider).await.unwrap_err();
    assert!(matches!(error, OAuthError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn a_slow_token_endpoint_times_out_as_unavailable() {
    let (fake, provider) = setup().await;
    fake.behave(|b| b.token_delay = TIMEOUT * 4);
    let started = Instant::now();
    let error = sign_in(&fake, &provider).await.unwrap_err();
    assert!(
        matches!(&error, OAuthError::Unavailable(reason) if reason.contains("timed out")),
        "{error:?}"
    );
    assert!(started.elapsed() < TIMEOUT * 3);
}

#[test]
fn an_invalid_url_is_a_configuration_error() {
    let config = GitHubConfig {
        api_url: "not a url".to_owned(),
        ..GitHubConfig::github_com(CLIENT_ID, Secret::new(CLIENT_SECRET))
    };
    assert!(GitHubProvider::new(config).is_err());
}
