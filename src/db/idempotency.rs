//! Statements on `weir.idempotency_keys` (the `Idempotency-Key` header):
//! one row per (scope, key), honoured for 24 hours, then pruned.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::Result;
use crate::job::JobId;

/// What a key recorded: the job it created and the fingerprint of the
/// request that created it (`None` for keys recorded before fingerprints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub job_id: JobId,
    pub fingerprint: Option<String>,
}

/// The record of `key` in `scope` made within the last 24 hours, if any.
pub async fn find(db: impl PgExecutor<'_>, scope: &str, key: &str) -> Result<Option<KeyRecord>> {
    let row = sqlx::query!(
        "SELECT job_id, fingerprint FROM weir.idempotency_keys
         WHERE scope = $1 AND key = $2 AND created_at > now() - interval '24 hours'",
        scope,
        key
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| KeyRecord {
        job_id: JobId(r.job_id),
        fingerprint: r.fingerprint,
    }))
}

/// Records that `key` in `scope` created `job` for the request
/// `fingerprint`, replacing an expired record. Returns false when a live
/// record exists (a concurrent request with the same key won): the caller
/// rolls back and answers as that record says.
pub async fn record(
    db: impl PgExecutor<'_>,
    scope: &str,
    key: &str,
    fingerprint: &str,
    job: JobId,
) -> Result<bool> {
    let row = sqlx::query_scalar!(
        r#"INSERT INTO weir.idempotency_keys AS k (scope, key, fingerprint, job_id)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (scope, key) DO UPDATE
             SET job_id = excluded.job_id, fingerprint = excluded.fingerprint, created_at = now()
           WHERE k.created_at <= now() - interval '24 hours'
           RETURNING job_id"#,
        scope,
        key,
        fingerprint,
        job.0
    )
    .fetch_optional(db)
    .await?;
    Ok(row.is_some())
}

/// Deletes the records older than 24 hours at `now` (the database's clock
/// when `None`), which no request honours any more; returns how many.
pub async fn delete_expired(db: impl PgExecutor<'_>, now: Option<DateTime<Utc>>) -> Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM weir.idempotency_keys
         WHERE created_at <= coalesce($1, now()) - interval '24 hours'",
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
