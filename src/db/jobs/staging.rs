//! Staging: due `scheduled` and `retryable` jobs become `available`.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::Result;

/// Makes up to `limit` due `scheduled` and `retryable` jobs `available`
/// (due: `run_at <= now`, `now` defaulting to the database clock) and wakes
/// idle workers of their queues. Returns how many jobs were staged.
pub async fn stage_due(
    db: impl PgExecutor<'_>,
    now: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<i64> {
    let staged = sqlx::query_scalar!(
        r#"WITH due AS MATERIALIZED (
               SELECT id FROM weir.jobs_live
               WHERE state IN ('scheduled', 'retryable') AND run_at <= coalesce($1, now())
               ORDER BY run_at
               LIMIT $2
               FOR UPDATE SKIP LOCKED
           ), staged AS (
               UPDATE weir.jobs_live j SET state = 'available'
               FROM due WHERE j.id = due.id
               RETURNING j.queue
           )
           SELECT count(*) AS "n!"
           FROM (SELECT weir.notify_queues(array_agg(DISTINCT queue)) FROM staged) woken, staged"#,
        now,
        limit,
    )
    .fetch_one(db)
    .await?;
    Ok(staged)
}

/// How long until the next `scheduled` or `retryable` job is due (zero
/// if one is overdue), on the database clock; `None` if there is none.
pub async fn next_due_in(db: impl PgExecutor<'_>) -> Result<Option<std::time::Duration>> {
    let secs = sqlx::query_scalar!(
        r#"SELECT extract(epoch FROM min(run_at) - now())::float8
           FROM weir.jobs_live WHERE state IN ('scheduled', 'retryable')"#
    )
    .fetch_one(db)
    .await?;
    Ok(secs.map(|s| std::time::Duration::from_secs_f64(s.max(0.0))))
}
