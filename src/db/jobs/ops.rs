//! Operator transitions: cancel and retry (through `weir.cancel_job` and
//! `weir.retry_job`, the one implementation psql also uses).

use sqlx::PgExecutor;

use crate::error::{Error, Result};
use crate::job::JobId;

/// What `weir.cancel_job` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The job was queued and is now `cancelled`.
    Cancelled,
    /// The job is running; its worker was asked to stop it.
    CancelRequested,
}

/// Maps the SQLSTATEs raised by the ops functions: P0002 (no such job) and
/// 55000 (the job's state does not allow it), retrying nothing.
fn ops_error(err: sqlx::Error, id: JobId) -> Error {
    match err.as_database_error().and_then(|d| d.code()).as_deref() {
        Some("P0002") => Error::NotFound(id),
        Some("55000") => Error::Conflict(
            err.as_database_error()
                .map(|d| d.message().to_string())
                .unwrap_or_default(),
        ),
        Some("23505") => Error::Conflict(format!(
            "job {id} cannot be retried: a live job already holds its unique_key"
        )),
        _ => err.into(),
    }
}

/// Cancels a job through `weir.cancel_job` (the one implementation, shared
/// with psql): queued → `cancelled`; running → cancel requested; finished →
/// [`Error::Conflict`]; unknown → [`Error::NotFound`].
pub async fn cancel(db: impl PgExecutor<'_>, id: JobId) -> Result<CancelOutcome> {
    let outcome = sqlx::query_scalar!(r#"SELECT weir.cancel_job($1) AS "outcome!""#, id.0)
        .fetch_one(db)
        .await
        .map_err(|e| ops_error(e, id))?;
    Ok(if outcome == "cancelled" {
        CancelOutcome::Cancelled
    } else {
        CancelOutcome::CancelRequested
    })
}

/// Sends a failed or cancelled job back to `available` through
/// `weir.retry_job`; other states → [`Error::Conflict`].
pub async fn retry(db: impl PgExecutor<'_>, id: JobId) -> Result<()> {
    sqlx::query!("SELECT weir.retry_job($1)", id.0)
        .execute(db)
        .await
        .map_err(|e| ops_error(e, id))?;
    Ok(())
}
