//! The listener survives the loss of its connection: it reconnects,
//! LISTENs again and re-scans at once.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use weir::JobState;

#[sqlx::test]
async fn job_enqueued_after_the_listener_was_killed_is_picked_up_long_before_the_poll(
    pool: PgPool,
) {
    let recorder = Recorder::default();
    let mut config = fast_config(&[("default", 2)]);
    config.poll_interval = Duration::from_secs(60);
    let worker = RunningWorker::start(&pool, config, registry(&recorder));
    wait_until_idle(&pool, worker.node, "default").await;

    for round in 0..2 {
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE query LIKE 'LISTEN%' AND datname = current_database()",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(killed, vec![true], "round {round}: one listener backend");
        let id = enqueue_kind(&pool, "test.record", json!({})).await;
        wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(20)).await;
        // Idle and listening again before the next round.
        wait_until_idle(&pool, worker.node, "default").await;
    }
    worker.stop().await;
}
