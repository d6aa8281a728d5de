//! Spawning the app on a fresh database and talking to it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_service::boxed::{self, BoxService};
use actix_service::{Service, ServiceExt as _};
use actix_web::body::{BoxBody, to_bytes};
use actix_web::cookie::Cookie;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::test::{TestRequest, init_service};
use actix_web::web;
use authd::config::Settings;
use authd::startup::{app, build_state};
use authd_store::Store;
use authd_store::testing::{self, TestDatabase};
use authd_testkit::FixedClock;
use serde_json::{Value, json};
use time::macros::datetime;

/// Generates `<name>::sqlite` and `<name>::postgres` from an `async fn <name>(app: TestApp)`. The PostgreSQL
/// database is the one this test process shares, or with `@alone` one of the test's own: tests that send
/// email need that, because every app's email worker drains the one outbox of its database.
macro_rules! api_tests {
    (@alone $($name:ident),* $(,)?) => { api_tests!(@with postgres_alone; $($name),*); };
    (@with $postgres:ident; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name($crate::helpers::TestApp::sqlite().await).await;
            }

            #[actix_web::test]
            async fn postgres() {
                let Some(app) = $crate::helpers::TestApp::$postgres().await else { return };
                super::$name(app).await;
            }
        }
    )*};
    ($($name:ident),* $(,)?) => { api_tests!(@with postgres; $($name),*); };
}

pub const FRONTEND: &str = "https://app.example.com";
pub const PASSWORD: &str = "correct horse battery staple";

type AppService = BoxService<actix_http::Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// The app over a fresh database, with a clock the test controls.
pub struct TestApp {
    service: AppService,
    pub clock: FixedClock,
    pub store: Store,
    pub db: Arc<TestDatabase>,
    /// This app's client address: random, so apps sharing a database do not share per-IP limits.
    pub peer: SocketAddr,
    _worker: WorkerGuard,
}

/// Stops the app's email worker with the app (it runs on the shared background runtime).
struct WorkerGuard(authd::background::Shutdown);

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.0.trigger();
    }
}

/// What came back.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestResponse {
    /// The `Set-Cookie` of this name, parsed.
    pub fn cookie(&self, name: &str) -> Option<Cookie<'static>> {
        self.headers
            .get_all(header::SET_COOKIE)
            .filter_map(|v| Cookie::parse_encoded(v.to_str().ok()?.to_owned()).ok())
            .find(|c| c.name() == name)
    }

    /// Asserts the contract's error shape and returns the code.
    pub fn error(&self) -> &str {
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "no message in {}",
            self.text
        );
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.text))
    }

    pub fn access_token(&self) -> String {
        self.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    pub fn refresh_token(&self) -> String {
        self.body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned()
    }
}

/// Settings for tests: a cheap scrypt cost, a known frontend, everything else as shipped.
pub fn test_settings(db: &TestDatabase) -> Settings {
    let env: HashMap<String, String> = [
        ("AUTHD__DATABASE__URL", db.raw_url.as_str()),
        ("AUTHD__SERVER__FRONTEND_URL", FRONTEND),
        ("AUTHD__PASSWORD__SCRYPT_LOG_N", "4"),
        ("AUTHD__PASSKEY__RP_ID", "app.example.com"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    Settings::load(None, &env).expect("test settings")
}

/// A count or duration setting.
pub fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("not 0")
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::on(Arc::new(testing::sqlite()), |_| {}).await
    }

    pub async fn postgres() -> Option<Self> {
        Some(Self::on(Arc::new(testing::postgres()?), |_| {}).await)
    }

    /// On a PostgreSQL database of its own.
    pub async fn postgres_alone() -> Option<Self> {
        Some(Self::on(Arc::new(testing::postgres_private()?), |_| {}).await)
    }

    /// Another app on the same database (a restart, or a second instance), with its own settings tweak.
    pub async fn on(db: Arc<TestDatabase>, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings(&db);
        tweak(&mut settings);
        let clock = FixedClock::at(datetime!(2026-06-01 12:00 UTC));
        let (state, worker) = build_state(&settings, Arc::new(clock.clone()))
            .await
            .expect("app state");
        let shutdown = authd::background::Shutdown::default();
        authd::background::spawn(worker.run(shutdown.clone()));
        let store = state.store.clone();
        let service = init_service(app(web::Data::new(state))).await;
        let service = boxed::service(service.map(ServiceResponse::map_into_boxed_body));
        Self {
            service,
            clock,
            store,
            db,
            peer: random_peer(),
            _worker: WorkerGuard(shutdown),
        }
    }

    /// The same database, new settings.
    pub async fn reconfigured(&self, tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::on(self.db.clone(), tweak).await
    }

    pub async fn call(&self, req: TestRequest) -> TestResponse {
        self.call_from(req, self.peer).await
    }

    pub async fn call_from(&self, req: TestRequest, peer: SocketAddr) -> TestResponse {
        self.send(req.peer_addr(peer).to_request()).await
    }

    /// A request built by hand (e.g. with a body that is still streaming).
    pub async fn send(&self, req: actix_http::Request) -> TestResponse {
        let response = self.service.call(req).await.expect("service answered");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body()).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn post_json(&self, path: &str, body: Value) -> TestResponse {
        self.call(TestRequest::post().uri(path).set_json(body))
            .await
    }

    pub async fn register(&self, email: &str) -> TestResponse {
        let response = self
            .post_json(
                "/auth/register",
                json!({"email": email, "name": "Ada Lovelace", "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        response
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post_json("/auth/login", json!({"email": email, "password": password}))
            .await
    }

    pub async fn validate_bearer(&self, token: &str) -> TestResponse {
        self.call(
            TestRequest::get()
                .uri("/auth/validate")
                .insert_header(bearer(token)),
        )
        .await
    }
}

pub fn bearer(token: &str) -> (header::HeaderName, String) {
    (header::AUTHORIZATION, format!("Bearer {token}"))
}

/// An address in 10.0.0.0/8 nobody else uses.
pub fn random_peer() -> SocketAddr {
    let [a, b, c, ..] = *uuid::Uuid::new_v4().as_bytes();
    SocketAddr::from(([10, a, b, c], 40000))
}

pub fn unique_email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4().simple())
}
