//! A running attempt's outcome and progress, each write fenced by the
//! claim token (`state = 'running' AND claim_token = $token`), so a worker
//! whose attempt was handed back or rescued changes nothing.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::stored_state;
use crate::error::Result;
use crate::job::{ClaimToken, JobId, JobState, Progress};

/// One successful attempt to record.
#[derive(Debug, Clone)]
pub struct Success {
    pub id: JobId,
    pub token: ClaimToken,
    pub result: serde_json::Value,
    /// The handler's last progress report, if it was not written yet.
    pub progress: Option<Progress>,
}

/// Records results: running jobs whose claim token matches become
/// `succeeded` (and move to the finished partition). Returns the ids that
/// matched; the others were no longer this attempt's to finish.
///
/// Why no `FROM unnest(...)` join: the statistics of `jobs_live` are
/// usually taken when few jobs run, so the generic plan of such a join is
/// a nested loop of every running row times a rescan of the unnest,
/// growing with both. Here the running rows are filtered by
/// `id = ANY($1)` and each row finds its own token and result by key.
/// `fail_if_running`, `cancel_if_running`, `hand_back_if_running` and
/// `set_progress_if_running` have the same shape for the same reason.
///
/// Why `persistent(false)` (an unnamed statement, planned with its
/// arguments each time): with those same statistics, the generic plan of
/// this shape walks every running row through
/// `jobs_live_running_deadline_idx` and tests `id = ANY($1)` against the
/// whole array for each row, quadratic in the concurrency. Planned with
/// the array as a constant, PostgreSQL hashes the array, for the price of
/// planning each time.
/// The other four do the same (those returning two columns return them
/// as one record, since only single-column queries offer the switch).
pub async fn complete_if_running(db: impl PgExecutor<'_>, done: &[Success]) -> Result<Vec<JobId>> {
    // Each job's token, result and progress, keyed by id in one jsonb
    // object: a row finds its own with one keyed lookup. (Parallel arrays
    // read with `array_position` scan the array once per row and per
    // column: quadratic in the batch.)
    let ids: Vec<Uuid> = done.iter().map(|s| s.id.0).collect();
    let mut by_id = serde_json::Map::with_capacity(done.len());
    for s in done {
        let mut entry = serde_json::Map::with_capacity(3);
        entry.insert("t".into(), serde_json::Value::String(s.token.0.to_string()));
        entry.insert("r".into(), s.result.clone());
        if let Some(p) = &s.progress {
            entry.insert("p".into(), serde_json::to_value(p)?);
        }
        by_id.insert(s.id.0.to_string(), serde_json::Value::Object(entry));
    }
    let by_id = serde_json::Value::Object(by_id);
    let rows = sqlx::query_scalar!(
        r#"UPDATE weir.jobs j
           SET state = 'succeeded', finished_at = now(),
               result = $2::jsonb -> j.id::text -> 'r',
               progress = coalesce(($2::jsonb -> j.id::text -> 'p')
                                   || jsonb_build_object('updated_at', now()), j.progress),
               node_id = NULL, deadline = NULL
           WHERE j.state = 'running' AND j.id = ANY($1::uuid[])
             AND j.claim_token = ($2::jsonb -> j.id::text ->> 't')::uuid
           RETURNING j.id"#,
        &ids,
        by_id,
    )
    .persistent(false)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(JobId).collect())
}

/// One failed attempt to record.
#[derive(Debug, Clone)]
pub struct Failure {
    pub id: JobId,
    pub token: ClaimToken,
    pub message: String,
    /// No retry, whatever attempts are left.
    pub fatal: bool,
    /// Backoff before the retry, if there is one.
    pub retry_in: std::time::Duration,
}

/// Records failed attempts of running jobs whose claim token matches: an
/// error entry `{attempt, at, message}` is appended, then the job becomes
/// `retryable` at now + backoff, or `failed` when the error is fatal or no
/// attempts are left, or `cancelled` when a cancel was requested (a
/// cancelled job never runs again). Returns each matched id with its new
/// state. A job going back to the queue drops the ended attempt's progress;
/// a finished one keeps it, to show where it stopped.
pub async fn fail_if_running(
    db: impl PgExecutor<'_>,
    failed: &[Failure],
) -> Result<Vec<(JobId, JobState)>> {
    let ids: Vec<Uuid> = failed.iter().map(|f| f.id.0).collect();
    let tokens: Vec<Uuid> = failed.iter().map(|f| f.token.0).collect();
    let messages: Vec<String> = failed.iter().map(|f| f.message.clone()).collect();
    let fatal: Vec<bool> = failed.iter().map(|f| f.fatal).collect();
    let retry_in: Vec<f64> = failed.iter().map(|f| f.retry_in.as_secs_f64()).collect();
    let rows = sqlx::query_scalar!(
        r#"UPDATE weir.jobs j
           SET state = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'::weir.job_state
                            WHEN ($4::bool[])[array_position($1::uuid[], j.id)]
                                 OR j.attempt >= j.max_attempts
                            THEN 'failed'::weir.job_state ELSE 'retryable'::weir.job_state END,
               finished_at = CASE WHEN j.cancel_requested_at IS NOT NULL
                                    OR ($4::bool[])[array_position($1::uuid[], j.id)]
                                    OR j.attempt >= j.max_attempts THEN now() END,
               run_at = CASE WHEN j.cancel_requested_at IS NOT NULL
                               OR ($4::bool[])[array_position($1::uuid[], j.id)]
                               OR j.attempt >= j.max_attempts
                             THEN j.run_at
                             ELSE now() + make_interval(
                                      secs => ($5::float8[])[array_position($1::uuid[], j.id)]) END,
               progress = CASE WHEN j.cancel_requested_at IS NOT NULL
                                    OR ($4::bool[])[array_position($1::uuid[], j.id)]
                                    OR j.attempt >= j.max_attempts
                               THEN j.progress END,
               errors = j.errors || jsonb_build_array(jsonb_build_object(
                            'attempt', j.attempt, 'at', now(),
                            'message', ($3::text[])[array_position($1::uuid[], j.id)])),
               node_id = NULL, deadline = NULL
           WHERE j.state = 'running' AND j.id = ANY($1::uuid[])
             AND j.claim_token = ($2::uuid[])[array_position($1::uuid[], j.id)]
           RETURNING (j.id, j.state::text) AS "row!: (Uuid, String)""#,
        &ids,
        &tokens,
        &messages,
        &fatal,
        &retry_in,
    )
    .persistent(false)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(id, state)| Ok((JobId(id), stored_state(&state)?)))
        .collect()
}

/// Records running jobs (matching claim token) as `cancelled`: their handler
/// stopped because a cancel was requested or it gave up by itself.
pub async fn cancel_if_running(
    db: impl PgExecutor<'_>,
    jobs: &[(JobId, ClaimToken)],
) -> Result<Vec<JobId>> {
    let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| id.0).collect();
    let tokens: Vec<Uuid> = jobs.iter().map(|(_, t)| t.0).collect();
    let rows = sqlx::query_scalar!(
        r#"UPDATE weir.jobs j
           SET state = 'cancelled', finished_at = now(), node_id = NULL, deadline = NULL
           WHERE j.state = 'running' AND j.id = ANY($1::uuid[])
             AND j.claim_token = ($2::uuid[])[array_position($1::uuid[], j.id)]
           RETURNING j.id"#,
        &ids,
        &tokens,
    )
    .persistent(false)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(JobId).collect())
}

/// Hands running jobs (matching claim token) back to `available` without
/// spending the attempt: used at graceful shutdown. A job whose cancel was
/// requested becomes `cancelled` instead, so that it never runs again.
/// Returns the queues of the jobs handed back (so idle workers can be
/// woken) and how many jobs matched in all.
pub async fn hand_back_if_running(
    db: impl PgExecutor<'_>,
    jobs: &[(JobId, ClaimToken)],
) -> Result<(Vec<String>, usize)> {
    let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| id.0).collect();
    let tokens: Vec<Uuid> = jobs.iter().map(|(_, t)| t.0).collect();
    let rows = sqlx::query_scalar!(
        r#"UPDATE weir.jobs j
           SET state = CASE WHEN j.cancel_requested_at IS NULL
                            THEN 'available'::weir.job_state ELSE 'cancelled'::weir.job_state END,
               finished_at = CASE WHEN j.cancel_requested_at IS NULL THEN NULL ELSE now() END,
               attempt = CASE WHEN j.cancel_requested_at IS NULL THEN j.attempt - 1 ELSE j.attempt END,
               started_at = CASE WHEN j.cancel_requested_at IS NULL AND j.attempt = 1
                                 THEN NULL ELSE j.started_at END,
               node_id = NULL, deadline = NULL,
               progress = CASE WHEN j.cancel_requested_at IS NULL THEN NULL ELSE j.progress END
           WHERE j.state = 'running' AND j.id = ANY($1::uuid[])
             AND j.claim_token = ($2::uuid[])[array_position($1::uuid[], j.id)]
           RETURNING (j.queue, j.state = 'available') AS "row!: (String, bool)""#,
        &ids,
        &tokens,
    )
    .persistent(false)
    .fetch_all(db)
    .await?;
    let matched = rows.len();
    let queues = rows
        .into_iter()
        .filter(|(_, handed_back)| *handed_back)
        .map(|(queue, _)| queue)
        .collect();
    Ok((queues, matched))
}

/// Stores the latest progress of running jobs (matching claim token),
/// stamping `updated_at` on the database clock.
pub async fn set_progress_if_running(
    db: impl PgExecutor<'_>,
    reports: &[(JobId, ClaimToken, Progress)],
) -> Result<u64> {
    let ids: Vec<Uuid> = reports.iter().map(|(id, _, _)| id.0).collect();
    let tokens: Vec<Uuid> = reports.iter().map(|(_, t, _)| t.0).collect();
    let progress: Vec<serde_json::Value> = reports
        .iter()
        .map(|(_, _, p)| serde_json::to_value(p))
        .collect::<Result<_, _>>()?;
    let done = sqlx::query!(
        r#"UPDATE weir.jobs_live j
           SET progress = ($3::jsonb[])[array_position($1::uuid[], j.id)]
                          || jsonb_build_object('updated_at', now())
           WHERE j.state = 'running' AND j.id = ANY($1::uuid[])
             AND j.claim_token = ($2::uuid[])[array_position($1::uuid[], j.id)]"#,
        &ids,
        &tokens,
        &progress,
    )
    .persistent(false)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
