//! Traces cross the queue: an HTTP enqueue with a `traceparent` header is
//! stored with its trace context, and the attempt's span is a child of the
//! enqueue's span; a SQL producer's `traceparent` column is the parent of
//! its job's attempt. One test: the OpenTelemetry subscriber is global to
//! this binary.

mod common;

use std::time::Duration;

use common::*;
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use sqlx::PgPool;
use tracing_subscriber::layer::SubscriberExt;
use weir::{JobId, JobState};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN: &str = "b7ad6b7169203331";
const SQL_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SQL_SPAN: &str = "00f067aa0ba902b7";

fn finished(exporter: &InMemorySpanExporter, name: &str, trace: &str) -> SpanData {
    let trace = TraceId::from_hex(trace).unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    spans
        .iter()
        .find(|s| s.name == name && s.span_context.trace_id() == trace)
        .cloned()
        .unwrap_or_else(|| {
            let seen: Vec<_> = spans
                .iter()
                .map(|s| (s.name.to_string(), s.span_context.trace_id()))
                .collect();
            panic!("no finished {name} span in trace {trace}; spans: {seen:?}")
        })
}

#[sqlx::test]
async fn an_attempt_is_a_child_of_its_enqueue(pool: PgPool) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    // An HTTP enqueue inside the caller's trace.
    let cli = api_client(&pool, &[]).await;
    let resp = cli
        .post("/v1/jobs")
        .header("traceparent", format!("00-{TRACE}-{CALLER_SPAN}-01"))
        .body_json(&json!({"kind": "test.record"}))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    let id: JobId = body_json(resp).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // A SQL producer's job, with the column set by hand.
    let from_sql: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO weir.jobs (kind, traceparent) VALUES ('test.record', $1) RETURNING id",
    )
    .bind(format!("00-{SQL_TRACE}-{SQL_SPAN}-01"))
    .fetch_one(&pool)
    .await
    .unwrap();
    // A malformed header is ignored (W3C Trace Context), not refused.
    let resp = cli
        .post("/v1/jobs")
        .header("traceparent", "00-not-a-trace-01")
        .body_json(&json!({"kind": "test.record"}))
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::CREATED);

    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(30)).await;
    wait_for_state(
        &pool,
        JobId(from_sql),
        JobState::Succeeded,
        Duration::from_secs(30),
    )
    .await;
    worker.stop().await;
    provider.force_flush().unwrap();

    let enqueue = finished(&exporter, "enqueue", TRACE);
    assert_eq!(
        enqueue.parent_span_id,
        SpanId::from_hex(CALLER_SPAN).unwrap(),
        "the enqueue span's parent is the caller's span"
    );
    let attempt = finished(&exporter, "job", TRACE);
    assert_eq!(
        attempt.parent_span_id,
        enqueue.span_context.span_id(),
        "the attempt's parent is the enqueue span"
    );
    let stored: Option<String> =
        sqlx::query_scalar("SELECT traceparent FROM weir.jobs WHERE id = $1")
            .bind(id.0)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        stored,
        Some(format!("00-{TRACE}-{}-01", enqueue.span_context.span_id()))
    );

    let attempt = finished(&exporter, "job", SQL_TRACE);
    assert_eq!(attempt.parent_span_id, SpanId::from_hex(SQL_SPAN).unwrap());
}
