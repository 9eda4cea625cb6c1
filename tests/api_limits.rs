//! A web node's limits: followers at once, the lifetime of an event
//! stream, the size of a list page, the statement timeout; and the
//! worker's limit on a result's size.

mod common;

use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use poem::EndpointExt;
use poem::http::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgPool};
use tokio_util::sync::CancellationToken;
use weir::api::ApiConfig;
use weir::{JobContext, JobError, Task};

/// An in-process web node over `pool` with `config`.
async fn node(pool: &PgPool, config: ApiConfig) -> (ApiClient2, tokio_util::sync::DropGuard) {
    let stop = CancellationToken::new();
    let followers = weir::follow::Followers::start(pool.clone(), stop.clone())
        .await
        .unwrap();
    let state = weir::api::AppState::new(pool.clone(), followers, config);
    let cli = poem::test::TestClient::new(weir::api::app(state).map_to_response().boxed());
    (cli, stop.drop_guard())
}

type ApiClient2 = poem::test::TestClient<poem::endpoint::BoxEndpoint<'static, poem::Response>>;

async fn enqueue(cli: &ApiClient2, body: Value) -> String {
    let resp = cli.post("/v1/jobs").body_json(&body).send().await;
    resp.assert_status(StatusCode::CREATED);
    body_json(resp).await["id"].as_str().unwrap().to_string()
}

#[sqlx::test]
async fn followers_past_the_limit_answer_503_with_retry_after(pool: PgPool) {
    let config = ApiConfig {
        max_followers: 2,
        ..ApiConfig::default()
    };
    let (cli, _stop) = node(&pool, config).await;
    let id = enqueue(&cli, json!({"kind": "nobody.serves"})).await;
    let events = format!("/v1/jobs/{id}/events");
    // Two streams, each holding its place once its first event arrived.
    let mut streams = Vec::new();
    for _ in 0..2 {
        let resp = cli.get(&events).send().await;
        resp.assert_status_is_ok();
        let mut body = resp.0.into_body().into_bytes_stream();
        let first = body.next().await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&first).contains("available"));
        streams.push(body);
    }
    for url in [format!("/v1/jobs/{id}?wait=1"), events.clone()] {
        let resp = cli.get(&url).send().await;
        resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        resp.assert_header("Retry-After", "1");
        let detail = body_json(resp).await["detail"].to_string();
        assert!(detail.contains("follows 2 jobs"), "{detail}");
    }
    // A plain read follows nothing.
    cli.get(format!("/v1/jobs/{id}"))
        .send()
        .await
        .assert_status_is_ok();
    // A stream that ends gives its place back.
    streams.pop();
    eventually(Duration::from_secs(10), "a place freed", || async {
        let resp = cli.get(format!("/v1/jobs/{id}?wait=0.01")).send().await;
        (resp.0.status() == StatusCode::OK).then_some(())
    })
    .await;
}

#[sqlx::test]
async fn an_event_stream_ends_after_its_lifetime(pool: PgPool) {
    let config = ApiConfig {
        stream_lifetime: Duration::from_millis(300),
        ..ApiConfig::default()
    };
    let (cli, _stop) = node(&pool, config).await;
    let id = enqueue(&cli, json!({"kind": "nobody.serves"})).await;
    let resp = cli.get(format!("/v1/jobs/{id}/events")).send().await;
    resp.assert_status_is_ok();
    let body = tokio::time::timeout(Duration::from_secs(10), resp.0.into_body().into_string())
        .await
        .expect("the stream ends after its lifetime")
        .unwrap();
    let events: Vec<&str> = body.lines().filter(|l| l.starts_with("data: ")).collect();
    assert_eq!(events.len(), 1, "the current state, then the end: {body}");
    assert!(events[0].contains("\"available\""));
}

#[sqlx::test]
async fn lists_leave_args_and_result_out_unless_asked_and_stay_under_the_byte_limit(pool: PgPool) {
    let config = ApiConfig {
        list_max_bytes: 3000,
        ..ApiConfig::default()
    };
    let (cli, _stop) = node(&pool, config).await;
    let big = "x".repeat(1000);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(enqueue(&cli, json!({"kind": "k", "args": {"i": i, "pad": big}})).await);
    }
    let page = body_json(cli.get("/v1/jobs").send().await).await;
    assert_eq!(page["jobs"].as_array().unwrap().len(), 5);
    assert!(page["jobs"][0].get("args").is_none(), "{page}");
    assert!(page.get("next_cursor").is_none());
    // A single job still has them.
    let one = body_json(cli.get(format!("/v1/jobs/{}", ids[0])).send().await).await;
    assert_eq!(one["args"]["i"], 0);

    // With args, pages end before 3,000 bytes; following the cursors
    // lists every job once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/v1/jobs?include=args,result&cursor={c}"),
            None => "/v1/jobs?include=args,result".to_string(),
        };
        let resp = cli.get(url).send().await;
        resp.assert_status_is_ok();
        let text = resp.0.into_body().into_string().await.unwrap();
        let page: Value = serde_json::from_str(&text).unwrap();
        let jobs = page["jobs"].as_array().unwrap();
        assert!(!jobs.is_empty());
        assert!(
            jobs.len() == 1 || text.len() <= 3000,
            "{} bytes",
            text.len()
        );
        assert!(jobs.iter().all(|j| j["args"]["pad"] == big.as_str()));
        seen.extend(jobs.iter().map(|j| j["id"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);

    cli.get("/v1/jobs?include=errors")
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn a_statement_past_the_timeout_answers_503(pool: PgPool) {
    let config = ApiConfig {
        statement_timeout: Duration::from_millis(200),
        ..ApiConfig::default()
    };
    let (cli, _stop) = node(&pool, config).await;
    // Another session holds the jobs table: the list's statement waits.
    let mut locker = sqlx::PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    locker.execute("BEGIN").await.unwrap();
    locker
        .execute("LOCK TABLE weir.jobs IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), cli.get("/v1/jobs").send())
        .await
        .expect("the statement is cancelled, not waited for");
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
    resp.assert_header("Retry-After", "1");
    let detail = body_json(resp).await["detail"].to_string();
    assert!(detail.contains("did not answer in time"), "{detail}");
    locker.execute("ROLLBACK").await.unwrap();
    locker.close().await.unwrap();
    cli.get("/v1/jobs").send().await.assert_status_is_ok();
}

/// `test.huge`: returns a result of `bytes` bytes.
struct Huge;

impl Task for Huge {
    const KIND: &'static str = "test.huge";
    type Args = Value;
    type Output = Value;

    async fn run(&self, _ctx: JobContext, args: Value) -> Result<Value, JobError> {
        let bytes = args["bytes"].as_u64().unwrap_or(0) as usize;
        Ok(json!({"blob": "x".repeat(bytes)}))
    }
}

#[sqlx::test]
async fn a_result_over_the_limit_fails_the_job_with_a_clear_error(pool: PgPool) {
    let mut registry = weir::worker::Registry::default();
    registry.register(Huge);
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry);
    let small = enqueue_kind(&pool, "test.huge", json!({"bytes": 10})).await;
    let huge = enqueue_kind(&pool, "test.huge", json!({"bytes": 2 * 1024 * 1024})).await;
    let done = wait_for_state(
        &pool,
        small,
        weir::JobState::Succeeded,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(done.result.unwrap()["blob"], "x".repeat(10));
    let failed = wait_for_state(&pool, huge, weir::JobState::Failed, Duration::from_secs(10)).await;
    assert_eq!(failed.attempt, 1, "not retried");
    assert!(failed.result.is_none());
    let message = &failed.errors.last().unwrap().message;
    assert!(message.contains("over the limit"), "{message}");
    worker.stop().await;
}
