//! The transitions as psql users see them (the same functions the REST API
//! and CLI call), queue pause, and the queue/worker listings.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use weir::{Client, JobId, JobState, NewJob};

async fn sql_state(pool: &PgPool, id: uuid::Uuid) -> String {
    sqlx::query_scalar("SELECT state::text FROM weir.jobs WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn cancel_and_retry_from_psql(pool: PgPool) {
    let id: uuid::Uuid = sqlx::query_scalar("SELECT weir.enqueue('nobody.serves')")
        .fetch_one(&pool)
        .await
        .unwrap();
    let outcome: String = sqlx::query_scalar("SELECT weir.cancel_job($1)")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(outcome, "cancelled");
    assert_eq!(sql_state(&pool, id).await, "cancelled");

    let err = sqlx::query("SELECT weir.cancel_job($1)")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap_err();
    let db = err.as_database_error().unwrap();
    assert_eq!(db.code().as_deref(), Some("55000"));
    assert!(
        db.message().contains("cannot be cancelled"),
        "{}",
        db.message()
    );

    sqlx::query("SELECT weir.retry_job($1)")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(sql_state(&pool, id).await, "available");
    let err = sqlx::query("SELECT weir.retry_job($1)")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("55000")
    );
    let err = sqlx::query("SELECT weir.retry_job($1)")
        .bind(uuid::Uuid::new_v4())
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("P0002")
    );
}

#[sqlx::test]
async fn cancel_of_a_running_job_requests_it(pool: PgPool) {
    let id = Client::new(pool.clone())
        .enqueue_job(&NewJob::new("test.record", json!({})))
        .await
        .unwrap()
        .id;
    let claimed = weir::db::jobs::claim_available(
        &pool,
        "default",
        &["test.record".to_string()],
        &[60],
        1,
        weir::NodeId(uuid::Uuid::new_v4()),
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    let outcome = weir::db::jobs::cancel(&pool, id).await.unwrap();
    assert_eq!(outcome, weir::db::jobs::CancelOutcome::CancelRequested);
    let job = job(&pool, id).await;
    assert_eq!(job.state, JobState::Running);
    assert!(job.cancel_requested.is_some());
}

#[sqlx::test]
async fn a_paused_queue_is_not_claimed_until_resumed(pool: PgPool) {
    sqlx::query("SELECT weir.pause_queue('default')")
        .execute(&pool)
        .await
        .unwrap();
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    let id = Client::new(pool.clone())
        .enqueue_job(&NewJob::new("test.record", json!({})))
        .await
        .unwrap()
        .id;
    // Several fallback polls (100 ms) pass without a claim.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(job(&pool, id).await.state, JobState::Available);
    let paused: bool =
        sqlx::query_scalar("SELECT paused FROM weir.queue_stats WHERE queue = 'default'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(paused);

    sqlx::query("SELECT weir.resume_queue('default')")
        .execute(&pool)
        .await
        .unwrap();
    wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(10)).await;
    worker.stop().await;
}

#[sqlx::test]
async fn queues_and_workers_are_listed_with_unserved_kinds(pool: PgPool) {
    let client = Client::new(pool.clone());
    client
        .enqueue_job(&NewJob::new("nobody.serves", json!({})).queue("mail"))
        .await
        .unwrap();
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("mail", 3)]), registry(&recorder));
    let done = client
        .enqueue_job(&NewJob::new("test.record", json!({})).queue("mail"))
        .await
        .unwrap()
        .id;
    wait_for_state(&pool, done, JobState::Succeeded, Duration::from_secs(10)).await;

    let cli = api_client(&pool, &[]).await;
    let queues = body_json(cli.get("/v1/queues").send().await).await;
    let mail = queues["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "mail")
        .unwrap()
        .clone();
    assert_eq!(mail["counts"]["available"], 1);
    assert_eq!(mail["counts"]["succeeded"], 1);
    assert_eq!(mail["unserved_kinds"], json!(["nobody.serves"]));
    assert!(mail["oldest_available_age_seconds"].as_f64().unwrap() >= 0.0);

    let paused = body_json(cli.post("/v1/queues/mail/pause").send().await).await;
    assert_eq!(paused["paused"], true);
    let resumed = body_json(cli.post("/v1/queues/mail/resume").send().await).await;
    assert_eq!(resumed["paused"], false);

    let workers = body_json(cli.get("/v1/workers").send().await).await;
    let w = &workers["workers"][0];
    assert_eq!(w["id"], worker.node.0.to_string());
    assert_eq!(w["queues"], json!({"mail": 3}));
    assert!(
        w["kinds"]
            .as_array()
            .unwrap()
            .contains(&json!("test.record"))
    );
    worker.stop().await;
    let _ = JobId(uuid::Uuid::nil());
}

/// Armed wake-ups for `queues` on fake nodes.
async fn arm(pool: &PgPool, queues: &[&str]) {
    for q in queues {
        sqlx::query(
            "INSERT INTO weir.wakeups (node_id, queue, armed) VALUES (gen_random_uuid(), $1, true)",
        )
        .bind(q)
        .execute(pool)
        .await
        .unwrap();
    }
}

async fn armed(pool: &PgPool, queue: &str) -> bool {
    sqlx::query_scalar("SELECT bool_or(armed) FROM weir.wakeups WHERE queue = $1")
        .bind(queue)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A connection listening on weir_jobs_available.
async fn wake_listener(pool: &PgPool) -> sqlx::postgres::PgListener {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool)
        .await
        .unwrap();
    listener.listen("weir_jobs_available").await.unwrap();
    listener
}

/// The next notification on weir_jobs_available within 5 s, if any.
async fn next_wake(listener: &mut sqlx::postgres::PgListener) -> Option<String> {
    tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .ok()
        .map(|n| n.unwrap().payload().to_string())
}

/// The two ways SQL adds a job, which must wake the same workers: a plain
/// INSERT into weir.jobs (through its statement trigger) and weir.enqueue
/// (which inserts into weir.jobs_live and asks itself).
#[derive(Clone, Copy, Debug)]
enum Via {
    Insert,
    Enqueue,
}

impl Via {
    /// Adds one job to `queue`, scheduled an hour ahead when `scheduled`.
    async fn add(self, db: impl sqlx::PgExecutor<'_>, queue: &str, scheduled: bool) {
        let sql = match self {
            Via::Insert => {
                "INSERT INTO weir.jobs (kind, queue, run_at)
                 VALUES ('x', $1, now() + CASE WHEN $2 THEN interval '1 hour' ELSE interval '0' END)"
            }
            Via::Enqueue => {
                "SELECT weir.enqueue('x', queue => $1,
                        run_at => now() + CASE WHEN $2 THEN interval '1 hour' ELSE interval '0' END)"
            }
        };
        sqlx::query(sql)
            .bind(queue)
            .bind(scheduled)
            .execute(db)
            .await
            .unwrap_or_else(|e| panic!("{self:?} into {queue}: {e}"));
    }
}

async fn wakes_its_queue_while_another_transaction_disarms_one(pool: PgPool, via: Via) {
    arm(&pool, &["a", "b"]).await;
    let mut listener = wake_listener(&pool).await;

    // An open transaction has added a job to `a`: it holds a's wake-up.
    let mut tx = pool.begin().await.unwrap();
    via.add(&mut *tx, "a", false).await;

    // Others are neither blocked by it nor kept from waking `b`.
    let other = tokio::time::timeout(Duration::from_secs(5), async {
        via.add(&pool, "a", false).await;
        via.add(&pool, "b", false).await;
    })
    .await;
    assert!(
        other.is_ok(),
        "{via:?}: an insert waited for another transaction's wake-up"
    );
    assert_eq!(next_wake(&mut listener).await.as_deref(), Some("b"));
    assert!(!armed(&pool, "b").await);

    // `a` is woken once, when the transaction holding it commits.
    assert!(armed(&pool, "a").await);
    tx.commit().await.unwrap();
    assert_eq!(next_wake(&mut listener).await.as_deref(), Some("a"));
    assert!(!armed(&pool, "a").await);
}

#[sqlx::test]
async fn an_insert_wakes_its_queue_while_another_transaction_disarms_one(pool: PgPool) {
    wakes_its_queue_while_another_transaction_disarms_one(pool, Via::Insert).await;
}

#[sqlx::test]
async fn an_enqueue_wakes_its_queue_while_another_transaction_disarms_one(pool: PgPool) {
    wakes_its_queue_while_another_transaction_disarms_one(pool, Via::Enqueue).await;
}

#[sqlx::test]
async fn a_multi_row_insert_wakes_every_queue_it_fills(pool: PgPool) {
    arm(&pool, &["a", "b", "c"]).await;
    let mut listener = wake_listener(&pool).await;
    sqlx::query("INSERT INTO weir.jobs (kind, queue) VALUES ('x', 'a'), ('x', 'b'), ('x', 'b')")
        .execute(&pool)
        .await
        .unwrap();
    let mut woken = vec![
        next_wake(&mut listener).await.unwrap(),
        next_wake(&mut listener).await.unwrap(),
    ];
    woken.sort();
    assert_eq!(woken, ["a", "b"]);
    assert!(armed(&pool, "c").await);
}

#[sqlx::test]
async fn a_rolled_back_insert_leaves_the_wakeup_armed_for_the_next_one(pool: PgPool) {
    arm(&pool, &["a"]).await;
    let mut listener = wake_listener(&pool).await;

    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT weir.enqueue('x', queue => 'a')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(armed(&pool, "a").await);

    sqlx::query("SELECT weir.enqueue('x', queue => 'a')")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(next_wake(&mut listener).await.as_deref(), Some("a"));
    assert!(!armed(&pool, "a").await);
}

/// Other armed wake-ups (an idle queue elsewhere, the stager's) neither get
/// woken by a job that is not for them nor keep it from waking its own.
async fn notifies_only_the_wakeups_of_what_it_added(pool: PgPool, via: Via) {
    arm(&pool, &["a", "b", "$stager"]).await;
    let mut listener = wake_listener(&pool).await;

    // Nobody waits for `c`: nothing is sent (the next notification, in
    // commit order, is the one for `a`) and every wake-up stays armed.
    via.add(&pool, "c", false).await;
    via.add(&pool, "a", false).await;
    assert_eq!(next_wake(&mut listener).await.as_deref(), Some("a"));
    assert!(!armed(&pool, "a").await);
    assert!(armed(&pool, "b").await);
    assert!(armed(&pool, "$stager").await);

    // A scheduled job for `b` is the stager's business, not b's workers'.
    via.add(&pool, "b", true).await;
    assert_eq!(next_wake(&mut listener).await.as_deref(), Some("$stager"));
    assert!(armed(&pool, "b").await);
    assert!(!armed(&pool, "$stager").await);
}

#[sqlx::test]
async fn an_insert_notifies_only_the_wakeups_of_what_it_inserted(pool: PgPool) {
    notifies_only_the_wakeups_of_what_it_added(pool, Via::Insert).await;
}

#[sqlx::test]
async fn an_enqueue_notifies_only_the_wakeups_of_what_it_enqueued(pool: PgPool) {
    notifies_only_the_wakeups_of_what_it_added(pool, Via::Enqueue).await;
}

/// The bench's poll-only mode (`weir::db::bench::set_wake_ups`) must stop
/// every wake-up, from plain INSERTs and from weir.enqueue alike, and
/// turning it back on must restore them.
#[sqlx::test]
async fn the_bench_poll_only_mode_sends_no_wake_up(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    weir::db::bench::set_wake_ups(&mut conn, false)
        .await
        .unwrap();
    arm(&pool, &["a"]).await;
    assert!(!armed(&pool, "a").await, "a wake-up cannot be armed");
    let mut listener = wake_listener(&pool).await;
    Via::Insert.add(&pool, "a", false).await;
    Via::Enqueue.add(&pool, "a", false).await;
    Via::Enqueue.add(&pool, "a", true).await;
    // Notifications arrive in commit order: the marker comes first only
    // if the enqueues above sent nothing.
    sqlx::query("SELECT pg_notify('weir_jobs_available', 'marker')")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(next_wake(&mut listener).await.as_deref(), Some("marker"));

    weir::db::bench::set_wake_ups(&mut conn, true)
        .await
        .unwrap();
    arm(&pool, &["b"]).await;
    Via::Enqueue.add(&pool, "b", false).await;
    assert_eq!(next_wake(&mut listener).await.as_deref(), Some("b"));
}
