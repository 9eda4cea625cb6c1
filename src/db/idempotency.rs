//! Statements on `weir.idempotency_keys` (the `Idempotency-Key` header).

use sqlx::PgExecutor;

use crate::error::Result;
use crate::job::JobId;

/// The job a key created within the last 24 hours, if any.
pub async fn find(db: impl PgExecutor<'_>, key: &str) -> Result<Option<JobId>> {
    Ok(sqlx::query_scalar!(
        "SELECT job_id FROM weir.idempotency_keys WHERE key = $1 AND created_at > now() - interval '24 hours'",
        key
    )
    .fetch_optional(db)
    .await?
    .map(JobId))
}

/// Records that `key` created `job`, replacing an expired record. Returns
/// false when a live record exists (a concurrent request with the same key
/// won): the caller rolls back and answers with that request's job.
pub async fn record(db: impl PgExecutor<'_>, key: &str, job: JobId) -> Result<bool> {
    let row = sqlx::query_scalar!(
        r#"INSERT INTO weir.idempotency_keys AS k (key, job_id) VALUES ($1, $2)
           ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id, created_at = now()
           WHERE k.created_at <= now() - interval '24 hours'
           RETURNING job_id"#,
        key,
        job.0
    )
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
}
