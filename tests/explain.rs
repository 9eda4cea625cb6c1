//! "Why isn't this job running?" (`weir.explain_job`, `GET
//! /v1/jobs/{id}/explain`, `weir job ID --explain`): one test per reason;
//! and the warning an enqueue answer carries when no live worker serves
//! the kind.

mod common;

use std::time::Duration;

use common::*;
use poem::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use weir::flow::{QueueLimits, RateLimit};
use weir::{Client, JobId, NewJob};

/// A registered external worker serving `kind` on queue `q`.
async fn worker(pool: &PgPool, kind: &str) -> uuid::Uuid {
    sqlx::query_scalar("SELECT weir.register_worker('t', '{q}', ARRAY[$1])")
        .bind(kind)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn enqueue(client: &Client, job: NewJob) -> JobId {
    client.enqueue_job(&job.queue("q")).await.unwrap().id
}

/// Claims up to `max` jobs of queue `q` for `node`; returns (id, token).
async fn claim(pool: &PgPool, node: uuid::Uuid, max: i32) -> Vec<(uuid::Uuid, uuid::Uuid)> {
    sqlx::query_as("SELECT id, claim_token FROM weir.claim($1, 'q', '{k}', $2)")
        .bind(node)
        .bind(max)
        .fetch_all(pool)
        .await
        .unwrap()
}

fn k() -> NewJob {
    NewJob::new("k", json!({}))
}

#[sqlx::test]
async fn scheduled_jobs_say_until_when(pool: PgPool) {
    let client = Client::new(pool.clone());
    let at = chrono::Utc::now() + chrono::Duration::hours(1);
    let id = enqueue(&client, k().run_at(at)).await;
    let e = client.explain(id).await.unwrap();
    assert_eq!(e.reason, "scheduled");
    assert!((e.until.unwrap() - at).num_milliseconds().abs() < 5);
}

#[sqlx::test]
async fn failed_attempts_wait_out_their_backoff(pool: PgPool) {
    let client = Client::new(pool.clone());
    let node = worker(&pool, "k").await;
    let id = enqueue(&client, k()).await;
    let (job, token) = claim(&pool, node, 1).await[0];
    sqlx::query("SELECT weir.fail_job($1, $2, 'boom')")
        .bind(job)
        .bind(token)
        .execute(&pool)
        .await
        .unwrap();
    let e = client.explain(id).await.unwrap();
    assert_eq!(
        (e.reason.as_str(), e.state.as_str()),
        ("retry_backoff", "retryable")
    );
    assert!(e.until.unwrap() > chrono::Utc::now() - chrono::Duration::seconds(1));
}

#[sqlx::test]
async fn a_paused_queue_is_named(pool: PgPool) {
    let client = Client::new(pool.clone());
    worker(&pool, "k").await;
    let id = enqueue(&client, k()).await;
    client.pause_queue("q").await.unwrap();
    assert_eq!(client.explain(id).await.unwrap().reason, "queue_paused");
}

#[sqlx::test]
async fn a_kind_no_live_worker_serves_is_named(pool: PgPool) {
    let client = Client::new(pool.clone());
    worker(&pool, "other.kind").await;
    let id = enqueue(&client, k()).await;
    let e = client.explain(id).await.unwrap();
    assert_eq!(e.reason, "no_worker_for_kind");
    assert_eq!(
        (e.kind.as_deref(), e.queue.as_deref()),
        (Some("k"), Some("q"))
    );
}

#[sqlx::test]
async fn the_queue_limit_says_n_of_max(pool: PgPool) {
    let client = Client::new(pool.clone());
    let node = worker(&pool, "k").await;
    let limits = QueueLimits {
        max_running: Some(1),
        ..QueueLimits::default()
    };
    client.set_queue_limits("q", &limits).await.unwrap();
    enqueue(&client, k()).await;
    let waiting = enqueue(&client, k()).await;
    assert_eq!(claim(&pool, node, 5).await.len(), 1);
    let e = client.explain(waiting).await.unwrap();
    assert_eq!(e.reason, "queue_concurrency_limit");
    assert_eq!((e.running, e.max), (Some(1), Some(1)));
}

#[sqlx::test]
async fn the_key_limit_names_the_key(pool: PgPool) {
    let client = Client::new(pool.clone());
    let node = worker(&pool, "k").await;
    let limits = QueueLimits {
        max_running_per_key: Some(1),
        ..QueueLimits::default()
    };
    client.set_queue_limits("q", &limits).await.unwrap();
    enqueue(&client, k().concurrency_key("tenant-1")).await;
    let waiting = enqueue(&client, k().concurrency_key("tenant-1")).await;
    let other = enqueue(&client, k().concurrency_key("tenant-2")).await;
    // One of each key runs; the second of tenant-1 waits on its key.
    assert_eq!(claim(&pool, node, 5).await.len(), 2);
    assert_eq!(client.explain(other).await.unwrap().reason, "running");
    let e = client.explain(waiting).await.unwrap();
    assert_eq!(e.reason, "key_concurrency_limit");
    assert_eq!(e.key.as_deref(), Some("tenant-1"));
    assert_eq!((e.running, e.max), (Some(1), Some(1)));
}

#[sqlx::test]
async fn the_rate_limit_says_until_when(pool: PgPool) {
    let client = Client::new(pool.clone());
    let node = worker(&pool, "k").await;
    let rate = RateLimit {
        limit: 1,
        period: Duration::from_secs(3600),
    };
    let limits = QueueLimits {
        rate: Some(rate),
        ..QueueLimits::default()
    };
    client.set_queue_limits("q", &limits).await.unwrap();
    enqueue(&client, k()).await;
    let waiting = enqueue(&client, k()).await;
    assert_eq!(claim(&pool, node, 5).await.len(), 1);
    let e = client.explain(waiting).await.unwrap();
    assert_eq!(e.reason, "rate_limited");
    let until = e.until.unwrap() - chrono::Utc::now();
    assert!(until > chrono::Duration::minutes(59) && until <= chrono::Duration::minutes(60));
    assert_eq!((e.started, e.max), (Some(1), Some(1)));
}

#[sqlx::test]
async fn otherwise_it_counts_the_jobs_ahead(pool: PgPool) {
    let client = Client::new(pool.clone());
    worker(&pool, "k").await;
    let first = enqueue(&client, k()).await;
    enqueue(&client, k()).await;
    let third = enqueue(&client, k()).await;
    enqueue(&client, k().priority(5)).await;
    enqueue(&client, k().priority(-1)).await;
    let e = client.explain(third).await.unwrap();
    assert_eq!((e.reason.as_str(), e.ahead), ("queued_behind", Some(3)));
    assert_eq!(client.explain(first).await.unwrap().ahead, Some(1));
}

#[sqlx::test]
async fn running_and_finished_jobs_say_so(pool: PgPool) {
    let client = Client::new(pool.clone());
    let node = worker(&pool, "k").await;
    let id = enqueue(&client, k()).await;
    let (job, token) = claim(&pool, node, 1).await[0];
    let e = client.explain(id).await.unwrap();
    assert_eq!((e.reason.as_str(), e.node_id), ("running", Some(node)));
    sqlx::query("SELECT weir.complete_job($1, $2)")
        .bind(job)
        .bind(token)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(client.explain(id).await.unwrap().reason, "succeeded");
    let cancelled = enqueue(&client, k()).await;
    client.cancel(cancelled).await.unwrap();
    assert_eq!(client.explain(cancelled).await.unwrap().reason, "cancelled");
    let unknown = JobId(uuid::Uuid::new_v4());
    assert!(matches!(
        client.explain(unknown).await,
        Err(weir::Error::NotFound(_))
    ));
}

#[sqlx::test]
async fn rest_explains_and_sets_limits(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let client = Client::new(pool.clone());
    let id = enqueue(&client, k()).await;
    let resp = cli.get(format!("/v1/jobs/{id}/explain")).send().await;
    resp.assert_status_is_ok();
    let body = body_json(resp).await;
    assert_eq!(body["reason"], "no_worker_for_kind");
    let resp = cli
        .get(format!("/v1/jobs/{}/explain", uuid::Uuid::new_v4()))
        .send()
        .await;
    resp.assert_status(StatusCode::NOT_FOUND);

    let patch = |body: serde_json::Value| cli.patch("/v1/queues/q").body_json(&body).send();
    let resp = patch(json!({"max_running": 3, "rate_limit": 10, "rate_period": 1.5})).await;
    resp.assert_status_is_ok();
    let q = body_json(resp).await;
    assert_eq!(
        (q["max_running"].clone(), q["rate_limit"].clone()),
        (json!(3), json!(10))
    );
    assert_eq!(q["rate_period"], json!(1.5));
    // Left out: kept; null: removed.
    let q = body_json(patch(json!({"max_running_per_key": 1, "max_running": null})).await).await;
    assert_eq!(q["max_running_per_key"], 1);
    assert!(q.get("max_running").is_none());
    assert_eq!(q["rate_limit"], 10);
    let resp = cli.get("/v1/queues").send().await;
    let list = body_json(resp).await;
    assert_eq!(list["queues"][0]["max_running_per_key"], 1);
    for bad in [
        json!({"max_running": 0}),
        json!({"rate_limit": null}),
        json!({"nope": 1}),
    ] {
        let resp = patch(bad.clone()).await;
        let status = resp.0.status();
        assert!(status.is_client_error(), "{bad}: {status}");
    }
    let stats = client.queue("q").await.unwrap();
    assert_eq!(
        (stats.max_running_per_key, stats.rate_limit),
        (Some(1), Some(10))
    );
}

#[sqlx::test]
async fn an_enqueue_of_an_unserved_kind_carries_a_warning(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    worker(&pool, "demo.process_item").await;
    let post = |kind: &str| {
        cli.post("/v1/jobs")
            .body_json(&json!({"kind": kind, "queue": "q"}))
            .send()
    };
    let resp = post("demo.proces_item").await;
    resp.assert_status(StatusCode::CREATED);
    let body = body_json(resp).await;
    let warning = body["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("no live worker serves kind 'demo.proces_item'"),
        "{warning}"
    );
    let resp = post("demo.process_item").await;
    resp.assert_status(StatusCode::CREATED);
    assert!(body_json(resp).await.get("warnings").is_none());
    // The key travels on the REST path too, single and batched.
    let resp = cli
        .post("/v1/jobs")
        .body_json(&json!({"kind": "demo.process_item", "concurrency_key": "c-1"}))
        .send()
        .await;
    assert_eq!(body_json(resp).await["concurrency_key"], "c-1");
    let resp = cli
        .post("/v1/jobs/batch")
        .body_json(&json!({"jobs": [{"kind": "demo.process_item", "concurrency_key": "c-2"}]}))
        .send()
        .await;
    assert_eq!(body_json(resp).await["jobs"][0]["concurrency_key"], "c-2");
}
