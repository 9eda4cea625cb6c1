//! Statements of the worker API: calls of the SQL functions through which
//! a worker in any language registers, claims, heartbeats and reports
//! (`weir.register_worker`, `weir.claim`, `weir.complete_job`, ...). The
//! rules live in those functions; this module only calls them.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::{Error, Result};
use crate::job::{ClaimToken, JobId, NodeId};

/// A job as `weir.claim` hands it to an external worker.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalClaim {
    pub id: JobId,
    pub kind: String,
    pub args: serde_json::Value,
    pub attempt: i32,
    pub claim_token: ClaimToken,
    /// The attempt is rescued when it runs past this (database clock).
    pub deadline: DateTime<Utc>,
    /// The results of the jobs it depends on (`ref`, `id`, `kind`, `result`).
    pub parents: serde_json::Value,
    /// The W3C trace context of the enqueue, if it had one.
    pub traceparent: Option<String>,
}

/// Maps the worker functions' errors: P0002 (an unknown node) and 22023
/// (a bad argument) are the caller's to fix.
fn protocol_error(err: sqlx::Error) -> Error {
    let message = || {
        err.as_database_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default()
    };
    match err.as_database_error().and_then(|d| d.code()).as_deref() {
        Some("P0002") => Error::UnknownNode(message()),
        Some("22023") => Error::InvalidArgument(message()),
        _ => err.into(),
    }
}

/// Registers a node serving `queues` and `kinds`; returns its id.
pub async fn register(
    db: impl PgExecutor<'_>,
    name: &str,
    queues: &[String],
    kinds: &[String],
) -> Result<NodeId> {
    let id = sqlx::query_scalar!(
        r#"SELECT weir.register_worker($1, $2, $3) AS "id!""#,
        name,
        queues,
        kinds
    )
    .fetch_one(db)
    .await
    .map_err(protocol_error)?;
    Ok(NodeId(id))
}

/// Stamps `node`'s heartbeat; returns its running jobs whose cancel was
/// requested.
pub async fn heartbeat(db: impl PgExecutor<'_>, node: NodeId) -> Result<Vec<JobId>> {
    let ids = sqlx::query_scalar!(r#"SELECT weir.heartbeat($1) AS "ids!""#, node.0)
        .fetch_one(db)
        .await
        .map_err(protocol_error)?;
    Ok(ids.into_iter().map(JobId).collect())
}

/// Claims up to `max` available jobs of `queue` whose kind is in `kinds`.
pub async fn claim(
    db: impl PgExecutor<'_>,
    node: NodeId,
    queue: &str,
    kinds: &[String],
    max: i32,
) -> Result<Vec<ExternalClaim>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", kind AS "kind!", args AS "args!", attempt AS "attempt!",
                  claim_token AS "claim_token!", deadline AS "deadline!", parents AS "parents!",
                  traceparent
           FROM weir.claim($1, $2, $3, $4)"#,
        node.0,
        queue,
        kinds,
        max
    )
    .fetch_all(db)
    .await
    .map_err(protocol_error)?;
    Ok(rows
        .into_iter()
        .map(|r| ExternalClaim {
            id: JobId(r.id),
            kind: r.kind,
            args: r.args,
            attempt: r.attempt,
            claim_token: ClaimToken(r.claim_token),
            deadline: r.deadline,
            parents: r.parents,
            traceparent: r.traceparent,
        })
        .collect())
}

/// Records a success; false when the token is stale.
pub async fn complete(
    db: impl PgExecutor<'_>,
    id: JobId,
    token: ClaimToken,
    result: &serde_json::Value,
) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT weir.complete_job($1, $2, $3) AS "done!""#,
        id.0,
        token.0,
        result
    )
    .fetch_one(db)
    .await?)
}

/// Records many successes in one statement; returns the ids recorded (the
/// others' tokens were stale).
pub async fn complete_many(
    db: impl PgExecutor<'_>,
    reports: &[(JobId, ClaimToken, serde_json::Value)],
) -> Result<Vec<JobId>> {
    let reports: Vec<serde_json::Value> = reports
        .iter()
        .map(|(id, token, result)| {
            serde_json::json!({"id": id.0, "claim_token": token.0, "result": result})
        })
        .collect();
    let ids = sqlx::query_scalar!(
        r#"SELECT weir.complete_jobs($1) AS "ids!""#,
        serde_json::Value::Array(reports)
    )
    .fetch_one(db)
    .await
    .map_err(protocol_error)?;
    Ok(ids.into_iter().map(JobId).collect())
}

/// Records a failed attempt; false when the token is stale.
pub async fn fail(
    db: impl PgExecutor<'_>,
    id: JobId,
    token: ClaimToken,
    message: &str,
    retryable: bool,
) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT weir.fail_job($1, $2, $3, $4) AS "done!""#,
        id.0,
        token.0,
        message,
        retryable
    )
    .fetch_one(db)
    .await?)
}

/// Puts the job back to `scheduled` in `delay` without spending the
/// attempt; false when the token is stale.
pub async fn snooze(
    db: impl PgExecutor<'_>,
    id: JobId,
    token: ClaimToken,
    delay: std::time::Duration,
) -> Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT weir.snooze_job($1, $2, make_interval(secs => $3)) AS "done!""#,
        id.0,
        token.0,
        delay.as_secs_f64()
    )
    .fetch_one(db)
    .await
    .map_err(protocol_error)
}

/// Stores progress; false when the token is stale.
pub async fn progress(
    db: impl PgExecutor<'_>,
    id: JobId,
    token: ClaimToken,
    done: Option<i64>,
    total: Option<i64>,
    message: Option<&str>,
) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT weir.report_progress($1, $2, $3, $4, $5) AS "done!""#,
        id.0,
        token.0,
        done,
        total,
        message
    )
    .fetch_one(db)
    .await?)
}

/// Removes `node`, handing its running jobs back; returns how many.
pub async fn unregister(db: impl PgExecutor<'_>, node: NodeId) -> Result<i32> {
    Ok(
        sqlx::query_scalar!(r#"SELECT weir.unregister_worker($1) AS "n!""#, node.0)
            .fetch_one(db)
            .await?,
    )
}
