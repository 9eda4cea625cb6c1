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
    /// For a job claimed ahead of a free slot that waited for one: the
    /// time from sending its claim to its handler's start (zero for a job
    /// that started at once). `started_at`, stamped by the claim, moves
    /// forward by it.
    pub start_delay: std::time::Duration,
}

/// Records results: running jobs whose claim token matches become
/// `succeeded` (and move to the finished partition). Returns the attempts
/// (job id and token) that matched; the others were no longer theirs to
/// finish.
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
pub async fn complete_if_running(
    db: impl PgExecutor<'_>,
    done: &[Success],
) -> Result<Vec<(JobId, ClaimToken)>> {
    // Each attempt's job id, result and progress, keyed by its claim token
    // in one jsonb object: a row finds its own with one keyed lookup.
    // (Parallel arrays read with `array_position` scan the array once per
    // row and per column: quadratic in the batch.) Keyed by token, not by
    // job id: two attempts of one job in a batch (a stale one and the
    // current one) each keep their own entry, and only the entry of the
    // row's current token can match.
    let ids: Vec<Uuid> = done.iter().map(|s| s.id.0).collect();
    let mut by_token = serde_json::Map::with_capacity(done.len());
    for s in done {
        let mut entry = serde_json::Map::with_capacity(3);
        entry.insert("i".into(), serde_json::Value::String(s.id.0.to_string()));
        entry.insert("r".into(), s.result.clone());
        if let Some(p) = &s.progress {
            entry.insert("p".into(), serde_json::to_value(storable_progress(p))?);
        }
        if !s.start_delay.is_zero() {
            entry.insert("d".into(), s.start_delay.as_secs_f64().into());
        }
        by_token.insert(s.token.0.to_string(), serde_json::Value::Object(entry));
    }
    let by_token = serde_json::Value::Object(by_token);
    let rows = sqlx::query_scalar!(
        r#"UPDATE weir.jobs j
           SET state = 'succeeded', finished_at = now(),
               started_at = j.started_at + make_interval(
                   secs => coalesce(($2::jsonb -> j.claim_token::text ->> 'd')::float8, 0)),
               result = $2::jsonb -> j.claim_token::text -> 'r',
               progress = coalesce(($2::jsonb -> j.claim_token::text -> 'p')
                                   || jsonb_build_object('updated_at', now()), j.progress),
               node_id = NULL, deadline = NULL
           WHERE j.state = 'running' AND j.id = ANY($1::uuid[])
             AND ($2::jsonb -> j.claim_token::text ->> 'i')::uuid = j.id
           RETURNING (j.id, j.claim_token) AS "row!: (Uuid, Uuid)""#,
        &ids,
        by_token,
    )
    .persistent(false)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, token)| (JobId(id), ClaimToken(token)))
        .collect())
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
    /// As [`Success::start_delay`].
    pub start_delay: std::time::Duration,
}

/// Records failed attempts of running jobs whose claim token matches: an
/// error entry `{attempt, at, message}` is appended, then the job becomes
/// `retryable` at now + backoff, or `failed` when the error is fatal or no
/// attempts are left, or `cancelled` when a cancel was requested (a
/// cancelled job never runs again). Returns each matched attempt (job id
/// and token) with its job's new state. A job going back to the queue
/// drops the ended attempt's progress; a finished one keeps it, to show
/// where it stopped. NUL characters, which a text value cannot hold, are
/// stored escaped (`\u0000`).
pub async fn fail_if_running(
    db: impl PgExecutor<'_>,
    failed: &[Failure],
) -> Result<Vec<(JobId, ClaimToken, JobState)>> {
    // Each attempt's entry is found by its claim token (see
    // `complete_if_running`), and must name the row's job.
    let ids: Vec<Uuid> = failed.iter().map(|f| f.id.0).collect();
    let tokens: Vec<Uuid> = failed.iter().map(|f| f.token.0).collect();
    let messages: Vec<String> = failed.iter().map(|f| storable_text(&f.message)).collect();
    let fatal: Vec<bool> = failed.iter().map(|f| f.fatal).collect();
    let retry_in: Vec<f64> = failed.iter().map(|f| f.retry_in.as_secs_f64()).collect();
    let delays: Vec<f64> = failed.iter().map(|f| f.start_delay.as_secs_f64()).collect();
    let rows = sqlx::query_scalar!(
        r#"UPDATE weir.jobs j
           SET state = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'::weir.job_state
                            WHEN ($4::bool[])[array_position($2::uuid[], j.claim_token)]
                                 OR j.attempt >= j.max_attempts
                            THEN 'failed'::weir.job_state ELSE 'retryable'::weir.job_state END,
               finished_at = CASE WHEN j.cancel_requested_at IS NOT NULL
                                    OR ($4::bool[])[array_position($2::uuid[], j.claim_token)]
                                    OR j.attempt >= j.max_attempts THEN now() END,
               run_at = CASE WHEN j.cancel_requested_at IS NOT NULL
                               OR ($4::bool[])[array_position($2::uuid[], j.claim_token)]
                               OR j.attempt >= j.max_attempts
                             THEN j.run_at
                             ELSE now() + make_interval(
                                      secs => ($5::float8[])[array_position($2::uuid[], j.claim_token)]) END,
               progress = CASE WHEN j.cancel_requested_at IS NOT NULL
                                    OR ($4::bool[])[array_position($2::uuid[], j.claim_token)]
                                    OR j.attempt >= j.max_attempts
                               THEN j.progress END,
               errors = j.errors || jsonb_build_array(jsonb_build_object(
                            'attempt', j.attempt, 'at', now(),
                            'message', ($3::text[])[array_position($2::uuid[], j.claim_token)])),
               started_at = j.started_at + make_interval(
                   secs => ($6::float8[])[array_position($2::uuid[], j.claim_token)]),
               node_id = NULL, deadline = NULL
           WHERE j.state = 'running' AND j.id = ANY($1::uuid[])
             AND j.claim_token = ANY($2::uuid[])
             AND ($1::uuid[])[array_position($2::uuid[], j.claim_token)] = j.id
           RETURNING (j.id, j.claim_token, j.state::text) AS "row!: (Uuid, Uuid, String)""#,
        &ids,
        &tokens,
        &messages,
        &fatal,
        &retry_in,
        &delays,
    )
    .persistent(false)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(id, token, state)| Ok((JobId(id), ClaimToken(token), stored_state(&state)?)))
        .collect()
}

/// Records running jobs (matching claim token) as `cancelled`: their handler
/// stopped because a cancel was requested or it gave up by itself. Returns
/// the attempts that matched.
pub async fn cancel_if_running(
    db: impl PgExecutor<'_>,
    jobs: &[(JobId, ClaimToken)],
) -> Result<Vec<(JobId, ClaimToken)>> {
    let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| id.0).collect();
    let tokens: Vec<Uuid> = jobs.iter().map(|(_, t)| t.0).collect();
    let rows = sqlx::query_scalar!(
        r#"UPDATE weir.jobs j
           SET state = 'cancelled', finished_at = now(), node_id = NULL, deadline = NULL
           WHERE j.state = 'running' AND j.id = ANY($1::uuid[])
             AND j.claim_token = ANY($2::uuid[])
             AND ($1::uuid[])[array_position($2::uuid[], j.claim_token)] = j.id
           RETURNING (j.id, j.claim_token) AS "row!: (Uuid, Uuid)""#,
        &ids,
        &tokens,
    )
    .persistent(false)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, token)| (JobId(id), ClaimToken(token)))
        .collect())
}

/// Hands running jobs (matching claim token) back to `available` without
/// spending the attempt: used at graceful shutdown. A job whose cancel was
/// requested becomes `cancelled` instead, so that it never runs again.
/// Returns the queues of the jobs handed back (so idle workers can be
/// woken) and the attempts that matched.
pub async fn hand_back_if_running(
    db: impl PgExecutor<'_>,
    jobs: &[(JobId, ClaimToken)],
) -> Result<(Vec<String>, Vec<(JobId, ClaimToken)>)> {
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
             AND j.claim_token = ANY($2::uuid[])
             AND ($1::uuid[])[array_position($2::uuid[], j.claim_token)] = j.id
           RETURNING (j.queue, j.state = 'available', j.id, j.claim_token)
                     AS "row!: (String, bool, Uuid, Uuid)""#,
        &ids,
        &tokens,
    )
    .persistent(false)
    .fetch_all(db)
    .await?;
    let matched = rows
        .iter()
        .map(|(_, _, id, token)| (JobId(*id), ClaimToken(*token)))
        .collect();
    let queues = rows
        .into_iter()
        .filter(|(_, handed_back, _, _)| *handed_back)
        .map(|(queue, ..)| queue)
        .collect();
    Ok((queues, matched))
}

/// Snoozes running jobs (matching claim token): each goes to `scheduled`
/// after its delay without spending the attempt, or to `cancelled` when a
/// cancel was requested. One row at a time through `weir.snooze_job`, the
/// one implementation the worker API also calls (snoozes are rare, so the
/// per-row call costs little). Returns the attempts that matched.
pub async fn snooze_if_running(
    db: impl PgExecutor<'_>,
    jobs: &[(JobId, ClaimToken, std::time::Duration)],
) -> Result<Vec<(JobId, ClaimToken)>> {
    let ids: Vec<Uuid> = jobs.iter().map(|(id, _, _)| id.0).collect();
    let tokens: Vec<Uuid> = jobs.iter().map(|(_, t, _)| t.0).collect();
    let delays: Vec<f64> = jobs.iter().map(|(_, _, d)| d.as_secs_f64()).collect();
    let rows = sqlx::query_scalar!(
        r#"SELECT (u.id, u.token) AS "row!: (Uuid, Uuid)"
           FROM unnest($1::uuid[], $2::uuid[], $3::float8[]) AS u(id, token, secs)
           WHERE weir.snooze_job(u.id, u.token, make_interval(secs => u.secs))"#,
        &ids,
        &tokens,
        &delays,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, token)| (JobId(id), ClaimToken(token)))
        .collect())
}

/// Stores the latest progress of running jobs (matching claim token),
/// stamping `updated_at` on the database clock. NUL characters in the
/// message, which jsonb cannot hold, are stored escaped (`\u0000`).
pub async fn set_progress_if_running(
    db: impl PgExecutor<'_>,
    reports: &[(JobId, ClaimToken, Progress)],
) -> Result<u64> {
    let ids: Vec<Uuid> = reports.iter().map(|(id, _, _)| id.0).collect();
    let tokens: Vec<Uuid> = reports.iter().map(|(_, t, _)| t.0).collect();
    let progress: Vec<serde_json::Value> = reports
        .iter()
        .map(|(_, _, p)| serde_json::to_value(storable_progress(p)))
        .collect::<Result<_, _>>()?;
    let done = sqlx::query!(
        r#"UPDATE weir.jobs_live j
           SET progress = ($3::jsonb[])[array_position($2::uuid[], j.claim_token)]
                          || jsonb_build_object('updated_at', now())
           WHERE j.state = 'running' AND j.id = ANY($1::uuid[])
             AND j.claim_token = ANY($2::uuid[])
             AND ($1::uuid[])[array_position($2::uuid[], j.claim_token)] = j.id"#,
        &ids,
        &tokens,
        &progress,
    )
    .persistent(false)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// `text` with every NUL character (which PostgreSQL's text and jsonb
/// cannot hold) written as the six characters `\u0000`, so a message
/// that carries one is stored readable instead of refused.
///
/// ```
/// assert_eq!(weir::db::jobs::storable_text("a\0b"), "a\\u0000b");
/// assert_eq!(weir::db::jobs::storable_text("plain"), "plain");
/// ```
pub fn storable_text(text: &str) -> String {
    text.replace('\0', "\\u0000")
}

/// `progress` with NUL characters in its message escaped (see
/// [`storable_text`]).
fn storable_progress(progress: &Progress) -> std::borrow::Cow<'_, Progress> {
    match &progress.message {
        Some(m) if m.contains('\0') => std::borrow::Cow::Owned(Progress {
            message: Some(storable_text(m)),
            ..progress.clone()
        }),
        _ => std::borrow::Cow::Borrowed(progress),
    }
}
