//! Wiring: the store, keys, hasher and use cases into an [`AppState`], and the state into an actix `App`.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use authd_account::{Accounts, Domains, Parts, Throttle};
use authd_identity::{IdentityService, PasswordResetService, ResetPolicy, ScryptHasher};
use authd_kernel::{Clock, OsRandom, SealingKey, Secret, StoreError, SystemClock};
use authd_mfa::{MfaPolicy, MfaService, SecretCipher};
use authd_oauth::{OAuthPolicy, OAuthService};
use authd_passkey::PasskeyService;
use authd_session::ports::SigningKeyRepository as _;
use authd_session::{KeyId, KeyRing, SessionService, SigningKey, StoredSigningKey};
use authd_store::{PoolOptions, Store};
use authd_webauthn::WebAuthnRelyingParty;
use time::Duration;
use tracing_actix_web::TracingLogger;

use crate::background::{self, Shutdown};
use crate::config::Settings;
use crate::cors;
use crate::error::ApiError;
use crate::hashing::BoundedHasher;
use crate::mail::{AppMailer, OutboxSignal, OutboxWorker};
use crate::metrics::{self, Metrics};
use crate::providers::AppProvider;
use crate::state::{AppClock, AppState, WebSettings};
use crate::telemetry::{self, RequestSpan};
use crate::{csrf, routes};

/// What can stop the service from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database is unreachable or a migration failed.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The signing key or scrypt cost is unusable.
    #[error("{0}")]
    Setup(String),
    /// The listener could not be bound.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the store, applies migrations and builds every use case, and the email worker that must run beside
/// them (see [`OutboxWorker::run`]).
///
/// # Errors
/// A [`StartupError`] saying which part failed.
pub async fn build_state(
    settings: &Settings,
    clock: AppClock,
) -> Result<(AppState, OutboxWorker<AppMailer>), StartupError> {
    let store = Store::open(&settings.database.url, settings.database.pool());
    let applied = store.migrate().await?;
    tracing::info!(backend = ?store.backend(), applied, "database ready");

    let sealing = sealing_key(settings, &store, clock.as_ref()).await?;
    let keys = signing_keys(settings, &store, &sealing, clock.as_ref()).await?;
    let cost = settings.password.cost();
    // The dummy hash costs one full scrypt run: keep it off the executor like every other hash.
    let scrypt = tokio::task::spawn_blocking(move || ScryptHasher::new(cost, &OsRandom))
        .await
        .map_err(|e| StartupError::Setup(e.to_string()))?
        .map_err(|e| StartupError::Setup(e.to_string()))?;
    let hasher = BoundedHasher::new(
        scrypt,
        settings.password.concurrency(),
        settings.password.hash_queue.get(),
    );
    let reset_policy = ResetPolicy {
        ttl: settings.tokens.reset_ttl(),
        reset_url: settings.reset_url(),
        product: settings.email.product_name.clone(),
    };
    let outbox = OutboxSignal::default();
    let mailer = AppMailer::from_settings(&settings.smtp).map_err(StartupError::Setup)?;
    let worker = OutboxWorker::new(
        store.clone(),
        mailer,
        clock.clone(),
        &settings.email,
        outbox.clone(),
    );
    let cipher = SecretCipher::with_key(sealing);
    let mfa_policy = MfaPolicy {
        issuer: settings.mfa.issuer.clone(),
    };
    let providers = AppProvider::configured(&settings.oauth).map_err(StartupError::Setup)?;
    let oauth_policy = OAuthPolicy {
        public_url: settings.server.public_url.to_string(),
        state_ttl: Duration::seconds(settings.oauth.state_ttl_secs.get().into()),
    };
    let relying_party = WebAuthnRelyingParty::new(settings.relying_party())
        .map_err(|e| StartupError::Setup(format!("passkey: {e}")))?;
    let policy = settings.tokens.policy();
    let domains = Domains {
        identity: IdentityService::new(store.clone(), hasher.clone(), clock.clone(), OsRandom),
        resets: PasswordResetService::new(
            store.clone(),
            hasher,
            clock.clone(),
            OsRandom,
            reset_policy,
        ),
        mfa: MfaService::new(store.clone(), cipher, mfa_policy, clock.clone(), OsRandom),
        oauth: OAuthService::new(
            store.clone(),
            providers,
            oauth_policy,
            clock.clone(),
            OsRandom,
        ),
        passkeys: PasskeyService::new(store.clone(), relying_party, clock.clone(), OsRandom),
        sessions: SessionService::new(store.clone(), keys, policy, clock.clone(), OsRandom),
    };
    let throttle = Throttle::new(
        store.clone(),
        settings.rate_limit.policy(&settings.email),
        clock.clone(),
    );
    let state = AppState {
        accounts: Accounts::new(Parts {
            domains,
            throttle,
            policy: settings.security.policy(),
            log: store.clone(),
            clock,
            random: OsRandom,
        }),
        outbox,
        web: WebSettings {
            secure_cookies: settings.cookies.secure,
            allowed_origins: settings.server.all_allowed_origins(),
            trusted_proxies: settings.server.trusted_proxies.clone(),
            max_body_bytes: settings.server.max_body_bytes,
            body_timeout: StdDuration::from_secs(settings.server.body_timeout_secs.into()),
            frontend_url: settings.server.frontend_base().to_owned(),
            oauth_state_ttl_secs: settings.oauth.state_ttl_secs.get().into(),
            metrics_apart: settings.server.metrics_bind.is_some(),
            hsts: (settings.cookies.secure && settings.server.hsts_max_age_secs > 0).then(|| {
                format!(
                    "max-age={}; includeSubDomains",
                    settings.server.hsts_max_age_secs
                )
            }),
        },
        metrics: Metrics::default(),
        store,
    };
    Ok((state, worker))
}

/// The configured key, or the one stored in the database (generated on first start, stored sealed).
async fn signing_keys(
    settings: &Settings,
    store: &Store,
    sealing: &SealingKey,
    clock: &dyn Clock,
) -> Result<KeyRing, StartupError> {
    let setup = |e: authd_session::SessionError| StartupError::Setup(format!("signing key: {e}"));
    if let Some(key) = &settings.tokens.signing_key {
        return Ok(KeyRing::single(key.clone()));
    }
    let fresh = SigningKey::generate(KeyId(1), &OsRandom).map_err(setup)?;
    let candidate = StoredSigningKey::sealed(&fresh, sealing, clock.now(), &OsRandom);
    let stored = store.load_or_insert(&candidate).await?;
    KeyRing::from_stored(&stored, sealing).map_err(setup)
}

/// The key that seals readable secrets at rest (TOTP secrets, the stored signing key): the configured one,
/// or the one stored in the database (generated by the first instance to start).
async fn sealing_key(
    settings: &Settings,
    store: &Store,
    clock: &dyn Clock,
) -> Result<SealingKey, StartupError> {
    if let Some(key) = &settings.secrets.encryption_key {
        return Ok(key.clone());
    }
    let candidate = Secret::new(hex::encode(SealingKey::generate(&OsRandom)));
    let stored = store
        .load_or_insert_secret("mfa_encryption_key", &candidate, clock.now())
        .await?;
    SealingKey::from_hex(stored.expose()).ok_or_else(|| {
        StartupError::Setup(
            "the encryption key stored in the database is not 32 hex-encoded bytes".into(),
        )
    })
}

/// The actix application over `state`: routes, API docs, and the middleware stack (outermost first):
/// request span, request id header, metrics, security headers, CORS, the task that lets a request finish
/// even if its client leaves (see `background`), CSRF origin check.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let max_body = state.web.max_body_bytes;
    let metrics_apart = state.web.metrics_apart;
    let headers = security_headers(&state.web);
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(max_body))
        .app_data(web::PathConfig::default().error_handler(|err, _| {
            let detail = match &err {
                PathError::Deserialize(inner) => inner.to_string(),
                other => other.to_string(),
            };
            invalid_request("path", &detail)
        }))
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            let detail = match &err {
                QueryPayloadError::Deserialize(inner) => inner.to_string(),
                other => other.to_string(),
            };
            invalid_request("query string", &detail)
        }))
        .configure(routes::configure)
        .configure(|cfg| {
            if !metrics_apart {
                routes::public_metrics(cfg);
            }
        })
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
        }))
        .wrap(from_fn(csrf::check_origin))
        .wrap(from_fn(background::run_to_completion))
        .wrap(from_fn(cors::cors))
        .wrap(headers)
        .wrap(from_fn(metrics::record))
        .wrap(from_fn(telemetry::echo_request_id))
        .wrap(TracingLogger::<RequestSpan>::new())
}

/// Headers every answer carries unless it set its own: no sniffing, no framing, no referrer, no caching
/// (every answer is personal or about the service's security), and HSTS behind TLS.
fn security_headers(web: &WebSettings) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"));
    match &web.hsts {
        Some(value) => headers.add((header::STRICT_TRANSPORT_SECURITY, value.clone())),
        None => headers,
    }
}

/// The framework's own words stay out of the message ("Query deserialize error: ..."): only what is wrong.
fn invalid_request(part: &str, detail: &str) -> actix_web::Error {
    ApiError::InvalidRequest(format!("invalid {part}: {detail}")).into()
}

/// Runs the service until SIGINT/SIGTERM.
///
/// # Errors
/// A [`StartupError`] when the service cannot start.
pub async fn serve(settings: Settings) -> Result<(), StartupError> {
    let clock: AppClock = Arc::new(SystemClock);
    let (state, worker) = build_state(&settings, clock.clone()).await?;
    let state = web::Data::new(state);
    background::spawn(worker.run(Shutdown::default()));
    spawn_purger(
        state.store.clone(),
        clock,
        settings.security.event_retention(),
    );
    let bind = settings.server.bind;
    let mut server = HttpServer::new({
        let state = state.clone();
        move || app(state.clone())
    });
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    tracing::info!(%bind, "authd listening");
    let api = server.bind(bind)?.run();
    match settings.server.metrics_bind {
        None => api.await?,
        Some(metrics_bind) => {
            let metrics = HttpServer::new(move || metrics_app(state.clone()))
                .workers(1)
                .bind(metrics_bind)?
                .run();
            tracing::info!(%metrics_bind, "metrics listening");
            tokio::try_join!(api, metrics)?;
        }
    }
    Ok(())
}

/// The metrics listener's application: `GET /metrics` with the figures only an internal network should see.
pub fn metrics_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .configure(routes::private_metrics)
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
        }))
}

/// Every quarter hour, deletes rows that expired long ago and security events past their retention. Safe on
/// every instance at once.
fn spawn_purger(store: Store, clock: AppClock, event_retention: Duration) {
    background::spawn(async move {
        let mut interval = tokio::time::interval(StdDuration::from_secs(15 * 60));
        loop {
            interval.tick().await;
            let now = clock.now();
            let purged = async {
                Ok::<_, StoreError>(
                    store.purge_expired(now).await?
                        + store.purge_events_before(now - event_retention).await?,
                )
            };
            match purged.await {
                Ok(removed) => tracing::debug!(removed, "purged expired rows"),
                Err(err) => tracing::warn!(error = %err, "purging expired rows failed"),
            }
        }
    });
}

/// `authd migrate`: applies pending migrations and reports how many ran.
///
/// # Errors
/// A [`StartupError`] when the database is unreachable or a migration fails.
pub async fn migrate(settings: &Settings) -> Result<usize, StartupError> {
    let store = Store::open(&settings.database.url, PoolOptions::default());
    Ok(store.migrate().await?)
}
