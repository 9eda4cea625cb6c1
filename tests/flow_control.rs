//! Flow control (docs/flow-control.md): `max_running`,
//! `max_running_per_key` and `rate_limit` hold across several worker
//! nodes and external workers, sampled from the database; a backlog of one
//! key does not starve the others; bad limits are refused.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use common::*;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use weir::flow::{QueueLimits, RateLimit};
use weir::{Client, NewJob, NodeId};

/// The tests that start several worker nodes take turns: each node holds
/// several connections, and the server's are shared with every other test.
static NODES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A pool of its own for each worker node, as separate processes would have.
async fn own_pool(pool: &PgPool) -> PgPool {
    PgPoolOptions::new()
        .max_connections(5)
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap()
}

async fn enqueue(pool: &PgPool, queue: &str, n: usize, key: impl Fn(usize) -> Option<String>) {
    let jobs: Vec<NewJob> = (0..n)
        .map(|i| NewJob {
            concurrency_key: key(i),
            ..NewJob::new("test.record", serde_json::json!({"sleep_ms": 30})).queue(queue)
        })
        .collect();
    Client::new(pool.clone()).enqueue_many(&jobs).await.unwrap();
}

/// Samples `sql` (one bigint) every few ms until stopped; returns the most seen.
fn sample_max(
    pool: &PgPool,
    sql: &'static str,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<i64> {
    let pool = pool.clone();
    tokio::spawn(async move {
        let mut most = 0;
        while !stop.load(Ordering::Relaxed) {
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            most = most.max(n);
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        most
    })
}

/// An external worker: claims through `weir.claim` (SQL), holds each job a
/// little, completes it; until stopped.
fn external_worker(
    pool: &PgPool,
    queue: &'static str,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<i64> {
    let pool = pool.clone();
    tokio::spawn(async move {
        let node: uuid::Uuid =
            sqlx::query_scalar("SELECT weir.register_worker('ext', $1, '{test.record}')")
                .bind(vec![queue])
                .fetch_one(&pool)
                .await
                .unwrap();
        let done = AtomicI64::new(0);
        while !stop.load(Ordering::Relaxed) {
            let claimed: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
                "SELECT id, claim_token FROM weir.claim($1, $2, '{test.record}', 3)",
            )
            .bind(node)
            .bind(queue)
            .fetch_all(&pool)
            .await
            .unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
            for (id, token) in claimed {
                let ok: bool = sqlx::query_scalar("SELECT weir.complete_job($1, $2)")
                    .bind(id)
                    .bind(token)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                assert!(ok);
                done.fetch_add(1, Ordering::Relaxed);
            }
        }
        sqlx::query("SELECT weir.unregister_worker($1)")
            .bind(node)
            .execute(&pool)
            .await
            .unwrap();
        done.load(Ordering::Relaxed)
    })
}

async fn all_finished(pool: &PgPool, queue: &str) {
    eventually(Duration::from_secs(60), "every job to finish", || async {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs_live WHERE queue = $1")
            .bind(queue)
            .fetch_one(pool)
            .await
            .unwrap();
        (left == 0).then_some(())
    })
    .await;
}

/// Three worker nodes (five slots each) and an external worker never run
/// more than `max_running` jobs of the queue at once.
#[sqlx::test]
async fn max_running_holds_across_nodes_and_external_workers(pool: PgPool) {
    let _turn = NODES.lock().await;
    let client = Client::new(pool.clone());
    client
        .set_queue_limits(
            "lim",
            &QueueLimits {
                max_running: Some(3),
                ..QueueLimits::default()
            },
        )
        .await
        .unwrap();
    enqueue(&pool, "lim", 60, |_| None).await;
    let stop = Arc::new(AtomicBool::new(false));
    let most = sample_max(
        &pool,
        "SELECT count(*) FROM weir.jobs_live WHERE state = 'running' AND queue = 'lim'",
        stop.clone(),
    );
    let external = external_worker(&pool, "lim", stop.clone());
    let recorder = Recorder::default();
    let mut workers = Vec::new();
    for _ in 0..3 {
        let p = own_pool(&pool).await;
        workers.push(RunningWorker::start(
            &p,
            fast_config(&[("lim", 5)]),
            registry(&recorder),
        ));
    }
    all_finished(&pool, "lim").await;
    stop.store(true, Ordering::Relaxed);
    let most = most.await.unwrap();
    external.await.unwrap();
    for w in workers {
        w.stop().await;
    }
    assert!(most <= 3, "{most} jobs ran at once, limit 3");
    assert!(most >= 2, "the limit was never approached ({most})");
}

/// Per key: never more than `max_running_per_key` of one key at once.
#[sqlx::test]
async fn max_running_per_key_holds_across_nodes(pool: PgPool) {
    let _turn = NODES.lock().await;
    let client = Client::new(pool.clone());
    client
        .set_queue_limits(
            "keyed",
            &QueueLimits {
                max_running_per_key: Some(2),
                ..QueueLimits::default()
            },
        )
        .await
        .unwrap();
    enqueue(&pool, "keyed", 60, |i| Some(format!("tenant-{}", i % 3))).await;
    let stop = Arc::new(AtomicBool::new(false));
    let most = sample_max(
        &pool,
        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM weir.jobs_live
         WHERE state = 'running' AND queue = 'keyed' GROUP BY concurrency_key) k",
        stop.clone(),
    );
    let external = external_worker(&pool, "keyed", stop.clone());
    let recorder = Recorder::default();
    let mut workers = Vec::new();
    for _ in 0..3 {
        let p = own_pool(&pool).await;
        workers.push(RunningWorker::start(
            &p,
            fast_config(&[("keyed", 5)]),
            registry(&recorder),
        ));
    }
    all_finished(&pool, "keyed").await;
    stop.store(true, Ordering::Relaxed);
    let most = most.await.unwrap();
    external.await.unwrap();
    for w in workers {
        w.stop().await;
    }
    assert!(most <= 2, "{most} jobs of one key ran at once, limit 2");
    assert!(most >= 1);
}

/// The rate limit is a sliding window: in no window of `rate_period` do
/// more than `rate_limit` attempts start (judged on the jobs' own
/// `started_at`), with two nodes claiming.
#[sqlx::test]
async fn rate_limit_holds_over_every_window(pool: PgPool) {
    let _turn = NODES.lock().await;
    let client = Client::new(pool.clone());
    let rate = RateLimit {
        limit: 4,
        period: Duration::from_millis(500),
    };
    client
        .set_queue_limits(
            "rated",
            &QueueLimits {
                rate: Some(rate),
                ..QueueLimits::default()
            },
        )
        .await
        .unwrap();
    enqueue(&pool, "rated", 16, |_| None).await;
    let recorder = Recorder::default();
    let mut workers = Vec::new();
    for _ in 0..2 {
        let p = own_pool(&pool).await;
        workers.push(RunningWorker::start(
            &p,
            fast_config(&[("rated", 8)]),
            registry(&recorder),
        ));
    }
    all_finished(&pool, "rated").await;
    for w in workers {
        w.stop().await;
    }
    let starts: Vec<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
        "SELECT started_at FROM weir.jobs WHERE queue = 'rated' ORDER BY started_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(starts.len(), 16);
    let period = chrono::Duration::milliseconds(500);
    for (i, first) in starts.iter().enumerate() {
        let within = starts[i..]
            .iter()
            .take_while(|s| **s - *first < period)
            .count();
        assert!(within <= 4, "{within} starts within 500 ms from {first}");
    }
    // 16 starts at 4 per 500 ms need at least three full windows.
    assert!(*starts.last().unwrap() - starts[0] >= chrono::Duration::milliseconds(1500));
}

/// 10,000 jobs of key A enqueued before 10 of key B: with a per-key limit,
/// B's jobs start within the first few claims.
#[sqlx::test]
async fn a_backlog_of_one_key_does_not_starve_another(pool: PgPool) {
    sqlx::query(
        "INSERT INTO weir.jobs (kind, queue, concurrency_key, run_at)
         SELECT 'test.record', 'fair', 'A', now() - interval '1 hour' + i * interval '1 ms'
         FROM generate_series(1, 10000) i",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO weir.jobs (kind, queue, concurrency_key) SELECT 'test.record', 'fair', 'B' FROM generate_series(1, 10)")
        .execute(&pool)
        .await
        .unwrap();
    Client::new(pool.clone())
        .set_queue_limits(
            "fair",
            &QueueLimits {
                max_running_per_key: Some(2),
                ..QueueLimits::default()
            },
        )
        .await
        .unwrap();
    let node = NodeId(uuid::Uuid::new_v4());
    let kinds = vec!["test.record".to_string()];
    let mut b_started = 0;
    let mut claims = 0;
    while b_started < 10 {
        claims += 1;
        assert!(
            claims <= 6,
            "after {claims} claims only {b_started} of B's 10 jobs started"
        );
        let claimed = weir::db::jobs::claim_available(&pool, "fair", &kinds, &[60], 4, node)
            .await
            .unwrap();
        assert!(!claimed.is_empty());
        for job in claimed {
            let key: String =
                sqlx::query_scalar("SELECT concurrency_key FROM weir.jobs WHERE id = $1")
                    .bind(job.id.0)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            if key == "B" {
                b_started += 1;
            }
            let ok: bool = sqlx::query_scalar("SELECT weir.complete_job($1, $2)")
                .bind(job.id.0)
                .bind(job.claim_token.0)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert!(ok);
        }
    }
}

/// A queue whose limits were removed claims as many as asked again.
#[sqlx::test]
async fn removing_the_limits_restores_the_plain_claim(pool: PgPool) {
    let client = Client::new(pool.clone());
    client
        .set_queue_limits(
            "q",
            &QueueLimits {
                max_running: Some(1),
                ..QueueLimits::default()
            },
        )
        .await
        .unwrap();
    enqueue(&pool, "q", 5, |_| None).await;
    let node = NodeId(uuid::Uuid::new_v4());
    let kinds = vec!["test.record".to_string()];
    let first = weir::db::jobs::claim_available(&pool, "q", &kinds, &[60], 5, node)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let stats = client
        .set_queue_limits("q", &QueueLimits::default())
        .await
        .unwrap();
    assert!(stats.limits().is_unlimited());
    let rest = weir::db::jobs::claim_available(&pool, "q", &kinds, &[60], 5, node)
        .await
        .unwrap();
    assert_eq!(rest.len(), 4);
}

/// Bad limits are a clear SQL exception (22023) and change nothing.
#[sqlx::test]
async fn bad_limits_are_refused_in_sql(pool: PgPool) {
    for (sql, needle) in [
        (
            "SELECT weir.set_queue_limits('q', max_running => 0)",
            "max_running must be between",
        ),
        (
            "SELECT weir.set_queue_limits('q', max_running_per_key => -1)",
            "max_running_per_key must be",
        ),
        (
            "SELECT weir.set_queue_limits('q', rate_limit => 5)",
            "go together",
        ),
        (
            "SELECT weir.set_queue_limits('q', rate_limit => 5, rate_period => '0 s')",
            "rate_period must be",
        ),
        (
            "SELECT weir.set_queue_limits('bad name', max_running => 1)",
            "queue must be",
        ),
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        let db = err.as_database_error().unwrap();
        assert_eq!(db.code().as_deref(), Some("22023"), "{sql}");
        assert!(db.message().contains(needle), "{sql}: {}", db.message());
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.queues")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

/// In a per-key queue, jobs without a key are not limited per key.
#[sqlx::test]
async fn jobs_without_a_key_are_not_limited_per_key(pool: PgPool) {
    let client = Client::new(pool.clone());
    let limits = QueueLimits {
        max_running_per_key: Some(1),
        ..QueueLimits::default()
    };
    client.set_queue_limits("mixed", &limits).await.unwrap();
    enqueue(&pool, "mixed", 6, |i| (i < 3).then(|| "A".to_string())).await;
    let node = NodeId(uuid::Uuid::new_v4());
    let kinds = vec!["test.record".to_string()];
    let claimed = weir::db::jobs::claim_available(&pool, "mixed", &kinds, &[60], 10, node)
        .await
        .unwrap();
    // One of key A, and the three without a key.
    assert_eq!(claimed.len(), 4);
}
