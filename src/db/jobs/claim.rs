//! The claim: available jobs of one queue become `running` for one attempt.

use sqlx::PgExecutor;

use crate::error::Result;
use crate::job::{ClaimToken, JobId, NodeId};

/// A job as the claim hands it to a worker.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: JobId,
    pub kind: String,
    pub queue: String,
    pub args: serde_json::Value,
    pub attempt: i32,
    pub max_attempts: i32,
    pub claim_token: ClaimToken,
    /// The attempt's timeout: the job's own, else the task's default.
    pub timeout_seconds: i32,
}

/// Claims up to `limit` available jobs of `queue` whose kind is in `kinds`,
/// for `node`, within the queue's limits, unless the queue is paused. Each
/// claimed job becomes `running` with `attempt + 1`, a fresh claim token
/// and a deadline of now plus its timeout (the job's own, else the kind's
/// entry in `timeouts`).
///
/// The statement is `weir.claim(node, queue, kinds, timeouts, max)`
/// (migrations/0007_flow_control.sql), the one claim that the SQL worker
/// API's `weir.claim` also runs: it takes the plain `SKIP LOCKED` pick for
/// a queue without limits, and the serialised, counting path for a queue
/// with limits, deciding which inside the database so that no node can
/// act on a stale view of the limits. A job made `available` with no
/// attempts left runs once more: its budget grows to `attempt + 1`.
pub async fn claim_available(
    db: impl PgExecutor<'_>,
    queue: &str,
    kinds: &[String],
    timeouts: &[i32],
    limit: i64,
    node: NodeId,
) -> Result<Vec<ClaimedJob>> {
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    let rows = sqlx::query!(
        r#"SELECT c.id AS "id!", c.kind AS "kind!", c.args AS "args!", c.attempt AS "attempt!",
                  c.max_attempts AS "max_attempts!", c.claim_token AS "claim_token!",
                  c.timeout_seconds AS "timeout_seconds!"
           FROM weir.claim($1, $2, $3, $4, $5) c"#,
        node.0,
        queue,
        kinds,
        timeouts,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClaimedJob {
            id: JobId(r.id),
            kind: r.kind,
            queue: queue.to_string(),
            args: r.args,
            attempt: r.attempt,
            max_attempts: r.max_attempts,
            claim_token: ClaimToken(r.claim_token),
            timeout_seconds: r.timeout_seconds,
        })
        .collect())
}
