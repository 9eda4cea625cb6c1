//! The rescuer: jobs of dead or vanished nodes and overrun jobs are taken
//! back, and a stale worker cannot record anything about them.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;
use weir::db;
use weir::maintenance::rescuer::{self, Rescuer};
use weir::{JobId, JobState, NewJob, NodeId};

/// Registers a node whose heartbeat is `age_secs` old.
async fn node_with_heartbeat_age(pool: &PgPool, age_secs: i64) -> NodeId {
    let node = NodeId(Uuid::new_v4());
    db::nodes::register(pool, node, "test", 1, &json!({"default": 1}), &[])
        .await
        .unwrap();
    sqlx::query(
        "UPDATE weir.nodes SET heartbeat_at = now() - make_interval(secs => $2) WHERE id = $1",
    )
    .bind(node.0)
    .bind(age_secs as f64)
    .execute(pool)
    .await
    .unwrap();
    node
}

/// Enqueues a `test.record` job and claims it for `node`.
async fn claimed(pool: &PgPool, node: NodeId, job: NewJob) -> (JobId, weir::job::ClaimToken) {
    let id = weir::Client::new(pool.clone())
        .enqueue_job(&job)
        .await
        .unwrap()
        .id;
    let claimed = db::jobs::claim_available(
        pool,
        "default",
        &["test.record".to_string()],
        &[60],
        1,
        node,
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, id);
    (id, claimed[0].claim_token)
}

fn record_job() -> NewJob {
    NewJob::new("test.record", json!({}))
}

#[sqlx::test]
async fn run_once_rescues_jobs_of_dead_and_missing_nodes_only(pool: PgPool) {
    let alive = node_with_heartbeat_age(&pool, 0).await;
    let dead = node_with_heartbeat_age(&pool, 120).await;
    let missing = NodeId(Uuid::new_v4());
    let (on_alive, _) = claimed(&pool, alive, record_job()).await;
    let (on_dead, _) = claimed(&pool, dead, record_job()).await;
    let (on_missing, _) = claimed(&pool, missing, record_job().max_attempts(1)).await;
    let (cancel_requested, _) = claimed(&pool, dead, record_job()).await;
    request_cancel(&pool, cancel_requested).await;

    let counts = Rescuer::new(pool.clone(), rescuer::Config::default())
        .run_once()
        .await
        .unwrap();
    assert_eq!(counts.worker_lost, 3);
    assert_eq!(counts.timed_out, 0);
    assert_eq!(
        (counts.retryable, counts.failed, counts.cancelled),
        (1, 1, 1)
    );
    assert_eq!(counts.nodes_removed, 1);

    assert_eq!(job(&pool, on_alive).await.state, JobState::Running);
    let j = job(&pool, on_dead).await;
    assert_eq!(j.state, JobState::Retryable);
    assert_eq!(j.errors.len(), 1);
    assert_eq!(j.errors[0].attempt, 1);
    assert_eq!(j.errors[0].message, "worker lost");
    // The backoff policy of weir::backoff: attempt 1 waits base (1 s) ±20 %.
    let wait = (j.run_at - j.errors[0].at).to_std().unwrap();
    assert!(
        wait >= std::time::Duration::from_millis(800)
            && wait < std::time::Duration::from_millis(1200),
        "retry in {wait:?}"
    );
    let j = job(&pool, on_missing).await;
    assert_eq!(j.state, JobState::Failed, "no attempts left");
    assert_eq!(j.errors[0].message, "worker lost");
    assert_eq!(
        job(&pool, cancel_requested).await.state,
        JobState::Cancelled,
        "a cancel requested before the rescue is honoured"
    );

    let nodes: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM weir.nodes")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(nodes, vec![alive.0], "the dead node's row is removed");

    // Nothing left to do.
    let again = Rescuer::new(pool.clone(), rescuer::Config::default())
        .run_once()
        .await
        .unwrap();
    assert_eq!(again.rescued(), 0);
}

#[sqlx::test]
async fn a_rescued_job_back_in_the_queue_drops_the_lost_attempts_progress(pool: PgPool) {
    let dead = node_with_heartbeat_age(&pool, 120).await;
    let (requeued, _) = claimed(&pool, dead, record_job()).await;
    let (finished, _) = claimed(&pool, dead, record_job().max_attempts(1)).await;
    sqlx::query(
        "UPDATE weir.jobs SET progress = '{\"done\": 3, \"total\": 10}' WHERE id = ANY($1)",
    )
    .bind(vec![requeued.0, finished.0])
    .execute(&pool)
    .await
    .unwrap();

    Rescuer::new(pool.clone(), rescuer::Config::default())
        .run_once()
        .await
        .unwrap();

    let client = weir::Client::new(pool.clone());
    let requeued = client.job(requeued).await.unwrap();
    assert_eq!(requeued.state, JobState::Retryable);
    assert_eq!(
        requeued.progress, None,
        "a new attempt starts with no progress"
    );
    let finished = client.job(finished).await.unwrap();
    assert_eq!(finished.state, JobState::Failed);
    assert_eq!(
        finished.progress.and_then(|p| p.done),
        Some(3),
        "a failed job shows where it stopped"
    );
}

#[sqlx::test]
async fn overrun_job_is_rescued_as_timed_out_after_the_grace(pool: PgPool) {
    let alive = node_with_heartbeat_age(&pool, 0).await;
    let (id, _) = claimed(&pool, alive, record_job()).await;
    sqlx::query("UPDATE weir.jobs SET deadline = now() - interval '5 seconds' WHERE id = $1")
        .bind(id.0)
        .execute(&pool)
        .await
        .unwrap();
    let config = rescuer::Config {
        deadline_grace: Duration::from_secs(60),
        ..rescuer::Config::default()
    };
    let counts = Rescuer::new(pool.clone(), config.clone())
        .run_once()
        .await
        .unwrap();
    assert_eq!(counts.rescued(), 0, "still within the grace");

    let later = chrono::Utc::now() + chrono::Duration::seconds(120);
    // A pinned clock also ages the heartbeat: keep the node alive.
    sqlx::query("UPDATE weir.nodes SET heartbeat_at = $1")
        .bind(later)
        .execute(&pool)
        .await
        .unwrap();
    let counts = Rescuer::new(pool.clone(), config)
        .run_once_at(Some(later))
        .await
        .unwrap();
    assert_eq!(counts.timed_out, 1);
    let j = job(&pool, id).await;
    assert_eq!(j.state, JobState::Retryable);
    assert_eq!(j.errors[0].message, "timed out");
}

#[sqlx::test]
async fn stale_worker_cannot_complete_a_rescued_and_reclaimed_job(pool: PgPool) {
    let gone = NodeId(Uuid::new_v4());
    let (id, stale) = claimed(&pool, gone, record_job()).await;
    Rescuer::new(pool.clone(), rescuer::Config::default())
        .run_once()
        .await
        .unwrap();
    let far = chrono::Utc::now() + chrono::Duration::hours(2);
    assert_eq!(db::jobs::stage_due(&pool, Some(far), 10).await.unwrap(), 1);
    let now_node = node_with_heartbeat_age(&pool, 0).await;
    let reclaimed = db::jobs::claim_available(
        &pool,
        "default",
        &["test.record".to_string()],
        &[60],
        1,
        now_node,
    )
    .await
    .unwrap();
    assert_eq!(reclaimed[0].attempt, 2);
    let fresh = reclaimed[0].claim_token;

    let success = |token, result| db::jobs::Success {
        id,
        token,
        result,
        progress: None,
        start_delay: std::time::Duration::ZERO,
    };
    let done = db::jobs::complete_if_running(&pool, &[success(stale, json!("stale"))])
        .await
        .unwrap();
    assert!(
        done.is_empty(),
        "the stale attempt's completion is rejected"
    );
    let failed = db::jobs::fail_if_running(
        &pool,
        &[db::jobs::Failure {
            id,
            token: stale,
            message: "stale".into(),
            fatal: true,
            retry_in: Duration::ZERO,
            start_delay: std::time::Duration::ZERO,
        }],
    )
    .await
    .unwrap();
    assert!(failed.is_empty());
    let done = db::jobs::complete_if_running(&pool, &[success(fresh, json!("fresh"))])
        .await
        .unwrap();
    assert_eq!(done, vec![(id, fresh)]);
    let j = job(&pool, id).await;
    assert_eq!(j.state, JobState::Succeeded);
    assert_eq!(j.result, Some(json!("fresh")));
    assert_eq!(j.attempt, 2);
    assert_eq!(j.errors.len(), 1, "only the lost attempt's error");
}

#[sqlx::test]
async fn job_whose_node_vanished_runs_again_within_a_few_heartbeats(pool: PgPool) {
    // A node that claimed a job, then stopped heartbeating (killed).
    let vanished = node_with_heartbeat_age(&pool, 0).await;
    let (id, _) = claimed(&pool, vanished, record_job()).await;

    let recorder = Recorder::default();
    let mut config = fast_config(&[("default", 2)]);
    config.heartbeat_interval = Duration::from_millis(500);
    let m = config.maintenance.as_mut().unwrap();
    m.rescuer.dead_after = Duration::from_secs(2);
    m.rescuer.interval = Duration::from_millis(200);
    let worker = RunningWorker::start(&pool, config, registry(&recorder));

    let j = wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(20)).await;
    assert_eq!(j.attempt, 2);
    assert_eq!(j.errors.len(), 1);
    assert_eq!(j.errors[0].message, "worker lost");
    assert_eq!(recorder.runs(), vec![(id, 2)]);
    worker.stop().await;
}

#[sqlx::test]
async fn stale_attempt_is_told_to_stop_and_records_nothing(pool: PgPool) {
    let recorder = Recorder::default();
    let blocker = Blocker::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 2)]),
        registry_with_blocker(&recorder, &blocker),
    );
    let id = enqueue_kind(&pool, "test.block", json!({})).await;
    wait_for_state(&pool, id, JobState::Running, Duration::from_secs(10)).await;

    // The job is taken away (as a rescue and a re-claim elsewhere would).
    let other = Uuid::new_v4();
    sqlx::query("UPDATE weir.jobs SET claim_token = $2, attempt = 2 WHERE id = $1")
        .bind(id.0)
        .bind(other)
        .execute(&pool)
        .await
        .unwrap();
    eventually(
        Duration::from_secs(10),
        "the handler to be told to stop",
        || async { blocker.saw_cancel(id).then_some(()) },
    )
    .await;
    // Its Cancelled answer is not recorded: the job stays the other attempt's.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let j = job(&pool, id).await;
    assert_eq!(j.state, JobState::Running);
    let token: Uuid = sqlx::query_scalar("SELECT claim_token FROM weir.jobs WHERE id = $1")
        .bind(id.0)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(token, other);
    worker.stop().await;
}

/// The followed_jobs rows of `job`, as (node, age in seconds).
async fn followed_rows_of(pool: &PgPool, job: Uuid) -> Vec<(Uuid, f64)> {
    sqlx::query_as(
        "SELECT node_id, extract(epoch FROM now() - since)::float8 FROM weir.followed_jobs WHERE job_id = $1",
    )
    .bind(job)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn add_followed_job(pool: &PgPool, job: Uuid, node: Uuid, age_secs: f64) {
    sqlx::query(
        "INSERT INTO weir.followed_jobs (job_id, node_id, since) VALUES ($1, $2, now() - make_interval(secs => $3))",
    )
    .bind(job)
    .bind(node)
    .bind(age_secs)
    .execute(pool)
    .await
    .unwrap();
}

/// A job events hub whose listener runs until the token is cancelled,
/// subscribed to `job` (its followed_jobs row written).
async fn live_hub_following(
    pool: &PgPool,
    job: Uuid,
) -> (
    tokio_util::sync::CancellationToken,
    weir::follow::FollowedJob,
) {
    let stop = tokio_util::sync::CancellationToken::new();
    let hub = weir::follow::Followers::connect(pool.clone(), stop.clone(), Duration::from_secs(2))
        .await
        .unwrap();
    let sub = hub.subscribe(JobId(job)).await.unwrap();
    (stop, sub)
}

#[sqlx::test]
async fn followed_jobs_of_gone_hubs_are_removed_and_those_of_live_hubs_kept(pool: PgPool) {
    // A live hub (its LISTEN session is connected) following a job; its
    // row is aged past the grace: it stays, the hub is alive.
    let followed = Uuid::new_v4();
    let (stop, _sub) = live_hub_following(&pool, followed).await;
    sqlx::query(
        "UPDATE weir.followed_jobs SET since = now() - interval '1 hour' WHERE job_id = $1",
    )
    .bind(followed)
    .execute(&pool)
    .await
    .unwrap();
    // A hub that died without removing its row, and one too young to judge.
    let (orphan, young) = (Uuid::new_v4(), Uuid::new_v4());
    add_followed_job(&pool, orphan, Uuid::new_v4(), 3600.0).await;
    add_followed_job(&pool, young, Uuid::new_v4(), 0.0).await;

    let counts = Rescuer::new(pool.clone(), rescuer::Config::default())
        .run_once()
        .await
        .unwrap();
    assert_eq!(counts.followed_jobs_removed, 1);
    assert!(followed_rows_of(&pool, orphan).await.is_empty());
    assert_eq!(followed_rows_of(&pool, followed).await.len(), 1);
    assert_eq!(followed_rows_of(&pool, young).await.len(), 1);
    stop.cancel();
}

#[sqlx::test]
async fn a_hub_writes_its_followed_jobs_again_after_its_listener_reconnects(pool: PgPool) {
    let job = Uuid::new_v4();
    let (stop, _sub) = live_hub_following(&pool, job).await;
    let [(node, _)] = followed_rows_of(&pool, job).await[..] else {
        panic!("one followed_jobs row expected");
    };
    // As if the rescuer had removed it while the connection was down.
    sqlx::query("DELETE FROM weir.followed_jobs WHERE job_id = $1")
        .bind(job)
        .execute(&pool)
        .await
        .unwrap();
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(db::followed_jobs::listener_application_name(NodeId(node)))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ended, 1, "the hub's LISTEN session is named after it");
    eventually(
        Duration::from_secs(10),
        "the followed_jobs row written again",
        || async { (followed_rows_of(&pool, job).await.len() == 1).then_some(()) },
    )
    .await;
    stop.cancel();
}
