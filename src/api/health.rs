//! `/healthz`, `/readyz`, `/metrics`: open without a token.

use std::sync::Arc;

use poem_openapi::payload::PlainText;
use poem_openapi::{ApiResponse, OpenApi};

use super::{ApiTags, AppState};

/// Answers of `GET /readyz`.
#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// The database is reachable and the schema migrated.
    #[oai(status = 200)]
    Ready(PlainText<String>),
    /// The database is unreachable or the schema not (fully) migrated.
    #[oai(status = 503)]
    NotReady(PlainText<String>),
}

/// Answers of `GET /healthz`.
#[derive(ApiResponse)]
pub enum HealthResponse {
    /// The process is alive.
    #[oai(status = 200)]
    Ok(PlainText<String>),
}

/// Answers of `GET /metrics`.
#[derive(ApiResponse)]
pub enum MetricsResponse {
    /// Metrics in the Prometheus text format.
    #[oai(status = 200, content_type = "text/plain; version=0.0.4")]
    Ok(PlainText<String>),
}

pub struct HealthApi {
    pub state: Arc<AppState>,
}

#[OpenApi(tag = "ApiTags::Operations")]
impl HealthApi {
    /// Liveness
    ///
    /// 200 while the process runs; touches nothing.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> HealthResponse {
        HealthResponse::Ok(PlainText("ok".into()))
    }

    /// Readiness
    ///
    /// 200 when the database answers and every migration this binary
    /// knows is applied.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self) -> ReadyResponse {
        match self.state.client.readiness().await {
            Ok(None) => ReadyResponse::Ready(PlainText("ready".into())),
            Ok(Some(missing)) => ReadyResponse::NotReady(PlainText(missing)),
            Err(_) => ReadyResponse::NotReady(PlainText("database unreachable".into())),
        }
    }

    /// Metrics
    ///
    /// Prometheus text format: jobs per queue and state, oldest available
    /// age, notification queue usage, and this process's counters (HTTP
    /// requests by route and status, enqueues, job outcomes and run
    /// durations of its own worker).
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self) -> MetricsResponse {
        let mut out = String::new();
        if let Ok(stats) = self.state.client.queues().await {
            let mut samples = Vec::new();
            let mut ages = Vec::new();
            let mut paused = Vec::new();
            for s in &stats {
                for (state, n) in [
                    ("pending", s.pending),
                    ("scheduled", s.scheduled),
                    ("available", s.available),
                    ("running", s.running),
                    ("retryable", s.retryable),
                    ("succeeded", s.succeeded),
                    ("failed", s.failed),
                    ("cancelled", s.cancelled),
                ] {
                    samples.push((
                        vec![("queue", s.queue.clone()), ("state", state.to_string())],
                        n as f64,
                    ));
                }
                ages.push((
                    vec![("queue", s.queue.clone())],
                    s.oldest_available_age_seconds.unwrap_or(0.0),
                ));
                paused.push((
                    vec![("queue", s.queue.clone())],
                    if s.paused { 1.0 } else { 0.0 },
                ));
            }
            crate::metrics::gauge(
                &mut out,
                "weir_jobs",
                "Jobs per queue and state (queue depth).",
                &samples,
            );
            crate::metrics::gauge(
                &mut out,
                "weir_queue_oldest_available_age_seconds",
                "Age of the oldest available job per queue.",
                &ages,
            );
            crate::metrics::gauge(
                &mut out,
                "weir_queue_paused",
                "1 when the queue is paused.",
                &paused,
            );
        }
        if let Ok(usage) = self.state.client.notification_queue_usage().await {
            crate::metrics::gauge(
                &mut out,
                "weir_pg_notification_queue_usage",
                "Fraction of PostgreSQL's NOTIFY queue in use (commits fail when it is full).",
                &[(vec![], usage)],
            );
        }
        crate::metrics::render_process(&mut out);
        MetricsResponse::Ok(PlainText(out))
    }
}
