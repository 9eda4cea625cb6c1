//! The completer keeps an outcome the database refused and records it once
//! the database accepts writes again.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use weir::JobState;

#[sqlx::test]
async fn outcome_refused_by_the_database_is_recorded_when_it_is_back(pool: PgPool) {
    // Stand-in for an outage that only hits outcome writes: completions
    // fail until the trigger is dropped.
    sqlx::raw_sql(
        "CREATE FUNCTION public.refuse_outcomes() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'database unavailable (test)'; END $$;
         CREATE TRIGGER refuse_outcomes BEFORE UPDATE ON weir.jobs_live
             FOR EACH ROW WHEN (NEW.state = 'succeeded')
             EXECUTE FUNCTION public.refuse_outcomes();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    let id = enqueue_kind(&pool, "test.record", json!({})).await;
    eventually(Duration::from_secs(10), "the handler to run", || async {
        (!recorder.runs().is_empty()).then_some(())
    })
    .await;
    // Several refused tries.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(job(&pool, id).await.state, JobState::Running);

    sqlx::raw_sql("DROP TRIGGER refuse_outcomes ON weir.jobs_live")
        .execute(&pool)
        .await
        .unwrap();
    let j = wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(20)).await;
    assert_eq!(j.attempt, 1);
    assert!(j.errors.is_empty());
    assert_eq!(recorder.runs(), vec![(id, 1)], "the handler ran once");
    worker.stop().await;
}
