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
    /// When the job was due: enqueued, or its `run_at`.
    pub run_at: chrono::DateTime<chrono::Utc>,
    /// The enqueue's W3C trace context, if it had one.
    pub traceparent: Option<String>,
}

/// Claims up to `limit` available jobs of `queue` whose kind is in `kinds`,
/// for `node`, unless the queue is paused. Each claimed job becomes
/// `running` with `attempt + 1`, a fresh claim token and a deadline of now
/// plus its timeout (the job's own, else the kind's entry in `timeouts`).
///
/// A job made `available` with no attempts left (requeued by hand after it
/// failed, or whose `max_attempts` was lowered) runs once more: its budget
/// grows to `attempt + 1`. Under `jobs_attempt_within_max` the plain
/// `attempt + 1` would fail the whole statement, and with it every claim of
/// the queue, for as long as that one row stays first in line.
///
/// Why it is shaped this way: the MATERIALIZED CTE picks the rows once
/// (an `UPDATE ... WHERE id IN (subquery)` may re-run the subquery and
/// claim more than `limit`); `FOR UPDATE SKIP LOCKED` lets concurrent
/// workers pass each other instead of queueing on the same rows; the
/// literal `state = 'available'` and one queue per statement let the scan
/// walk `jobs_live_claim_available_idx` in `ORDER BY` order and stop after
/// `limit` rows, however many finished jobs exist (they live in other
/// partitions). The pause check is an uncorrelated sub-select evaluated
/// once, so every node honours a pause with no extra round trip.
pub async fn claim_available(
    db: impl PgExecutor<'_>,
    queue: &str,
    kinds: &[String],
    timeouts: &[i32],
    limit: i64,
    node: NodeId,
) -> Result<Vec<ClaimedJob>> {
    let rows = sqlx::query!(
        r#"WITH picked AS MATERIALIZED (
               SELECT j.id
               FROM weir.jobs_live j
               WHERE j.state = 'available'
                 AND j.queue = $1
                 AND j.kind = ANY($2::text[])
                 AND NOT EXISTS (SELECT 1 FROM weir.queues q WHERE q.name = $1 AND q.paused)
               ORDER BY j.priority DESC, j.run_at, j.id
               LIMIT $4
               FOR UPDATE SKIP LOCKED
           )
           UPDATE weir.jobs_live j
           SET state = 'running',
               attempt = j.attempt + 1,
               max_attempts = greatest(j.max_attempts, j.attempt + 1),
               claim_token = gen_random_uuid(),
               node_id = $5,
               started_at = now(),
               deadline = now() + make_interval(secs => coalesce(j.timeout_seconds, t.timeout_s)),
               progress = NULL
           FROM picked, unnest($2::text[], $3::int[]) AS t(kind, timeout_s)
           WHERE j.id = picked.id AND t.kind = j.kind
           RETURNING j.id, j.kind, j.queue, j.args, j.attempt, j.max_attempts, j.run_at, j.traceparent,
                     j.claim_token AS "claim_token!",
                     coalesce(j.timeout_seconds, t.timeout_s) AS "timeout_seconds!""#,
        queue,
        kinds,
        timeouts,
        limit,
        node.0,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ClaimedJob {
            id: JobId(r.id),
            kind: r.kind,
            queue: r.queue,
            args: r.args,
            attempt: r.attempt,
            max_attempts: r.max_attempts,
            claim_token: ClaimToken(r.claim_token),
            timeout_seconds: r.timeout_seconds,
            run_at: r.run_at,
            traceparent: r.traceparent,
        })
        .collect())
}
