//! Cancelling running jobs: the handler hears it through its context, a
//! handler that ignores it is aborted, and a cancelled job never runs
//! again.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use weir::db;
use weir::{JobState, NodeId};

#[sqlx::test]
async fn cancel_reaches_a_running_handler(pool: PgPool) {
    let recorder = Recorder::default();
    let blocker = Blocker::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 2)]),
        registry_with_blocker(&recorder, &blocker),
    );
    let id = enqueue_kind(&pool, "test.block", json!({})).await;
    let other = enqueue_kind(&pool, "test.record", json!({"sleep_ms": 300})).await;
    wait_for_state(&pool, id, JobState::Running, Duration::from_secs(10)).await;

    request_cancel(&pool, id).await;
    let j = wait_for_state(&pool, id, JobState::Cancelled, Duration::from_secs(15)).await;
    assert!(blocker.saw_cancel(id));
    assert!(blocker.ended(id), "the handler stopped by itself");
    assert!(j.finished_at.is_some());
    assert!(j.errors.is_empty());
    // The other job is unaffected.
    wait_for_state(&pool, other, JobState::Succeeded, Duration::from_secs(10)).await;
    worker.stop().await;
}

#[sqlx::test]
async fn handler_that_ignores_cancel_is_aborted_and_recorded_cancelled(pool: PgPool) {
    let recorder = Recorder::default();
    let blocker = Blocker::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 1)]),
        registry_with_blocker(&recorder, &blocker),
    );
    let id = enqueue_kind(&pool, "test.block", json!({"ignore_cancel": true})).await;
    wait_for_state(&pool, id, JobState::Running, Duration::from_secs(10)).await;

    request_cancel(&pool, id).await;
    wait_for_state(&pool, id, JobState::Cancelled, Duration::from_secs(20)).await;
    assert!(blocker.saw_cancel(id));
    assert!(!blocker.ended(id), "the handler was aborted, not finished");
    assert_eq!(blocker.starts(id), 1);
    worker.stop().await;
}

#[sqlx::test]
async fn cancelled_job_never_runs_after_a_worker_restart(pool: PgPool) {
    let recorder = Recorder::default();
    let blocker = Blocker::default();
    // A supervisor too slow to notice the cancel before the shutdown: the
    // hand-back at shutdown must honour it.
    let mut config = fast_config(&[("default", 1)]);
    config.supervision_interval = Duration::from_secs(3600);
    config.shutdown_grace = Duration::from_millis(300);
    let worker = RunningWorker::start(&pool, config, registry_with_blocker(&recorder, &blocker));
    let id = enqueue_kind(&pool, "test.block", json!({"ignore_cancel": true})).await;
    wait_for_state(&pool, id, JobState::Running, Duration::from_secs(10)).await;
    request_cancel(&pool, id).await;
    worker.stop().await;
    assert_eq!(job(&pool, id).await.state, JobState::Cancelled);

    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 1)]),
        registry_with_blocker(&recorder, &blocker),
    );
    let probe = enqueue_kind(&pool, "test.record", json!({})).await;
    wait_for_state(&pool, probe, JobState::Succeeded, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(blocker.starts(id), 1, "the cancelled job never ran again");
    assert_eq!(job(&pool, id).await.state, JobState::Cancelled);
    worker.stop().await;
}

#[sqlx::test]
async fn failure_after_a_cancel_request_is_recorded_cancelled(pool: PgPool) {
    let node = NodeId(uuid::Uuid::new_v4());
    let id = enqueue_kind(&pool, "test.record", json!({})).await;
    let claimed = db::jobs::claim_available(
        &pool,
        "default",
        &["test.record".to_string()],
        &[60],
        1,
        node,
    )
    .await
    .unwrap();
    request_cancel(&pool, id).await;
    let done = db::jobs::fail_if_running(
        &pool,
        &[db::jobs::Failure {
            id,
            token: claimed[0].claim_token,
            message: "boom".into(),
            fatal: false,
            retry_in: Duration::ZERO,
            start_delay: std::time::Duration::ZERO,
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        done,
        vec![(id, claimed[0].claim_token, JobState::Cancelled)]
    );
    let j = job(&pool, id).await;
    assert_eq!(j.state, JobState::Cancelled);
    assert_eq!(j.errors.len(), 1, "the attempt's error is kept");
}

#[sqlx::test]
async fn cancel_over_http_of_a_running_job_answers_202_then_the_job_is_cancelled(pool: PgPool) {
    let recorder = Recorder::default();
    let blocker = Blocker::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 1)]),
        registry_with_blocker(&recorder, &blocker),
    );
    let id = enqueue_kind(&pool, "test.block", json!({})).await;
    wait_for_state(&pool, id, JobState::Running, Duration::from_secs(10)).await;

    let cli = api_client(&pool, &[]).await;
    let resp = cli.post(format!("/v1/jobs/{id}/cancel")).send().await;
    resp.assert_status(poem::http::StatusCode::ACCEPTED);
    let j = wait_for_state(&pool, id, JobState::Cancelled, Duration::from_secs(15)).await;
    assert!(j.cancel_requested.is_some());
    assert!(blocker.saw_cancel(id));
    worker.stop().await;
}
