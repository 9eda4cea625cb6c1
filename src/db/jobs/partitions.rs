//! The day partitions of finished jobs: created ahead, detached and
//! dropped by the pruner.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::{Error, Result};

/// Creates the day partitions of the finished jobs for yesterday through
/// `days_ahead` days from today (UTC, database clock). Returns how many it
/// created.
pub async fn ensure_finished_partitions(db: impl PgExecutor<'_>, days_ahead: i32) -> Result<i32> {
    Ok(sqlx::query_scalar!(
        r#"SELECT weir.ensure_finished_partitions((now() AT TIME ZONE 'UTC')::date - 1, $1 + 2) AS "n!""#,
        days_ahead
    )
    .fetch_one(db)
    .await?)
}

/// A day partition of the finished jobs (`weir.jobs_finished_YYYYMMDD`).
#[derive(Debug, Clone)]
pub struct FinishedPartition {
    /// Table name in schema `weir`; always matches `jobs_finished_[0-9]{8}`.
    pub name: String,
    /// Still a partition of `weir.jobs_finished`.
    pub attached: bool,
    /// An interrupted `DETACH ... CONCURRENTLY` left it half detached.
    pub detach_pending: bool,
}

/// The day partitions (attached or left detached by an interrupted prune)
/// whose whole range ended at least `retention` before `now` (database
/// clock by default), oldest first. Never the live partition.
pub async fn finished_partitions_ended_before(
    db: impl PgExecutor<'_>,
    now: Option<DateTime<Utc>>,
    retention: std::time::Duration,
) -> Result<Vec<FinishedPartition>> {
    let rows = sqlx::query!(
        r#"SELECT c.relname::text AS "name!",
                  i.inhrelid IS NOT NULL AS "attached!",
                  coalesce(i.inhdetachpending, false) AS "detach_pending!"
           FROM pg_class c
           JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = 'weir'
           LEFT JOIN pg_inherits i
             ON i.inhrelid = c.oid AND i.inhparent = 'weir.jobs_finished'::regclass
           WHERE c.relkind = 'r'
             AND c.relname ~ '^jobs_finished_[0-9]{8}$'
             AND (to_date(substr(c.relname, 15, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC'
                 <= coalesce($1, now()) - make_interval(secs => $2)
           ORDER BY c.relname"#,
        now,
        retention.as_secs_f64(),
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FinishedPartition {
            name: r.name,
            attached: r.attached,
            detach_pending: r.detach_pending,
        })
        .collect())
}

fn partition_ident(name: &str) -> Result<String> {
    let valid = name.len() == 22
        && name.starts_with("jobs_finished_")
        && name[14..].bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(Error::Config(format!(
            "{name:?} is not a finished-jobs day partition"
        )));
    }
    Ok(format!("weir.{name}"))
}

/// Sets the session's `lock_timeout` (the pruner's DDL gives up instead of
/// queueing behind, and in front of, completions). `None` resets it.
pub async fn set_lock_timeout(
    db: impl PgExecutor<'_>,
    timeout: Option<std::time::Duration>,
) -> Result<()> {
    let value = timeout.map(|t| format!("{}ms", t.as_millis().max(1)));
    sqlx::query_scalar!(
        r#"SELECT set_config('lock_timeout', coalesce($1, '0'), false) AS "v!""#,
        value
    )
    .fetch_one(db)
    .await?;
    Ok(())
}

/// Detaches a day partition from `weir.jobs_finished`. `CONCURRENTLY`
/// takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so completions
/// keep flowing; it cannot run inside a transaction block, so `db` must
/// not be in one. With `finalize`, completes a detach that was interrupted.
pub async fn detach_finished_partition(
    db: impl PgExecutor<'_>,
    name: &str,
    finalize: bool,
) -> Result<()> {
    let ident = partition_ident(name)?;
    let mode = if finalize { "FINALIZE" } else { "CONCURRENTLY" };
    let sql = format!("ALTER TABLE weir.jobs_finished DETACH PARTITION {ident} {mode}");
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(db).await?;
    Ok(())
}

/// Drops a day partition that is no longer attached (its jobs go with it).
pub async fn drop_detached_partition(db: impl PgExecutor<'_>, name: &str) -> Result<()> {
    let ident = partition_ident(name)?;
    let sql = format!("DROP TABLE IF EXISTS {ident}");
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(db).await?;
    Ok(())
}
