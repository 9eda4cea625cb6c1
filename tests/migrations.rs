//! Upgrades: migrations applied to a database that already holds jobs.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;
use weir::db::MIGRATOR;

mod common;

/// Every table and index of schema `weir` with its storage file: a rewrite
/// or a rebuild gives a relation a new one.
async fn storage(pool: &PgPool) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT c.relname::text, c.relfilenode::int8 FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'weir' AND c.relkind IN ('r', 'i', 't') ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// A stored job's columns that migration 0012 retypes or must leave alone.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Row {
    id: Uuid,
    kind: String,
    queue: String,
    args: Value,
    errors: Value,
    progress: Option<Value>,
    max_attempts: i32,
    timeout_seconds: Option<i32>,
    unique_key: Option<String>,
    state: String,
}

async fn jobs(pool: &PgPool) -> Vec<Row> {
    sqlx::query_as(
        "SELECT id, kind::text AS kind, queue, args::jsonb AS args, errors::jsonb AS errors,
                progress::jsonb AS progress, max_attempts::int4 AS max_attempts,
                timeout_seconds::int4 AS timeout_seconds, unique_key, state::text AS state
         FROM weir.jobs ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Migration 0012 moves five single-column checks of weir.jobs to domains.
/// On a database that holds live and finished jobs it must be a catalog
/// change only: no table rewritten, no index rebuilt, no stored job read
/// (each would hold an exclusive lock on every stored job for a full
/// pass). Every row stays as it was, and bad values are still refused
/// under the old constraint names (max_attempts keeps its table check).
#[sqlx::test(migrations = false)]
async fn column_checks_become_domains_without_rewriting_stored_jobs(pool: PgPool) {
    MIGRATOR.run_to(11, &pool).await.unwrap();
    sqlx::query(
        "INSERT INTO weir.jobs (kind, queue, args, unique_key, timeout_seconds, max_attempts)
         SELECT 'kind.' || i % 3, 'q' || i % 2, jsonb_build_object('i', i),
                CASE WHEN i % 4 = 0 THEN 'key-' || i END,
                CASE WHEN i % 5 = 0 THEN 30 END, 3
         FROM generate_series(1, 200) i",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE weir.jobs SET state = 'succeeded', attempt = 1, finished_at = now(),
                progress = '{\"done\": 1}'
         WHERE id IN (SELECT id FROM weir.jobs_live ORDER BY id LIMIT 120)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let rows = jobs(&pool).await;
    assert_eq!(rows.len(), 200);
    let finished: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs_finished")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(finished, 120, "jobs in both partitions");
    let files = storage(&pool).await;

    // First a dry run in a transaction, rolled back: a type change that
    // re-checks stored rows (a table check over an altered column is
    // re-added and validated) reads every job under the exclusive lock.
    let sql = MIGRATOR
        .iter()
        .find(|m| m.version == 12)
        .expect("migration 0012")
        .sql
        .as_str()
        .to_owned();
    // The backend's own counters, read before and after inside the same
    // transaction (they also hold its earlier, unflushed statements).
    let reads = "SELECT relname::text, seq_tup_read FROM pg_stat_xact_user_tables
                 WHERE schemaname = 'weir' AND relname LIKE 'jobs%' ORDER BY 1";
    let mut tx = pool.begin().await.unwrap();
    let before: Vec<(String, i64)> = sqlx::query_as(reads).fetch_all(&mut *tx).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *tx)
        .await
        .unwrap();
    let after: Vec<(String, i64)> = sqlx::query_as(reads).fetch_all(&mut *tx).await.unwrap();
    assert_eq!(after, before, "stored jobs read by the migration");
    tx.rollback().await.unwrap();

    MIGRATOR.run(&pool).await.unwrap();

    assert_eq!(
        storage(&pool).await,
        files,
        "no table rewritten, no index rebuilt"
    );
    assert_eq!(jobs(&pool).await, rows, "every job as it was");
    let types: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, NULL) FROM pg_attribute a
         WHERE a.attrelid = 'weir.jobs'::regclass
           AND a.attname IN ('kind', 'args', 'errors', 'progress', 'timeout_seconds', 'max_attempts')
         ORDER BY a.attnum",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let want = [
        ("kind", "weir.job_kind"),
        ("args", "weir.job_args"),
        ("max_attempts", "integer"),
        ("timeout_seconds", "weir.job_timeout_seconds"),
        ("progress", "weir.job_progress"),
        ("errors", "weir.job_errors"),
    ];
    assert_eq!(
        types,
        want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );

    // The old names still refuse bad values, on stored jobs too (a live
    // one, whose attempt 0 leaves jobs_max_attempts_positive to answer).
    let id = rows
        .iter()
        .find(|r| r.state == "available")
        .expect("a live job")
        .id;
    for (sql, constraint) in [
        (
            "UPDATE weir.jobs SET progress = '[1]' WHERE id = $1",
            "jobs_progress_is_object",
        ),
        (
            "UPDATE weir.jobs SET errors = '{}' WHERE id = $1",
            "jobs_errors_is_array",
        ),
        (
            "UPDATE weir.jobs SET args = 'null' WHERE id = $1",
            "jobs_args_is_object",
        ),
        (
            "UPDATE weir.jobs SET kind = ' ' WHERE id = $1",
            "jobs_kind_not_empty",
        ),
        (
            "UPDATE weir.jobs SET max_attempts = 0 WHERE id = $1",
            "jobs_max_attempts_positive",
        ),
        (
            "UPDATE weir.jobs SET timeout_seconds = -1 WHERE id = $1",
            "jobs_timeout_positive",
        ),
    ] {
        let err = sqlx::query(sql).bind(id).execute(&pool).await.unwrap_err();
        let db = err.as_database_error().expect("a database error");
        assert_eq!(db.constraint(), Some(constraint), "{sql}: {err}");
        assert_eq!(db.code().as_deref(), Some("23514"), "{sql}: {err}");
    }
    assert_eq!(jobs(&pool).await, rows, "nothing changed by the refusals");

    // The view that read the columns answers as before, comments kept.
    let (queues, succeeded, unserved): (i64, i64, Vec<String>) = sqlx::query_as(
        "SELECT count(*), sum(succeeded)::int8,
                (SELECT unserved_kinds FROM weir.queue_stats WHERE queue = 'q0')
         FROM weir.queue_stats",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((queues, succeeded), (2, 120));
    assert_eq!(unserved, ["kind.0", "kind.1", "kind.2"]);
    let comment: Option<String> =
        sqlx::query_scalar("SELECT col_description('weir.queue_stats'::regclass, 1)")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(comment.as_deref(), Some("Queue name."));
}
