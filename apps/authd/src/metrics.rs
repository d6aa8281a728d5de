//! Prometheus metrics: requests by method, route and status with latency histograms, and logins by outcome.
//! A small registry of our own: a handful of counters does not need a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    count: u64,
    sum: f64,
    /// Cumulative counts per bucket bound.
    buckets: [u64; BUCKETS.len()],
}

#[derive(Debug, Default)]
struct Registry {
    requests: BTreeMap<(String, String, u16), Histogram>,
    logins: BTreeMap<&'static str, u64>,
    reauthentications: BTreeMap<&'static str, u64>,
    sessions_revoked: u64,
}

/// The process's metrics; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Metrics(Arc<Mutex<Registry>>);

impl Metrics {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut registry = self.registry();
        let histogram = registry
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        for (bound, bucket) in BUCKETS.iter().zip(histogram.buckets.iter_mut()) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
    }

    /// Records a password login's outcome.
    pub fn login(&self, outcome: &'static str) {
        *self.registry().logins.entry(outcome).or_default() += 1;
    }

    /// Counts a re-authentication (step-up) by outcome: `success` or `failure`.
    pub fn reauthentication(&self, outcome: &'static str) {
        *self
            .registry()
            .reauthentications
            .entry(outcome)
            .or_default() += 1;
    }

    /// Counts sessions their owners ended (one, or all others).
    pub fn sessions_revoked(&self, count: u64) {
        self.registry().sessions_revoked += count;
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let registry = self.registry();
        let mut out = String::new();
        out.push_str("# HELP authd_http_requests_total HTTP requests answered.\n# TYPE authd_http_requests_total counter\n");
        for ((method, route, status), h) in &registry.requests {
            let _ = writeln!(
                out,
                "authd_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP authd_http_request_duration_seconds Time to answer.\n# TYPE authd_http_request_duration_seconds histogram\n");
        for ((method, route, status), h) in &registry.requests {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (bound, count) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "authd_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "authd_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "authd_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "authd_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP authd_logins_total Password logins by outcome.\n# TYPE authd_logins_total counter\n");
        for (outcome, count) in &registry.logins {
            let _ = writeln!(out, "authd_logins_total{{outcome=\"{outcome}\"}} {count}");
        }
        out.push_str("# HELP authd_reauthentications_total Re-authentications (step-up) by outcome.\n# TYPE authd_reauthentications_total counter\n");
        for (outcome, count) in &registry.reauthentications {
            let _ = writeln!(
                out,
                "authd_reauthentications_total{{outcome=\"{outcome}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP authd_sessions_revoked_total Sessions ended by their owner.\n# TYPE authd_sessions_revoked_total counter\nauthd_sessions_revoked_total {}",
            registry.sessions_revoked
        );
        out
    }
}

/// Middleware: times every request and records it under its route pattern (never the raw path, whose ids
/// would make the label set unbounded).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    let method = method_label(req.method());
    let response = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        metrics.observe(
            &method,
            &route,
            response.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(response)
}

/// The method as a label: the ones the API has, or `OTHER`, so a client inventing methods cannot grow the
/// label set (and the registry) without bound.
fn method_label(method: &Method) -> String {
    match *method {
        Method::GET | Method::HEAD | Method::POST | Method::DELETE | Method::OPTIONS => {
            method.to_string()
        }
        _ => "OTHER".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        for (method, label) in [("GET", "GET"), ("DELETE", "DELETE"), ("ZZTOP123", "OTHER")] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert_eq!(method_label(&method), label);
        }
    }

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.observe("POST", "/auth/login", 200, 0.02);
        metrics.observe("POST", "/auth/login", 200, 0.3);
        metrics.login("success");
        let text = metrics.render();
        assert!(text.contains(
            "authd_http_requests_total{method=\"POST\",route=\"/auth/login\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.025\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("authd_logins_total{outcome=\"success\"} 1"));
    }
}
