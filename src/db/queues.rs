//! Statements on `weir.queues` and the `weir.queue_stats` view.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use std::time::Duration;

use crate::error::Result;
use crate::flow::{QueueLimits, RateLimit};

/// One row of `weir.queue_stats`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStats {
    pub queue: String,
    pub paused: bool,
    pub pending: i64,
    pub scheduled: i64,
    pub available: i64,
    pub running: i64,
    pub retryable: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub oldest_available_at: Option<DateTime<Utc>>,
    pub oldest_available_age_seconds: Option<f64>,
    pub unserved_kinds: Vec<String>,
    pub max_running: Option<i32>,
    pub max_running_per_key: Option<i32>,
    pub rate_limit: Option<i32>,
    /// The window of `rate_limit`, in seconds.
    pub rate_period_seconds: Option<f64>,
}

impl QueueStats {
    /// The queue's flow-control limits.
    pub fn limits(&self) -> QueueLimits {
        QueueLimits {
            max_running: self.max_running,
            max_running_per_key: self.max_running_per_key,
            rate: match (self.rate_limit, self.rate_period_seconds) {
                (Some(limit), Some(secs)) => Some(RateLimit {
                    limit,
                    period: Duration::from_secs_f64(secs.max(0.0)),
                }),
                _ => None,
            },
        }
    }
}

impl QueueStats {
    /// The stats of a queue with no jobs, settings or workers yet.
    pub fn empty(queue: &str) -> Self {
        QueueStats {
            queue: queue.to_string(),
            paused: false,
            pending: 0,
            scheduled: 0,
            available: 0,
            running: 0,
            retryable: 0,
            succeeded: 0,
            failed: 0,
            cancelled: 0,
            oldest_available_at: None,
            oldest_available_age_seconds: None,
            unserved_kinds: Vec::new(),
            max_running: None,
            max_running_per_key: None,
            rate_limit: None,
            rate_period_seconds: None,
        }
    }
}

/// Every known queue with its counts, sorted by name.
pub async fn stats(db: impl PgExecutor<'_>) -> Result<Vec<QueueStats>> {
    Ok(sqlx::query_as!(
        QueueStats,
        r#"SELECT queue AS "queue!", paused AS "paused!", pending AS "pending!",
                  scheduled AS "scheduled!", available AS "available!", running AS "running!",
                  retryable AS "retryable!", succeeded AS "succeeded!", failed AS "failed!",
                  cancelled AS "cancelled!", oldest_available_at, oldest_available_age_seconds,
                  unserved_kinds AS "unserved_kinds!", max_running, max_running_per_key,
                  rate_limit, extract(epoch FROM rate_period)::float8 AS rate_period_seconds
           FROM weir.queue_stats ORDER BY queue"#
    )
    .fetch_all(db)
    .await?)
}

/// Pauses `queue` on every node (`weir.pause_queue`).
pub async fn pause(db: impl PgExecutor<'_>, queue: &str) -> Result<()> {
    sqlx::query!("SELECT weir.pause_queue($1)", queue)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether `queue` is paused.
pub async fn is_paused(db: impl PgExecutor<'_>, queue: &str) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM weir.queues WHERE name = $1 AND paused) AS "paused!""#,
        queue
    )
    .fetch_one(db)
    .await?)
}

/// Resumes `queue` and wakes its idle workers (`weir.resume_queue`).
pub async fn resume(db: impl PgExecutor<'_>, queue: &str) -> Result<()> {
    sqlx::query!("SELECT weir.resume_queue($1)", queue)
        .execute(db)
        .await?;
    Ok(())
}

/// Sets every limit of `queue` at once (`weir.set_queue_limits`; `None`
/// removes one). Claims committed after it honour the new limits.
pub async fn set_limits(db: impl PgExecutor<'_>, queue: &str, limits: &QueueLimits) -> Result<()> {
    sqlx::query!(
        "SELECT weir.set_queue_limits($1, $2, $3, $4, make_interval(secs => $5))",
        queue,
        limits.max_running,
        limits.max_running_per_key,
        limits.rate.map(|r| r.limit),
        limits.rate.map(|r| r.period.as_secs_f64()),
    )
    .execute(db)
    .await?;
    Ok(())
}
