//! A local OAuth 2.0 and OpenID Connect provider on loopback, served by the tests: an authorize endpoint that
//! "approves" at once, a token endpoint that really checks the client, the code, the redirect URI and the
//! PKCE verifier, GitHub's `/user` and `/user/emails`, discovery and a JWKS with RS256-signed ID tokens.

#![expect(clippy::unwrap_used, reason = "test support fails loudly")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authd_kernel::Secret;
use authd_oauth::AuthorizationRequest;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::Digest;

/// The client id the provider accepts.
pub const CLIENT_ID: &str = "authd-client";
/// The client secret the provider accepts.
pub const CLIENT_SECRET: &str = "authd-client-secret";
/// The redirect URI of [`request`].
pub const REDIRECT_URI: &str = "http://localhost:8080/auth/test/callback";
/// The key id of the issuer's (first) signing key.
pub const ISSUER_KID: &str = "issuer-1";
/// How long the adapters under test should wait for the provider.
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// What the provider does; tests change it between steps.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// The token endpoint answers 200 with a body that is not JSON.
    pub garbage_token: bool,
    /// The token endpoint sleeps this long before answering.
    pub token_delay: Duration,
    /// GitHub's numeric user id (`/user`), so tests sharing a database use distinct identities.
    pub github_id: u64,
    /// What `/user/emails` lists.
    pub emails: Value,
    /// Discovery answers 503.
    pub discovery_down: bool,
    /// ID token claims overriding the normal ones (`nonce`, `aud`, `exp`, ...).
    pub claims: Value,
    /// ID tokens are signed with another key under the issuer's key id.
    pub forge: bool,
    /// The issuer has rotated to a new key (new key id), published in the JWKS and used for ID tokens.
    pub rotated: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            garbage_token: false,
            token_delay: Duration::ZERO,
            github_id: 583_231,
            emails: json!([
                {"email": "old@example.com", "primary": false, "verified": true, "visibility": null},
                {"email": "ada@example.com", "primary": true, "verified": true, "visibility": "private"},
            ]),
            discovery_down: false,
            claims: json!({}),
            forge: false,
            rotated: false,
        }
    }
}

/// What the authorize step recorded for a code.
#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
}

#[derive(Debug, Default)]
struct Records {
    grants: HashMap<String, Grant>,
    tokens: Vec<String>,
    issued: u32,
    discoveries: u32,
}

#[derive(Debug)]
struct Shared {
    base: String,
    issuer_key: RsaPrivateKey,
    other_key: RsaPrivateKey,
    behaviour: Mutex<Behaviour>,
    records: Mutex<Records>,
}

/// A running provider; it stops with the test's runtime.
#[derive(Debug, Clone)]
pub struct FakeProvider {
    shared: Arc<Shared>,
}

impl FakeProvider {
    /// Serves a provider on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            base,
            issuer_key: RsaPrivateKey::from_pkcs8_pem(include_str!("issuer-key.pem")).unwrap(),
            other_key: RsaPrivateKey::from_pkcs8_pem(include_str!("rogue-key.pem")).unwrap(),
            behaviour: Mutex::new(Behaviour::default()),
            records: Mutex::new(Records::default()),
        });
        let app = Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(token))
            .route("/user", get(user))
            .route("/user/emails", get(emails))
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { shared }
    }

    /// Its base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.shared.base
    }

    /// Changes what it does from now on.
    pub fn behave(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.shared.behaviour.lock().unwrap());
    }

    /// How many times its OpenID Connect discovery document was read.
    pub fn discoveries(&self) -> u32 {
        self.shared.records.lock().unwrap().discoveries
    }

    /// Plays the browser: follows the authorization URL to the provider, which approves at once and
    /// redirects back with a code. Checks the state came back and returns the code.
    pub async fn approve(&self, authorize_url: &str, request: &AuthorizationRequest) -> Secret {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let answer = browser.get(authorize_url).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        let location = Url::parse(answer.headers()[header::LOCATION].to_str().unwrap()).unwrap();
        assert!(location.as_str().starts_with(&request.redirect_uri));
        let query: HashMap<_, _> = location.query_pairs().into_owned().collect();
        assert_eq!(query["state"], request.state.expose());
        Secret::new(query["code"].clone())
    }
}

/// The caller's secrets, as the OAuth service would generate them.
pub fn request() -> AuthorizationRequest {
    AuthorizationRequest {
        redirect_uri: REDIRECT_URI.to_owned(),
        state: Secret::new("state-5f1c0a"),
        pkce_verifier: Secret::new("verifier-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"),
        nonce: Secret::new("nonce-9b7e21"),
    }
}

/// The query of a URL as a map.
pub fn query_of(url: &str) -> HashMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// The S256 PKCE challenge of a verifier (RFC 7636).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// An address where nothing listens.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if query.get("response_type").map(String::as_str) != Some("code")
        || query.get("code_challenge_method").map(String::as_str) != Some("S256")
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let mut records = shared.records.lock().unwrap();
    records.issued += 1;
    let code = format!("code-{}", records.issued);
    let grant = Grant {
        client_id: query["client_id"].clone(),
        redirect_uri: query["redirect_uri"].clone(),
        challenge: query["code_challenge"].clone(),
        nonce: query.get("nonce").cloned(),
    };
    records.grants.insert(code.clone(), grant);
    let mut back = Url::parse(&query["redirect_uri"]).unwrap();
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &query["state"]);
    Redirect::to(back.as_str()).into_response()
}

/// The client's credentials, from the form (GitHub) or HTTP Basic (oauth2's default, used for Google).
fn client_authenticated(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let by_header = headers
        .get(header::AUTHORIZATION)
        .is_some_and(|h| h == basic.as_str());
    let by_form = form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
    by_header || by_form
}

async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let behaviour = shared.behaviour.lock().unwrap().clone();
    tokio::time::sleep(behaviour.token_delay).await;
    if behaviour.garbage_token {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"access_token\": <html>oops",
        )
            .into_response();
    }
    if !client_authenticated(&headers, &form) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    // A code is spent by its first use, right or wrong.
    let Some(grant) = form
        .get("code")
        .and_then(|code| shared.records.lock().unwrap().grants.remove(code))
    else {
        // What github.com answers for an unknown code: 200 with an error body.
        return oauth_error(StatusCode::OK, "bad_verification_code");
    };
    let verifier_matches = form
        .get("code_verifier")
        .is_some_and(|v| s256(v) == grant.challenge);
    if grant.client_id != CLIENT_ID
        || form.get("redirect_uri") != Some(&grant.redirect_uri)
        || !verifier_matches
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let access_token = format!("access-{}", shared.records.lock().unwrap().issued);
    shared
        .records
        .lock()
        .unwrap()
        .tokens
        .push(access_token.clone());
    let mut answer = json!({ "access_token": access_token, "token_type": "bearer", "scope": "read:user,user:email" });
    if let Some(nonce) = grant.nonce {
        answer["id_token"] = Value::String(id_token(&shared, &behaviour, &nonce));
    }
    Json(answer).into_response()
}

/// The wall clock in Unix seconds, for ID-token claims: the OpenID Connect library checks `iat` and `exp`
/// against the real time, not against an injected clock.
#[allow(
    clippy::disallowed_methods,
    reason = "the ID tokens are checked against the wall clock"
)]
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn id_token(shared: &Shared, behaviour: &Behaviour, nonce: &str) -> String {
    let now = unix_now();
    let mut claims = json!({
        "iss": shared.base, "aud": CLIENT_ID, "sub": "110169484474386276334",
        "email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace",
        "nonce": nonce, "iat": now, "exp": now + 3600,
    });
    for (name, value) in behaviour.claims.as_object().unwrap() {
        claims[name] = value.clone();
    }
    let (key, kid) = match (behaviour.forge, behaviour.rotated) {
        (false, false) => (&shared.issuer_key, ISSUER_KID),
        (true, _) => (&shared.other_key, ISSUER_KID),
        (false, true) => (&shared.other_key, "issuer-2"),
    };
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": kid });
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = SigningKey::<Sha256>::new(key.clone())
        .sign(signed.as_bytes())
        .to_vec();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn bearer_ok(shared: &Shared, headers: &HeaderMap) -> bool {
    let sent = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let token = sent(header::AUTHORIZATION)
        .strip_prefix("Bearer ")
        .map(str::to_owned);
    token.is_some_and(|t| shared.records.lock().unwrap().tokens.contains(&t))
        && sent(header::USER_AGENT) == "authd"
        && sent(header::ACCEPT) == "application/vnd.github+json"
}

async fn user(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !bearer_ok(&shared, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let id = shared.behaviour.lock().unwrap().github_id;
    Json(json!({ "id": id, "login": "octocat", "name": "The Octocat", "email": null }))
        .into_response()
}

async fn emails(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !bearer_ok(&shared, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(shared.behaviour.lock().unwrap().emails.clone()).into_response()
}

async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    shared.records.lock().unwrap().discoveries += 1;
    if shared.behaviour.lock().unwrap().discovery_down {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let base = &shared.base;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/login/oauth/authorize"),
        "token_endpoint": format!("{base}/login/oauth/access_token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    let jwk = |key: &RsaPrivateKey, kid: &str| {
        let public = RsaPublicKey::from(key);
        json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        })
    };
    let mut keys = vec![jwk(&shared.issuer_key, ISSUER_KID)];
    if shared.behaviour.lock().unwrap().rotated {
        keys.push(jwk(&shared.other_key, "issuer-2"));
    }
    Json(json!({ "keys": keys })).into_response()
}
