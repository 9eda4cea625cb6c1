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
    /// Metrics in the OpenMetrics text format.
    #[oai(
        status = 200,
        content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    )]
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
    /// OpenMetrics text (which Prometheus reads): jobs per queue and
    /// state, oldest available age, notification queue usage, the
    /// connection pool, and this process's counters and histograms (HTTP
    /// requests by route and status, enqueues, and when a worker runs in
    /// this process its claims, outcomes and durations). `docs/operations.md`
    /// lists every series.
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self) -> MetricsResponse {
        MetricsResponse::Ok(PlainText(render_metrics(&self.state.client).await))
    }
}

/// This process's metrics with the gauges read now through `client`
/// (a gauge whose read fails is left out of this scrape).
pub async fn render_metrics(client: &crate::Client) -> String {
    let mut scrape = crate::metrics::Scrape {
        pool: Some(crate::metrics::PoolSample::of(client.pool())),
        ..Default::default()
    };
    if let Ok(stats) = client.queues().await {
        scrape.queues = stats
            .iter()
            .map(|s| crate::metrics::QueueSample {
                queue: s.queue.clone(),
                states: vec![
                    ("pending", s.pending),
                    ("scheduled", s.scheduled),
                    ("available", s.available),
                    ("running", s.running),
                    ("retryable", s.retryable),
                    ("succeeded", s.succeeded),
                    ("failed", s.failed),
                    ("cancelled", s.cancelled),
                ],
                oldest_available_age_seconds: s.oldest_available_age_seconds.unwrap_or(0.0),
                paused: s.paused,
            })
            .collect();
    }
    scrape.notification_queue_usage = client.notification_queue_usage().await.ok();
    crate::metrics::render(&scrape)
}
