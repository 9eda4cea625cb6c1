//! Connections: the listener survives the loss of its connection (it
//! reconnects, LISTENs again and re-scans at once), and a server session
//! shared behind weir's back (a transaction-mode pooler) is named in the
//! error.

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

#[sqlx::test]
async fn a_shared_server_session_gets_an_error_that_names_the_pooler(pool: PgPool) {
    // What a transaction-mode pooler without prepared-statement support
    // does: one server session serves several client connections, whose
    // prepared statements (sqlx_s_1, sqlx_s_2, ...) collide. Here the
    // names are taken first by hand on the connection weir then uses.
    use sqlx::{Connection, Executor};
    let mut conn = sqlx::PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    for n in 1..=20 {
        // `n` is a number: nothing to inject.
        let prepare = sqlx::AssertSqlSafe(format!("PREPARE sqlx_s_{n} AS SELECT 1"));
        conn.execute(sqlx::raw_sql(prepare)).await.unwrap();
    }
    let err = weir::enqueue_in(&mut conn, &weir::NewJob::new("test.echo", json!({})))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("already exists"), "{message}");
    assert!(message.contains("transaction mode"), "{message}");
    assert!(message.contains("docs/deployment.md"), "{message}");
    // Any other database error carries no such hint.
    let other = weir::enqueue_in(&pool, &weir::NewJob::new("test.echo", json!([1])))
        .await
        .unwrap_err()
        .to_string();
    assert!(!other.contains("pooler"), "{other}");
}
