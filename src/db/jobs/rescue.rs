//! Rescue: running jobs whose node died or whose deadline passed.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::stored_state;
use crate::error::Result;
use crate::job::{JobId, JobState, NodeId};

/// Why the rescuer took a running job away from its attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RescueReason {
    /// The node holding it stopped heartbeating (or its row is gone).
    WorkerLost,
    /// The attempt overran its deadline (plus the grace).
    TimedOut,
}

impl RescueReason {
    /// The reason as a metrics label.
    pub fn label(self) -> &'static str {
        match self {
            RescueReason::WorkerLost => "worker_lost",
            RescueReason::TimedOut => "timed_out",
        }
    }

    /// The error message appended to the job's `errors`.
    pub fn message(self) -> &'static str {
        match self {
            RescueReason::WorkerLost => "worker lost",
            RescueReason::TimedOut => "timed out",
        }
    }
}

/// One job the rescuer took back.
#[derive(Debug, Clone)]
pub struct Rescued {
    pub id: JobId,
    pub queue: String,
    pub kind: String,
    pub reason: RescueReason,
    /// `retryable`, `failed` (no attempts left) or `cancelled` (a cancel
    /// had been requested).
    pub state: JobState,
}

/// The guard of a leader's writes: the statement changes nothing unless
/// `node` holds an unexpired lease on `role` in `weir.leaders`.
#[derive(Debug, Clone, Copy)]
pub struct LeaseGuard<'a> {
    pub role: &'a str,
    pub node: NodeId,
}

/// Rescues up to `limit` running jobs whose node is dead (no row in
/// `weir.nodes`, or a heartbeat older than `dead_after`) or whose deadline
/// passed more than `deadline_grace` ago, all on the database clock (`now`
/// defaults to it). Each gets an error entry for its attempt ("worker
/// lost" or "timed out") and becomes `retryable` at now + backoff (the
/// policy of [`crate::backoff::Backoff`], passed in as its table of
/// nominal delays and jitter range), `failed` when no
/// attempts are left, or `cancelled` when a cancel was requested. With
/// `lease`, nothing changes unless that lease is still held. `SKIP LOCKED`
/// leaves jobs a worker is completing at this moment to the worker. A job
/// going back to the queue drops the lost attempt's progress.
///
/// `reachable_for` is how long the caller has reached the database without
/// interruption (`None`: take every age as it is). Only that time counts:
/// a heartbeat, or the end of a deadline, older than its start is taken as
/// made at its start, so nobody is declared dead, nor overrun, for what it
/// could not write while the database (or the caller's connection) was
/// down.
#[allow(clippy::too_many_arguments)]
pub async fn rescue_orphaned_running(
    db: impl PgExecutor<'_>,
    now: Option<DateTime<Utc>>,
    dead_after: std::time::Duration,
    deadline_grace: std::time::Duration,
    backoff: &crate::backoff::Backoff,
    limit: i64,
    lease: Option<LeaseGuard<'_>>,
    reachable_for: Option<std::time::Duration>,
) -> Result<Vec<Rescued>> {
    let rows = sqlx::query!(
        r#"WITH lost AS MATERIALIZED (
               SELECT j.id,
                      (n.id IS NULL
                       OR greatest(n.heartbeat_at, coalesce($1, now()) - make_interval(secs => $10))
                          < coalesce($1, now()) - make_interval(secs => $2))
                          AS worker_lost
               FROM weir.jobs_live j
               LEFT JOIN weir.nodes n ON n.id = j.node_id
               WHERE j.state = 'running'
                 AND (n.id IS NULL
                      OR greatest(n.heartbeat_at, coalesce($1, now()) - make_interval(secs => $10))
                         < coalesce($1, now()) - make_interval(secs => $2)
                      OR greatest(j.deadline, coalesce($1, now()) - make_interval(secs => $10))
                         < coalesce($1, now()) - make_interval(secs => $3))
                 AND ($7::uuid IS NULL OR EXISTS (
                      SELECT 1 FROM weir.leaders l
                      WHERE l.name = $8 AND l.node_id = $7 AND l.expires_at > now()))
               ORDER BY j.id
               LIMIT $6
               FOR UPDATE OF j SKIP LOCKED
           )
           UPDATE weir.jobs j
           SET state = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'::weir.job_state
                            WHEN j.attempt >= j.max_attempts THEN 'failed'::weir.job_state
                            ELSE 'retryable'::weir.job_state END,
               finished_at = CASE WHEN j.cancel_requested_at IS NOT NULL OR j.attempt >= j.max_attempts
                                  THEN coalesce($1, now()) END,
               run_at = CASE WHEN j.cancel_requested_at IS NOT NULL OR j.attempt >= j.max_attempts
                             THEN j.run_at
                             ELSE coalesce($1, now()) + make_interval(secs =>
                                  ($4::float8[])[least(greatest(j.attempt, 1), cardinality($4::float8[]))]
                                  * ($5 + $9 * random())) END,
               progress = CASE WHEN j.cancel_requested_at IS NOT NULL OR j.attempt >= j.max_attempts
                               THEN j.progress END,
               errors = j.errors || jsonb_build_array(jsonb_build_object(
                            'attempt', j.attempt, 'at', coalesce($1, now()),
                            'message', CASE WHEN lost.worker_lost THEN 'worker lost' ELSE 'timed out' END)),
               node_id = NULL, deadline = NULL
           FROM lost
           WHERE j.id = lost.id AND j.state = 'running'
           RETURNING j.id, j.queue, j.kind, j.state::text AS "state!", lost.worker_lost AS "worker_lost!""#,
        now,
        dead_after.as_secs_f64(),
        deadline_grace.as_secs_f64(),
        &backoff.nominal_table_secs(),
        crate::backoff::JITTER_MIN,
        limit,
        lease.map(|l| l.node.0),
        lease.map(|l| l.role),
        crate::backoff::JITTER_SPAN,
        reachable_for.map(|d| d.as_secs_f64()),
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Rescued {
                id: JobId(r.id),
                queue: r.queue,
                kind: r.kind,
                reason: if r.worker_lost {
                    RescueReason::WorkerLost
                } else {
                    RescueReason::TimedOut
                },
                state: stored_state(&r.state)?,
            })
        })
        .collect()
}
