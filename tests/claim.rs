//! The claim: never more jobs than free slots, and a job made available
//! with no attempts left runs once more and never stalls the jobs behind it.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;
use weir::db;
use weir::{Client, JobId, JobState, NewJob, NodeId};

async fn enqueue(pool: &PgPool, job: NewJob) -> JobId {
    Client::new(pool.clone())
        .enqueue_job(&job)
        .await
        .unwrap()
        .id
}

fn kinds() -> Vec<String> {
    vec!["test.record".to_string()]
}

#[sqlx::test]
async fn a_failed_job_requeued_by_hand_runs_again_and_stalls_nothing(pool: PgPool) {
    // A job that failed its only attempt, first in line.
    let bad = enqueue(
        &pool,
        NewJob::new("test.record", json!({}))
            .max_attempts(1)
            .priority(10),
    )
    .await;
    let node = NodeId(Uuid::new_v4());
    let claimed = db::jobs::claim_available(&pool, "default", &kinds(), &[60], 1, node)
        .await
        .unwrap();
    db::jobs::fail_if_running(
        &pool,
        &[db::jobs::Failure {
            id: bad,
            token: claimed[0].claim_token,
            message: "boom".into(),
            fatal: false,
            retry_in: Duration::ZERO,
            start_delay: std::time::Duration::ZERO,
        }],
    )
    .await
    .unwrap();
    assert_eq!(job(&pool, bad).await.state, JobState::Failed);
    // What an operator types in psql to run it again.
    sqlx::query("UPDATE weir.jobs SET state = 'available', finished_at = NULL WHERE id = $1")
        .bind(bad.0)
        .execute(&pool)
        .await
        .unwrap();
    let mut behind = Vec::new();
    for _ in 0..5 {
        behind.push(enqueue(&pool, NewJob::new("test.record", json!({}))).await);
    }

    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    for id in behind {
        wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(15)).await;
    }
    let j = wait_for_state(&pool, bad, JobState::Succeeded, Duration::from_secs(15)).await;
    worker.stop().await;
    assert_eq!(
        (j.attempt, j.max_attempts),
        (2, 2),
        "the budget grew by one"
    );
    assert_eq!(j.errors.len(), 1, "the first attempt's error is kept");
}

#[sqlx::test]
async fn a_job_whose_max_attempts_was_lowered_to_its_attempts_is_claimed_once_more(pool: PgPool) {
    let id = enqueue(&pool, NewJob::new("test.record", json!({})).max_attempts(5)).await;
    let other = enqueue(&pool, NewJob::new("test.record", json!({}))).await;
    sqlx::query("UPDATE weir.jobs SET attempt = 2, max_attempts = 2 WHERE id = $1")
        .bind(id.0)
        .execute(&pool)
        .await
        .unwrap();
    let node = NodeId(Uuid::new_v4());
    let claimed = db::jobs::claim_available(&pool, "default", &kinds(), &[60], 10, node)
        .await
        .unwrap();
    let mut got: Vec<(JobId, i32, i32)> = claimed
        .iter()
        .map(|c| (c.id, c.attempt, c.max_attempts))
        .collect();
    got.sort_by_key(|(id, ..)| *id);
    assert_eq!(got, vec![(id, 3, 3), (other, 1, 20)]);
}

#[sqlx::test]
async fn claims_never_exceed_free_slots(pool: PgPool) {
    sqlx::query("INSERT INTO weir.jobs (kind, args) SELECT 'test.record', '{\"sleep_ms\": 100}' FROM generate_series(1, 30)")
        .execute(&pool)
        .await
        .unwrap();
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 3)]), registry(&recorder));
    eventually(Duration::from_secs(30), "all 30 jobs to run", || async {
        (recorder.runs().len() == 30).then_some(())
    })
    .await;
    worker.stop().await;
    assert_eq!(
        recorder.max_concurrent(),
        3,
        "3 slots: never more, and all used"
    );
}
