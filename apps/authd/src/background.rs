//! Keeping SQLite queries from being dropped halfway.
//!
//! diesel-async runs SQLite queries on blocking threads, and a query future dropped before its thread is
//! done waits for it with `block_in_place`, which panics on a current-thread runtime; every actix worker is
//! one. So query futures must never be dropped mid-flight:
//! - requests run to completion in a task of their own ([`run_to_completion`]): a client that hangs up does
//!   not cut its request short (which also means a request is never half-done because its client left);
//! - extractors that query the database do it in a task of their own (see `auth.rs`), because actix drops
//!   the other extractors of a handler as soon as one fails (a malformed body next to a session lookup);
//! - background loops (the email worker, the purge, queueing a reset email after the answer) run on a small
//!   multi-threaded runtime of their own ([`spawn`]), where that wait is allowed, and stop between rounds
//!   ([`Shutdown`]).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::Notify;

use crate::error::ApiError;

/// Middleware: runs the rest of the request in its own task and waits for it.
pub async fn run_to_completion(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // A task that failed (a panic in a handler) is an internal error like any other: the client gets the
    // JSON `internal_error` body, and the task's error goes to the log with the rest of the cause chain.
    actix_web::rt::spawn(next.call(req))
        .await
        .map_err(ApiError::internal)?
}

fn runtime() -> Option<&'static Runtime> {
    static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let built = Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("authd-background")
                .enable_all()
                .build();
            built
                .map_err(|e| tracing::error!(error = %e, "cannot start the background runtime"))
                .ok()
        })
        .as_ref()
}

/// Runs `work` on the background runtime.
pub fn spawn(work: impl Future<Output = ()> + Send + 'static) {
    match runtime() {
        Some(runtime) => {
            runtime.spawn(work);
        }
        None => tracing::error!("background work dropped: no background runtime"),
    }
}

/// Asks background loops to stop at their next safe point.
#[derive(Debug, Clone, Default)]
pub struct Shutdown(Arc<(AtomicBool, Notify)>);

impl Shutdown {
    /// Stop.
    pub fn trigger(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_waiters();
    }

    /// Whether stop was asked.
    pub fn is_triggered(&self) -> bool {
        self.0.0.load(Ordering::SeqCst)
    }

    /// Resolves once stop is asked.
    pub async fn triggered(&self) {
        let notified = self.0.1.notified();
        if !self.is_triggered() {
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, http::StatusCode, test, web};

    use super::run_to_completion;

    async fn handler_that_panics() -> HttpResponse {
        panic!("secret-detail-of-the-failure")
    }

    #[actix_web::test]
    async fn a_failed_request_task_answers_the_json_internal_error() {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(run_to_completion))
                .route("/", web::get().to(handler_that_panics)),
        )
        .await;
        let request = test::TestRequest::get().to_request();
        // The server turns an error that reaches it into its response; the test does the same.
        let response = match test::try_call_service(&app, request).await {
            Ok(_) => panic!("a panicking handler answered"),
            Err(err) => err.error_response(),
        };
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body()).await.unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({ "error": "internal_error", "message": "internal error" })
        );
    }
}
