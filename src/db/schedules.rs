//! Statements on `weir.schedules`: set, delete, read and list schedules
//! (through `weir.set_schedule` / `weir.delete_schedule`, the one
//! implementation psql users call too), and the scheduler's reads and its
//! compare-and-set that enqueues a tick exactly once.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::job::{JobId, NodeId};

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScheduleRow {
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub kind: String,
    pub args: serde_json::Value,
    pub queue: String,
    pub priority: i16,
    pub max_attempts: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub paused: bool,
    /// `latest` or `none`.
    pub catch_up: String,
    /// The next tick; `None` until the scheduler has read a new or
    /// changed expression, or when `error` says it cannot.
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_enqueued_at: Option<DateTime<Utc>>,
    pub last_job_id: Option<Uuid>,
    /// Why the scheduler cannot compute the next tick.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What `weir.set_schedule` takes.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub kind: String,
    pub args: serde_json::Value,
    pub queue: String,
    pub priority: i16,
    pub max_attempts: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub paused: bool,
    pub catch_up: String,
}

/// Maps the schedule functions' errors: 22023 (a bad argument) and P0002
/// (no such schedule) are the caller's to fix.
fn schedule_error(err: sqlx::Error) -> Error {
    let message = || {
        err.as_database_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default()
    };
    match err.as_database_error().and_then(|d| d.code()).as_deref() {
        Some("P0002") => Error::ScheduleNotFound(message()),
        Some("22023") => Error::InvalidArgument(message()),
        _ => err.into(),
    }
}

/// Creates or replaces a schedule through `weir.set_schedule`.
pub async fn set(db: impl PgExecutor<'_>, s: &ScheduleSpec) -> Result<ScheduleRow> {
    sqlx::query_as!(
        ScheduleRow,
        r#"SELECT name AS "name!", cron AS "cron!", timezone AS "timezone!", kind AS "kind!",
                  args AS "args!", queue AS "queue!", priority AS "priority!", max_attempts,
                  timeout_seconds AS "timeout_seconds: i32", paused AS "paused!",
                  catch_up AS "catch_up!", next_run_at, last_enqueued_at, last_job_id, error,
                  created_at AS "created_at!", updated_at AS "updated_at!"
           FROM weir.set_schedule(name => $1, cron => $2, kind => $3, args => $4, queue => $5,
                                  priority => $6, max_attempts => $7, timeout_seconds => $8,
                                  timezone => $9, paused => $10, catch_up => $11)"#,
        s.name,
        s.cron,
        s.kind,
        s.args,
        s.queue,
        s.priority,
        s.max_attempts,
        s.timeout_seconds,
        s.timezone,
        s.paused,
        s.catch_up,
    )
    .fetch_one(db)
    .await
    .map_err(schedule_error)
}

/// Deletes a schedule through `weir.delete_schedule`;
/// [`Error::ScheduleNotFound`] when there is none of that name.
pub async fn delete(db: impl PgExecutor<'_>, name: &str) -> Result<()> {
    sqlx::query!("SELECT weir.delete_schedule($1)", name)
        .execute(db)
        .await
        .map_err(schedule_error)?;
    Ok(())
}

/// The schedule called `name`, if any.
pub async fn get(db: impl PgExecutor<'_>, name: &str) -> Result<Option<ScheduleRow>> {
    Ok(sqlx::query_as!(
        ScheduleRow,
        r#"SELECT name, cron, timezone, kind, args AS "args!", queue, priority, max_attempts,
                  timeout_seconds AS "timeout_seconds: i32", paused, catch_up, next_run_at,
                  last_enqueued_at, last_job_id, error, created_at, updated_at
           FROM weir.schedules WHERE name = $1"#,
        name
    )
    .fetch_optional(db)
    .await?)
}

/// Every schedule, by name.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<ScheduleRow>> {
    Ok(sqlx::query_as!(
        ScheduleRow,
        r#"SELECT name, cron, timezone, kind, args AS "args!", queue, priority, max_attempts,
                  timeout_seconds AS "timeout_seconds: i32", paused, catch_up, next_run_at,
                  last_enqueued_at, last_job_id, error, created_at, updated_at
           FROM weir.schedules ORDER BY name"#
    )
    .fetch_all(db)
    .await?)
}

/// A schedule the scheduler has work for: its next tick is due, or not
/// computed yet.
#[derive(Debug, Clone)]
pub struct DueSchedule {
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub catch_up: String,
    pub next_run_at: Option<DateTime<Utc>>,
}

/// The scheduler's read at `now` (the database clock when `None`): the
/// running schedules whose tick is due or whose next tick is not computed
/// (and has no error), the clock used, and the earliest next tick after it.
pub async fn due(
    db: &PgPool,
    now: Option<DateTime<Utc>>,
) -> Result<(DateTime<Utc>, Vec<DueSchedule>, Option<DateTime<Utc>>)> {
    let clock = sqlx::query!(
        r#"SELECT coalesce($1, now()) AS "now!",
                  (SELECT min(next_run_at) FROM weir.schedules
                   WHERE NOT paused AND next_run_at > coalesce($1, now())) AS next_due"#,
        now
    )
    .fetch_one(db)
    .await?;
    let due = sqlx::query_as!(
        DueSchedule,
        r#"SELECT name, cron, timezone, catch_up, next_run_at FROM weir.schedules
           WHERE NOT paused
             AND (next_run_at <= $1 OR (next_run_at IS NULL AND error IS NULL))
           ORDER BY next_run_at NULLS FIRST"#,
        clock.now
    )
    .fetch_all(db)
    .await?;
    Ok((clock.now, due, clock.next_due))
}

/// Stores the first tick of a schedule whose timing is new, if its
/// expression and time zone are still those the tick was computed from.
pub async fn set_first_tick(
    db: impl PgExecutor<'_>,
    s: &DueSchedule,
    next: DateTime<Utc>,
) -> Result<()> {
    sqlx::query!(
        "UPDATE weir.schedules SET next_run_at = $4, error = NULL
         WHERE name = $1 AND cron = $2 AND timezone = $3 AND next_run_at IS NULL",
        s.name,
        s.cron,
        s.timezone,
        next
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records why the scheduler cannot compute a schedule's next tick (it
/// stays idle until set again), if its expression and time zone are
/// still those it read.
pub async fn set_error(db: impl PgExecutor<'_>, s: &DueSchedule, error: &str) -> Result<()> {
    sqlx::query!(
        "UPDATE weir.schedules SET error = $4, next_run_at = NULL
         WHERE name = $1 AND cron = $2 AND timezone = $3",
        s.name,
        s.cron,
        s.timezone,
        error
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Enqueues the ticks `ticks` of a schedule and moves its `next_run_at`
/// from `expected` to `next`, in one transaction, only if `next_run_at`
/// is still `expected` (and the schedule still runs with the same timing,
/// and `lease`, when given, is still held): the compare-and-set that makes
/// each tick enqueued once, however many schedulers saw it due. Returns
/// the jobs enqueued, or `None` when another scheduler (or a change of the
/// schedule) got there first. Each job's `unique_key` is
/// `schedule:<name>:<tick>`.
pub async fn fire_if_unchanged(
    pool: &PgPool,
    s: &DueSchedule,
    expected: DateTime<Utc>,
    ticks: &[DateTime<Utc>],
    next: Option<DateTime<Utc>>,
    lease: Option<(&str, NodeId)>,
) -> Result<Option<Vec<JobId>>> {
    let mut tx = pool.begin().await?;
    let (role, node) = match lease {
        Some((role, node)) => (Some(role), Some(node.0)),
        None => (None, None),
    };
    let error = next
        .is_none()
        .then_some("the cron expression has no tick after the last one");
    let Some(job) = sqlx::query!(
        r#"UPDATE weir.schedules SET next_run_at = $5, error = $6
           WHERE name = $1 AND cron = $2 AND timezone = $3 AND next_run_at = $4 AND NOT paused
             AND ($7::text IS NULL OR EXISTS (
                   SELECT 1 FROM weir.leaders l
                   WHERE l.name = $7 AND l.node_id = $8 AND l.expires_at > now()))
           RETURNING kind AS "kind!", args AS "args!", queue, priority, max_attempts,
                     timeout_seconds AS "timeout_seconds: i32""#,
        s.name,
        s.cron,
        s.timezone,
        expected,
        next,
        error,
        role,
        node,
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let mut ids = Vec::with_capacity(ticks.len());
    for tick in ticks {
        let key = crate::cron::tick_key(&s.name, *tick);
        let id = sqlx::query_scalar!(
            r#"SELECT weir.enqueue(kind => $1, args => $2, queue => $3, priority => $4,
                                   max_attempts => $5, unique_key => $6,
                                   timeout_seconds => $7) AS "id!""#,
            job.kind,
            job.args,
            job.queue,
            job.priority,
            job.max_attempts,
            key,
            job.timeout_seconds,
        )
        .fetch_one(&mut *tx)
        .await?;
        ids.push(JobId(id));
    }
    if let Some(last) = ids.last() {
        sqlx::query!(
            "UPDATE weir.schedules SET last_enqueued_at = now(), last_job_id = $2 WHERE name = $1",
            s.name,
            last.0
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Some(ids))
}
