//! Jobs claimed ahead of a free slot: handed back at shutdown without
//! spending an attempt, cancelled without running, and never kept from an
//! idle node.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use weir::worker::Prefetch;
use weir::{JobId, JobState, WorkerConfig};

/// One slot and two jobs always claimed ahead of it (whatever the rate),
/// kept for `hold` before they are handed back.
fn claiming_ahead(hold: Duration) -> WorkerConfig {
    let mut config = fast_config(&[("default", 1)]);
    config.prefetch = Prefetch {
        window: Duration::ZERO,
        max: 2,
        min: 2,
        hold,
    };
    config.shutdown_grace = Duration::from_secs(30);
    config.supervision_interval = Duration::from_millis(50);
    config
}

async fn node_of(pool: &PgPool, id: JobId) -> Option<uuid::Uuid> {
    sqlx::query_scalar("SELECT node_id FROM weir.jobs WHERE id = $1")
        .bind(id.0)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A blocking job, then three recorded ones: the worker's first claim
/// takes the blocker and the next two (claimed ahead); the third stays.
async fn blocker_then_three(pool: &PgPool) -> (JobId, [JobId; 3]) {
    let blocking = enqueue_kind(pool, "test.block", json!({})).await;
    let mut rest = [blocking; 3];
    for r in &mut rest {
        *r = enqueue_kind(pool, "test.record", json!({})).await;
    }
    (blocking, rest)
}

#[sqlx::test]
async fn jobs_claimed_ahead_are_handed_back_at_shutdown_without_spending_an_attempt(pool: PgPool) {
    let (blocking, [a, b, c]) = blocker_then_three(&pool).await;
    let (recorder, blocker) = (Recorder::default(), Blocker::default());
    let worker = RunningWorker::start(
        &pool,
        claiming_ahead(Duration::from_secs(60)),
        registry_with_blocker(&recorder, &blocker),
    );
    for id in [a, b] {
        wait_for_state(&pool, id, JobState::Running, Duration::from_secs(10)).await;
    }
    assert_eq!(blocker.starts(blocking), 1);
    assert!(recorder.runs().is_empty(), "no slot was free for them");

    worker.shutdown.cancel();
    // They go back at once, while the blocking job still runs in its grace
    // period.
    for id in [a, b] {
        let j = wait_for_state(&pool, id, JobState::Available, Duration::from_secs(10)).await;
        assert_eq!(j.attempt, 0, "the attempt was not spent");
        assert!(j.started_at.is_none());
    }
    assert_eq!(job(&pool, blocking).await.state, JobState::Running);
    assert_eq!(job(&pool, c).await.attempt, 0, "never claimed");

    request_cancel(&pool, blocking).await;
    worker.handle.await.unwrap().unwrap();
    assert_eq!(job(&pool, blocking).await.state, JobState::Cancelled);
    assert!(recorder.runs().is_empty());
}

#[sqlx::test]
async fn a_job_claimed_ahead_that_is_cancelled_never_runs(pool: PgPool) {
    let (blocking, [a, b, c]) = blocker_then_three(&pool).await;
    let (recorder, blocker) = (Recorder::default(), Blocker::default());
    let worker = RunningWorker::start(
        &pool,
        claiming_ahead(Duration::from_secs(60)),
        registry_with_blocker(&recorder, &blocker),
    );
    wait_for_state(&pool, a, JobState::Running, Duration::from_secs(10)).await;

    request_cancel(&pool, a).await;
    let j = wait_for_state(&pool, a, JobState::Cancelled, Duration::from_secs(10)).await;
    assert_eq!(
        job(&pool, blocking).await.state,
        JobState::Running,
        "recorded without waiting for a slot"
    );
    assert!(j.errors.is_empty());

    let released: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(&pool)
        .await
        .unwrap();
    request_cancel(&pool, blocking).await;
    for id in [b, c] {
        wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(10)).await;
    }
    let b_started = job(&pool, b).await.started_at.unwrap();
    assert!(
        b_started > released,
        "started_at is when the handler started ({b_started}), not the claim"
    );
    let ran: Vec<JobId> = recorder.runs().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ran, vec![b, c], "the cancelled job never ran");
    worker.stop().await;
}

/// A node holding jobs ahead of its busy slot while the queue has no more
/// gives them back after the hold, and a second, idle node runs them.
#[sqlx::test]
async fn an_idle_node_gets_the_jobs_another_node_holds_ahead(pool: PgPool) {
    let jobs: Vec<JobId> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(enqueue_kind(&pool, "test.block", json!({})).await);
        }
        v
    };
    let (recorder, blocker) = (Recorder::default(), Blocker::default());
    let first = RunningWorker::start(
        &pool,
        claiming_ahead(Duration::from_millis(200)),
        registry_with_blocker(&recorder, &blocker),
    );
    for id in &jobs {
        wait_for_state(&pool, *id, JobState::Running, Duration::from_secs(10)).await;
    }
    let second = RunningWorker::start(
        &pool,
        fast_config(&[("default", 2)]),
        registry_with_blocker(&recorder, &blocker),
    );
    eventually(Duration::from_secs(10), "every job to start", || async {
        jobs.iter().all(|id| blocker.starts(*id) == 1).then_some(())
    })
    .await;
    let mut on_second = 0;
    for id in &jobs {
        if node_of(&pool, *id).await == Some(second.node.0) {
            on_second += 1;
        }
    }
    assert_eq!(on_second, 2, "the idle node runs what the busy one held");
    for id in &jobs {
        assert_eq!(
            job(&pool, *id).await.attempt,
            1,
            "handing back spent nothing"
        );
        request_cancel(&pool, *id).await;
    }
    first.stop().await;
    second.stop().await;
}

/// A claim that comes back short (the queue is drained) hands back at once
/// what found no free slot, however long jobs may be held ahead.
#[sqlx::test]
async fn a_drained_queue_is_not_held_ahead(pool: PgPool) {
    let one = enqueue_kind(&pool, "test.block", json!({})).await;
    let two = enqueue_kind(&pool, "test.block", json!({})).await;
    let (recorder, blocker) = (Recorder::default(), Blocker::default());
    let first = RunningWorker::start(
        &pool,
        claiming_ahead(Duration::from_secs(60)),
        registry_with_blocker(&recorder, &blocker),
    );
    eventually(Duration::from_secs(10), "a job to start", || async {
        (blocker.starts(one) + blocker.starts(two) == 1).then_some(())
    })
    .await;
    let second = RunningWorker::start(
        &pool,
        fast_config(&[("default", 1)]),
        registry_with_blocker(&recorder, &blocker),
    );
    eventually(Duration::from_secs(10), "both jobs to start", || async {
        (blocker.starts(one) == 1 && blocker.starts(two) == 1).then_some(())
    })
    .await;
    let nodes = [node_of(&pool, one).await, node_of(&pool, two).await];
    assert!(nodes.contains(&Some(first.node.0)) && nodes.contains(&Some(second.node.0)));
    for id in [one, two] {
        request_cancel(&pool, id).await;
    }
    first.stop().await;
    second.stop().await;
}
