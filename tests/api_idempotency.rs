//! Idempotency keys are the caller's own, bound to the request body, and
//! pruned after 24 hours.

mod common;

use common::*;
use serde_json::{Value, json};
use sqlx::PgPool;
use weir::maintenance::pruner::{self, Pruner};

async fn enqueue(cli: &ApiClient, token: Option<&str>, key: &str, body: Value) -> (u16, Value) {
    let mut req = cli
        .post("/v1/jobs")
        .header("Idempotency-Key", key)
        .body_json(&body);
    if let Some(token) = token {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    let resp = req.send().await;
    let status = resp.0.status().as_u16();
    (status, body_json(resp).await)
}

async fn keys(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM weir.idempotency_keys")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn the_same_key_from_two_tokens_makes_two_jobs(pool: PgPool) {
    let cli = api_client(&pool, &["alice", "bob"]).await;
    let body = json!({"kind": "x", "args": {"n": 1}});
    let (a, job_a) = enqueue(&cli, Some("alice"), "k1", body.clone()).await;
    let (b, job_b) = enqueue(&cli, Some("bob"), "k1", body.clone()).await;
    assert_eq!((a, b), (201, 201));
    assert_ne!(job_a["id"], job_b["id"]);
    // Each caller's repeat answers its own job.
    let (again, job) = enqueue(&cli, Some("bob"), "k1", body).await;
    assert_eq!(again, 200);
    assert_eq!(job["id"], job_b["id"]);
    // The database holds digests of the tokens, never the tokens.
    let scopes: Vec<String> = sqlx::query_scalar("SELECT scope FROM weir.idempotency_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(scopes.len(), 2);
    assert!(
        scopes
            .iter()
            .all(|s| s.starts_with("token:") && !s.contains("alice") && !s.contains("bob")),
        "{scopes:?}"
    );
}

#[sqlx::test]
async fn the_same_key_with_another_body_answers_422(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let body = json!({"kind": "x", "args": {"a": 1, "b": 2}, "delay_seconds": 60});
    let (first, job) = enqueue(&cli, None, "order-7", body).await;
    assert_eq!(first, 201);
    // The same request (its object keys in another order) is a repeat,
    // though `delay_seconds` now ends at another time.
    let same = json!({"delay_seconds": 60, "args": {"b": 2, "a": 1}, "kind": "x"});
    let (repeat, again) = enqueue(&cli, None, "order-7", same).await;
    assert_eq!(repeat, 200);
    assert_eq!(again["id"], job["id"]);

    let (status, problem) = enqueue(
        &cli,
        None,
        "order-7",
        json!({"kind": "x", "args": {"a": 2}}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("Idempotency-Key") && detail.contains("different request"),
        "{detail}"
    );
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(jobs, 1);
}

#[sqlx::test]
async fn the_pruner_deletes_keys_older_than_24_hours(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    enqueue(&cli, None, "old", json!({"kind": "x"})).await;
    assert_eq!(keys(&pool).await, 1);
    let pruner = Pruner::new(pool.clone(), pruner::Config::default());
    let now = chrono::Utc::now();
    pruner
        .run_once_at(Some(now + chrono::Duration::hours(23)))
        .await
        .unwrap();
    assert_eq!(keys(&pool).await, 1, "a key is honoured for 24 hours");
    pruner
        .run_once_at(Some(now + chrono::Duration::hours(25)))
        .await
        .unwrap();
    assert_eq!(keys(&pool).await, 0);
}
