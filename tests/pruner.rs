//! The pruner drops day partitions of finished jobs past the retention and
//! leaves everything else alone.

mod common;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;
use weir::maintenance::pruner::{self, Pruner};
use weir::{JobId, JobState};

/// Inserts a finished job whose `finished_at` is `days_ago` days back.
async fn finished(pool: &PgPool, days_ago: i32) -> JobId {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO weir.jobs (kind, state, attempt, finished_at)
         VALUES ('test.record', 'succeeded', 1, now() - make_interval(days => $1))
         RETURNING id",
    )
    .bind(days_ago)
    .fetch_one(pool)
    .await
    .unwrap();
    JobId(id)
}

async fn partitions(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'weir.jobs_finished'::regclass ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn exists(pool: &PgPool, id: JobId) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM weir.jobs WHERE id = $1)")
        .bind(id.0)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn pruner_drops_old_finished_partitions_and_leaves_live_jobs_alone(pool: PgPool) {
    sqlx::query("SELECT weir.ensure_finished_partitions(current_date - 20, 4)")
        .execute(&pool)
        .await
        .unwrap();
    let before = partitions(&pool).await;
    let old = [finished(&pool, 20).await, finished(&pool, 18).await];
    let recent = finished(&pool, 0).await;
    let live = enqueue_kind(&pool, "test.record", json!({})).await;
    let later = weir::Client::new(pool.clone())
        .enqueue_job(
            &weir::NewJob::new("test.record", json!({}))
                .run_at(chrono::Utc::now() - chrono::Duration::days(30)),
        )
        .await
        .unwrap()
        .id;

    let counts = Pruner::new(pool.clone(), pruner::Config::default())
        .run_once()
        .await
        .unwrap();
    assert_eq!(counts.partitions_dropped, 4, "days -20 to -17");

    let after = partitions(&pool).await;
    assert_eq!(after.len(), before.len() - 4);
    assert!(after.iter().all(|p| before.contains(p)));
    for id in old {
        assert!(!exists(&pool, id).await, "old finished job {id} is gone");
    }
    assert_eq!(job(&pool, recent).await.state, JobState::Succeeded);
    assert_eq!(job(&pool, live).await.state, JobState::Available);
    assert_eq!(
        job(&pool, later).await.state,
        JobState::Available,
        "an old run_at does not make a live job prunable"
    );

    let again = Pruner::new(pool.clone(), pruner::Config::default())
        .run_once()
        .await
        .unwrap();
    assert_eq!(again.partitions_dropped, 0);
}

#[sqlx::test]
async fn pruner_finishes_a_prune_that_was_interrupted(pool: PgPool) {
    sqlx::query("SELECT weir.ensure_finished_partitions(current_date - 30, 2)")
        .execute(&pool)
        .await
        .unwrap();
    let old = finished(&pool, 30).await;
    // Detached, but the process died before the drop.
    let name: String =
        sqlx::query_scalar("SELECT 'jobs_finished_' || to_char(current_date - 29, 'YYYYMMDD')")
            .fetch_one(&pool)
            .await
            .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE weir.jobs_finished DETACH PARTITION weir.{name}"
    )))
    .execute(&pool)
    .await
    .unwrap();

    let counts = Pruner::new(pool.clone(), pruner::Config::default())
        .run_once()
        .await
        .unwrap();
    assert_eq!(counts.partitions_dropped, 2);
    assert!(!exists(&pool, old).await);
    let left: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(format!("weir.{name}"))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, None, "the detached table is dropped too");
}

#[sqlx::test]
async fn shorter_retention_drops_more_days(pool: PgPool) {
    let yesterday = finished(&pool, 1).await;
    let counts = Pruner::new(
        pool.clone(),
        pruner::Config {
            retention: std::time::Duration::from_secs(24 * 3600),
            ..pruner::Config::default()
        },
    )
    .run_once_at(Some(chrono::Utc::now() + chrono::Duration::days(1)))
    .await
    .unwrap();
    assert!(counts.partitions_dropped >= 1);
    assert!(!exists(&pool, yesterday).await);
}
