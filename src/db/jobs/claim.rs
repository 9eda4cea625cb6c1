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

/// What one claim took.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    pub jobs: Vec<ClaimedJob>,
    /// The claim stopped at one of the queue's limits while more jobs
    /// were available: claim again soon rather than wait for a wake-up
    /// (a job finishing elsewhere frees room without announcing it).
    pub at_limit: bool,
}

/// Claims up to `limit` available jobs of `queue` whose kind is in `kinds`,
/// for `node`, within the queue's limits, unless the queue is paused. Each
/// claimed job becomes `running` with `attempt + 1`, a fresh claim token
/// and a deadline of now plus its timeout (the job's own, else the kind's
/// entry in `timeouts`). See [`claim`].
pub async fn claim_available<'c, E: PgExecutor<'c> + Copy>(
    db: E,
    queue: &str,
    kinds: &[String],
    timeouts: &[i32],
    limit: i64,
    node: NodeId,
) -> Result<Vec<ClaimedJob>> {
    Ok(claim(db, queue, kinds, timeouts, limit, node).await?.jobs)
}

/// [`claim_available`], saying whether it stopped at a limit.
///
/// A queue without limits (the common case) is claimed by one plain
/// statement: a MATERIALIZED pick (an `UPDATE ... WHERE id IN (subquery)`
/// may re-run the subquery and claim more than `limit`) with `FOR UPDATE
/// SKIP LOCKED` (concurrent workers pass each other), walking
/// `jobs_live_claim_available_idx` in line order and stopping after
/// `limit` rows however many finished jobs exist. An uncorrelated
/// sub-select, evaluated once, skips the statement's work when the queue
/// is paused or has limits.
///
/// When that takes nothing, `weir.claim(node, queue, kinds, timeouts,
/// max)` (migrations/0007_flow_control.sql) runs: the one claim the SQL
/// worker API also uses, which honours the pause and counts the queue's
/// limits under its lock. So the limits cost only the queues that have
/// them (and an empty claim one more round trip).
///
/// A job made `available` with no attempts left (requeued by hand after it
/// failed, or whose `max_attempts` was lowered) runs once more: its budget
/// grows to `attempt + 1`.
pub async fn claim<'c, E: PgExecutor<'c> + Copy>(
    db: E,
    queue: &str,
    kinds: &[String],
    timeouts: &[i32],
    limit: i64,
    node: NodeId,
) -> Result<Claim> {
    let rows = sqlx::query!(
        r#"WITH picked AS MATERIALIZED (
               SELECT j.id
               FROM weir.jobs_live j
               WHERE j.state = 'available'
                 AND j.queue = $1
                 AND j.kind = ANY($2::text[])
                 AND NOT EXISTS (
                     SELECT 1 FROM weir.queues q
                     WHERE q.name = $1
                       AND (q.paused OR q.max_running IS NOT NULL
                            OR q.max_running_per_key IS NOT NULL OR q.rate_limit IS NOT NULL))
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
           RETURNING j.id, j.kind, j.args, j.attempt, j.max_attempts, j.run_at, j.traceparent,
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
    if !rows.is_empty() {
        let jobs = rows
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
                run_at: r.run_at,
                traceparent: r.traceparent,
            })
            .collect();
        return Ok(Claim {
            jobs,
            at_limit: false,
        });
    }
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    // The job's row as the statement began (before weir.claim's update)
    // still has its run_at and traceparent, which a claim does not change.
    let rows = sqlx::query!(
        r#"SELECT l.limited AS "limited!", l.available AS "available!", c.id, c.kind, c.args, c.attempt, c.max_attempts,
                  c.claim_token, c.timeout_seconds, j.run_at AS "run_at?", j.traceparent
           FROM (SELECT EXISTS (
                     SELECT 1 FROM weir.queues q
                     WHERE q.name = $2::text
                       AND (q.max_running IS NOT NULL OR q.max_running_per_key IS NOT NULL
                            OR q.rate_limit IS NOT NULL)) AS limited,
                        (SELECT count(*) FROM (
                             SELECT 1 FROM weir.jobs_live a
                             WHERE a.state = 'available' AND a.queue = $2 AND a.kind = ANY($3)
                             LIMIT ($5::int)::bigint + 1) x) AS available) l
           LEFT JOIN LATERAL weir.claim($1::uuid, $2::text, $3::text[], $4::int[], $5::int) c ON true
           LEFT JOIN weir.jobs_live j ON j.id = c.id"#,
        node.0,
        queue,
        kinds,
        timeouts,
        limit,
    )
    .fetch_all(db)
    .await?;
    let (limited, available) = rows
        .first()
        .map_or((false, 0), |r| (r.limited, r.available));
    let jobs: Vec<ClaimedJob> = rows
        .into_iter()
        .filter_map(|r| {
            Some(ClaimedJob {
                id: JobId(r.id?),
                kind: r.kind?,
                queue: queue.to_string(),
                args: r.args?,
                attempt: r.attempt?,
                max_attempts: r.max_attempts?,
                claim_token: ClaimToken(r.claim_token?),
                timeout_seconds: r.timeout_seconds?,
                run_at: r.run_at.unwrap_or_else(chrono::Utc::now),
                traceparent: r.traceparent,
            })
        })
        .collect();
    // `available` counts the jobs of the statement's snapshot, before this
    // claim took its own.
    let at_limit = limited && available > jobs.len() as i64;
    Ok(Claim { jobs, at_limit })
}
