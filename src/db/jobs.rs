//! Statements on `weir.jobs` and its partitions.
//!
//! Writes a worker makes about a running job are guarded by
//! `state = 'running' AND claim_token = $token`, so a worker whose attempt
//! was handed back or rescued cannot change the job any more.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::job::{
    AttemptError, ClaimToken, DEFAULT_QUEUE, Enqueued, Job, JobId, JobState, NewJob, NodeId,
    Progress,
};

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

struct JobRow {
    id: Uuid,
    kind: String,
    queue: String,
    args: serde_json::Value,
    priority: i16,
    state: String,
    attempt: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    progress: Option<serde_json::Value>,
    result: Option<serde_json::Value>,
    errors: serde_json::Value,
    unique_key: Option<String>,
    timeout_seconds: Option<i32>,
    cancel_requested_at: Option<DateTime<Utc>>,
}

/// A job state as the database spells it (`state::text`).
fn stored_state(state: &str) -> Result<JobState> {
    state
        .parse::<JobState>()
        .map_err(|e| Error::Config(e.to_string()))
}

impl TryFrom<JobRow> for Job {
    type Error = Error;
    fn try_from(row: JobRow) -> Result<Job> {
        Ok(Job {
            id: JobId(row.id),
            kind: row.kind,
            queue: row.queue,
            args: row.args,
            priority: row.priority,
            state: stored_state(&row.state)?,
            attempt: row.attempt,
            max_attempts: row.max_attempts,
            run_at: row.run_at,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            progress: row
                .progress
                .map(serde_json::from_value::<Progress>)
                .transpose()?,
            result: row.result,
            errors: serde_json::from_value::<Vec<AttemptError>>(row.errors)?,
            unique_key: row.unique_key,
            timeout_seconds: row.timeout_seconds,
            cancel_requested: row.cancel_requested_at,
        })
    }
}

/// Enqueues `job` through `weir.enqueue` (without a `unique_key`) or
/// `weir.insert_job`; with a `unique_key` held by a live job, returns that
/// job.
pub async fn insert(db: impl PgExecutor<'_>, job: &NewJob) -> Result<Enqueued> {
    if job.unique_key.is_none() {
        // Always created; `weir.enqueue` is the cheaper call (a scalar
        // function, not a function scan of a record).
        let id = sqlx::query_scalar!(
            r#"SELECT weir.enqueue($1, $2, $3, $4, $5, $6, NULL, $7) AS "id!""#,
            job.kind,
            job.args,
            job.queue,
            job.priority,
            job.run_at,
            job.max_attempts,
            job.timeout_seconds,
        )
        .fetch_one(db)
        .await?;
        return Ok(Enqueued {
            id: JobId(id),
            created: true,
        });
    }
    let row = sqlx::query!(
        r#"SELECT job_id AS "job_id!", created AS "created!"
           FROM weir.insert_job($1, $2, $3, $4, $5, $6, $7, $8)"#,
        job.kind,
        job.args,
        job.queue,
        job.priority,
        job.run_at,
        job.max_attempts,
        job.unique_key,
        job.timeout_seconds,
    )
    .fetch_one(db)
    .await?;
    Ok(Enqueued {
        id: JobId(row.job_id),
        created: row.created,
    })
}

/// The columns of a batch of new jobs, as the arrays the batch inserts
/// unnest.
struct Columns<'a> {
    kinds: Vec<&'a str>,
    args: Vec<&'a serde_json::Value>,
    /// The job's queue, else the column default's `default`.
    queues: Vec<&'a str>,
    /// The job's priority, else the column default's 0.
    priorities: Vec<i16>,
    run_ats: Vec<Option<DateTime<Utc>>>,
    max_attempts: Vec<Option<i32>>,
    timeouts: Vec<Option<i32>>,
}

impl<'a> Columns<'a> {
    /// A batch insert cannot apply `unique_key` (its look-up-then-insert
    /// loop is per job), so such jobs are refused rather than stored
    /// without it.
    fn of(jobs: &'a [NewJob]) -> Result<Self> {
        if jobs.iter().any(|j| j.unique_key.is_some()) {
            return Err(Error::InvalidJob(
                "a job with a unique_key cannot be enqueued with others: enqueue it on its own"
                    .into(),
            ));
        }
        Ok(Columns {
            kinds: jobs.iter().map(|j| j.kind.as_str()).collect(),
            args: jobs.iter().map(|j| &j.args).collect(),
            queues: jobs
                .iter()
                .map(|j| j.queue.as_deref().unwrap_or(DEFAULT_QUEUE))
                .collect(),
            priorities: jobs.iter().map(|j| j.priority.unwrap_or(0)).collect(),
            run_ats: jobs.iter().map(|j| j.run_at).collect(),
            max_attempts: jobs.iter().map(|j| j.max_attempts).collect(),
            timeouts: jobs.iter().map(|j| j.timeout_seconds).collect(),
        })
    }
}

/// `values` as a batch sends them: all of them, or, when every job has the
/// same one, none (an empty array) and that value once.
fn once_if_shared<T: PartialEq + Copy>(values: &[T]) -> (&[T], Option<T>) {
    match values.split_first() {
        Some((first, rest)) if rest.iter().all(|v| v == first) => (&[], Some(*first)),
        _ => (values, None),
    }
}

/// Inserts `jobs` (none may carry a `unique_key`) in one statement and
/// returns them as stored, in input order. One statement means one commit
/// when run on a pool: the cheap way to enqueue many jobs at once.
///
/// The ids come from `weir.uuid_v7()` in a MATERIALIZED CTE, so the rows
/// can be matched back to their input position without relying on the
/// order of `RETURNING`. Defaults are those of `weir.insert_job`.
pub async fn insert_many(db: impl PgExecutor<'_>, jobs: &[NewJob]) -> Result<Vec<Job>> {
    let c = Columns::of(jobs)?;
    let rows = sqlx::query_as!(
        JobRow,
        r#"WITH input AS MATERIALIZED (
               SELECT weir.uuid_v7() AS id, u.*
               FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::int2[], $5::timestamptz[],
                           $6::int4[], $7::int4[])
                    WITH ORDINALITY AS u(kind, args, queue, priority, run_at, max_attempts,
                                         timeout_seconds, ord)
           ), inserted AS (
               INSERT INTO weir.jobs (id, kind, args, queue, priority, run_at, max_attempts,
                                      timeout_seconds)
               SELECT id, kind, coalesce(args, '{}'), queue, priority, coalesce(run_at, now()),
                      coalesce(max_attempts, weir.default_max_attempts()), timeout_seconds
               FROM input
               RETURNING *
           )
           SELECT j.id AS "id!", j.kind AS "kind!", j.queue AS "queue!", j.args AS "args!",
                  j.priority AS "priority!", j.state::text AS "state!", j.attempt AS "attempt!",
                  j.max_attempts AS "max_attempts!", j.run_at AS "run_at!",
                  j.created_at AS "created_at!", j.started_at, j.finished_at, j.progress,
                  j.result, j.errors AS "errors!", j.unique_key, j.timeout_seconds,
                  j.cancel_requested_at
           FROM inserted j JOIN input i ON i.id = j.id
           ORDER BY i.ord"#,
        &c.kinds as &[&str],
        &c.args as &[&serde_json::Value],
        &c.queues as &[&str],
        &c.priorities as &[i16],
        &c.run_ats as &[Option<DateTime<Utc>>],
        &c.max_attempts as &[Option<i32>],
        &c.timeouts as &[Option<i32>],
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Job::try_from).collect()
}

/// `n` fresh job ids in increasing order, for [`insert_many_with_ids`].
/// The first is the column default's own (`weir.uuid_v7()`: the
/// database's clock and randomness); the others count up from it in the
/// 74 bits below the timestamp, as RFC 9562 (section 6.2, "monotonic
/// random") allows within one millisecond. One round trip of one row
/// serves a batch of any size; making each id on the server costs about
/// 1.4 µs of its CPU per job.
pub async fn new_ids(db: impl PgExecutor<'_>, n: usize) -> Result<Vec<Uuid>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let first = sqlx::query_scalar!(r#"SELECT weir.uuid_v7() AS "id!""#)
        .fetch_one(db)
        .await?;
    Ok(count_up(first, n))
}

/// `n` version 7 UUIDs counting up from `first` in its 74 random bits
/// (12 of `rand_a`, 62 of `rand_b`), timestamp, version and variant kept.
/// Should `first` sit so high that the count would overflow those bits
/// (a chance of n in 2^74), the count starts lower instead.
fn count_up(first: Uuid, n: usize) -> Vec<Uuid> {
    const RAND_B: u128 = (1 << 62) - 1;
    const TOP: u128 = (1 << 74) - 1;
    let bits = first.as_u128();
    let fixed = bits & !((0xFFF << 64) | RAND_B);
    let start = (((bits >> 64) & 0xFFF) << 62) | (bits & RAND_B);
    let start = start.min(TOP - (n as u128).saturating_sub(1));
    (0..n as u128)
        .map(|i| {
            let r = start + i;
            Uuid::from_u128(fixed | ((r >> 62) << 64) | (r & RAND_B))
        })
        .collect()
}

/// [`insert_many`] with the ids given (`ids[i]` for `jobs[i]`, from
/// [`new_ids`]): a plain `INSERT ... SELECT FROM unnest(...)`, with no CTE
/// to materialize the input and no join to match rows back, since the
/// ids already tell which row is which.
///
/// Only what the database decides comes back, and in one row, not one per
/// job: the statement's `now()` (every job's `created_at`, and the
/// `run_at` of those given none), the default `max_attempts`, and the id,
/// state and `run_at` of each job stored otherwise than `available` at
/// `now()` (scheduled, or given a `run_at` of its own; usually none).
/// Everything else is stored as given: kind and args as sent (jsonb keeps
/// the same JSON value), queue and priority as `Columns` filled them in,
/// attempt 0 and no outcome yet. Reading 5,000 full rows back and matching
/// them by id cost about as much client CPU as the INSERT cost the server.
pub async fn insert_many_with_ids(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
    jobs: &[NewJob],
) -> Result<Vec<Job>> {
    if ids.len() != jobs.len() {
        return Err(Error::InvalidJob(format!(
            "{} ids for {} jobs",
            ids.len(),
            jobs.len()
        )));
    }
    let c = Columns::of(jobs)?;
    // A column every job shares (one kind, one queue, no run_at: the
    // usual batch) goes once, not once per job: `unnest` pads the empty
    // array with NULLs, which fall to the shared value. That spares
    // encoding and parsing five arrays of 5,000 (about 10% of a batch).
    let (kinds, kind) = once_if_shared(&c.kinds);
    let (queues, queue) = once_if_shared(&c.queues);
    let (priorities, priority) = once_if_shared(&c.priorities);
    let (run_ats, run_at) = once_if_shared(&c.run_ats);
    let (max_attempts, max_attempt) = once_if_shared(&c.max_attempts);
    let (timeouts, timeout) = once_if_shared(&c.timeouts);
    let stored = sqlx::query!(
        r#"WITH inserted AS (
               INSERT INTO weir.jobs (id, kind, args, queue, priority, run_at, max_attempts,
                                      timeout_seconds)
               SELECT id, coalesce(kind, $9::text), coalesce(args, '{}'),
                      coalesce(queue, $10::text), coalesce(priority, $11::int2),
                      coalesce(run_at, $12::timestamptz, now()),
                      coalesce(max_attempts, $13::int4, weir.default_max_attempts()),
                      coalesce(timeout_seconds, $14::int4)
               FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::int2[],
                           $6::timestamptz[], $7::int4[], $8::int4[])
                    AS u(id, kind, args, queue, priority, run_at, max_attempts, timeout_seconds)
               RETURNING id, state, run_at, state <> 'available' OR run_at <> now() AS other
           )
           -- One pass: the three arrays list the same jobs in the same order.
           SELECT now() AS "now!", weir.default_max_attempts() AS "default_max_attempts!",
                  count(*) AS "inserted!",
                  coalesce(array_agg(id) FILTER (WHERE other), '{}') AS "other_ids!",
                  coalesce(array_agg(state::text) FILTER (WHERE other), '{}')
                      AS "other_states!: Vec<String>",
                  coalesce(array_agg(run_at) FILTER (WHERE other), '{}') AS "other_run_ats!"
           FROM inserted"#,
        ids,
        kinds as &[&str],
        &c.args as &[&serde_json::Value],
        queues as &[&str],
        priorities as &[i16],
        run_ats as &[Option<DateTime<Utc>>],
        max_attempts as &[Option<i32>],
        timeouts as &[Option<i32>],
        kind,
        queue,
        priority,
        run_at.flatten(),
        max_attempt.flatten(),
        timeout.flatten(),
    )
    .fetch_one(db)
    .await?;
    if stored.inserted != jobs.len() as i64 {
        return Err(Error::Database(sqlx::Error::Protocol(format!(
            "{} jobs sent, {} inserted",
            jobs.len(),
            stored.inserted
        ))));
    }
    let mut other = std::collections::HashMap::with_capacity(stored.other_ids.len());
    for ((id, state), run_at) in stored
        .other_ids
        .iter()
        .zip(&stored.other_states)
        .zip(&stored.other_run_ats)
    {
        other.insert(*id, (stored_state(state)?, *run_at));
    }
    Ok(ids
        .iter()
        .zip(jobs)
        .zip(c.queues.iter().zip(&c.priorities))
        .map(|((id, job), (queue, priority))| {
            let (state, run_at) = other
                .get(id)
                .copied()
                .unwrap_or((JobState::Available, stored.now));
            Job {
                id: JobId(*id),
                kind: job.kind.clone(),
                queue: (*queue).to_owned(),
                // A JSON null travels as SQL NULL, which the INSERT stores
                // as `{}` (its `coalesce(args, '{}')`).
                args: if job.args.is_null() {
                    serde_json::json!({})
                } else {
                    job.args.clone()
                },
                priority: *priority,
                state,
                attempt: 0,
                max_attempts: job.max_attempts.unwrap_or(stored.default_max_attempts),
                run_at,
                created_at: stored.now,
                started_at: None,
                finished_at: None,
                progress: None,
                result: None,
                errors: Vec::new(),
                unique_key: None,
                timeout_seconds: job.timeout_seconds,
                cancel_requested: None,
            }
        })
        .collect())
}

/// Reads one job by id, whichever partition holds it.
pub async fn get(db: impl PgExecutor<'_>, id: JobId) -> Result<Option<Job>> {
    let row = sqlx::query_as!(
        JobRow,
        r#"SELECT id, kind, queue, args, priority, state::text AS "state!", attempt, max_attempts,
                  run_at, created_at, started_at, finished_at, progress, result, errors,
                  unique_key, timeout_seconds, cancel_requested_at
           FROM weir.jobs WHERE id = $1"#,
        id.0
    )
    .fetch_optional(db)
    .await?;
    row.map(Job::try_from).transpose()
}

/// Reads several jobs in one statement, in the order of `ids` (ids with
/// no job are left out).
pub async fn get_many(db: impl PgExecutor<'_>, ids: &[JobId]) -> Result<Vec<Job>> {
    let raw: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let rows = sqlx::query_as!(
        JobRow,
        r#"SELECT j.id, j.kind, j.queue, j.args, j.priority, j.state::text AS "state!", j.attempt,
                  j.max_attempts, j.run_at, j.created_at, j.started_at, j.finished_at, j.progress,
                  j.result, j.errors, j.unique_key, j.timeout_seconds, j.cancel_requested_at
           FROM weir.jobs j
           WHERE j.id = ANY($1)
           ORDER BY array_position($1, j.id)"#,
        &raw
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Job::try_from).collect()
}

/// Claims up to `limit` available jobs of `queue` whose kind is in `kinds`,
/// for `node`, unless the queue is paused. Each claimed job becomes
/// `running` with `attempt + 1`, a fresh claim token and a deadline of now
/// plus its timeout (the job's own, else the kind's entry in `timeouts`).
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
               claim_token = gen_random_uuid(),
               node_id = $5,
               started_at = now(),
               deadline = now() + make_interval(secs => coalesce(j.timeout_seconds, t.timeout_s)),
               progress = NULL
           FROM picked, unnest($2::text[], $3::int[]) AS t(kind, timeout_s)
           WHERE j.id = picked.id AND t.kind = j.kind
           RETURNING j.id, j.kind, j.queue, j.args, j.attempt, j.max_attempts,
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
        })
        .collect())
}

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
/// a nested loop of every running row times a rescan of the unnest
/// (25.9 ms for 100 outcomes with 400 running, growing with both). Here
/// the running rows are filtered by `id = ANY($1)` and each row finds its
/// own token and result by `array_position` (3.2 ms, row moves included).
/// `fail_if_running`, `cancel_if_running`, `hand_back_if_running` and
/// `set_progress_if_running` have the same shape for the same reason.
///
/// Why `persistent(false)` (an unnamed statement, planned with its
/// arguments each time): with those same statistics, the generic plan of
/// this shape walks every running row through
/// `jobs_live_running_deadline_idx` and tests `id = ANY($1)` against the
/// whole array for each row, quadratic in the concurrency (1.7 ms for 500
/// outcomes with 1,000 running). Planned with the array as a constant,
/// PostgreSQL hashes the array: 0.2 ms plus ~0.3-0.45 ms of planning.
/// The other four do the same (those returning two columns return them
/// as one record, since only single-column queries offer the switch).
pub async fn complete_if_running(db: impl PgExecutor<'_>, done: &[Success]) -> Result<Vec<JobId>> {
    // Each job's token, result and progress, keyed by id in one jsonb
    // object: a row finds its own with one keyed lookup. (Parallel arrays
    // read with `array_position` scanned the array once per row and per
    // column, quadratic in the batch: ~9% of the server's CPU in a
    // burn-down with 1,000-job batches.)
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
/// state.
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

/// Makes up to `limit` due `scheduled` and `retryable` jobs `available`
/// (due: `run_at <= now`, `now` defaulting to the database clock) and wakes
/// idle workers of their queues. Returns how many jobs were staged.
pub async fn stage_due(
    db: impl PgExecutor<'_>,
    now: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<i64> {
    let staged = sqlx::query_scalar!(
        r#"WITH due AS MATERIALIZED (
               SELECT id FROM weir.jobs_live
               WHERE state IN ('scheduled', 'retryable') AND run_at <= coalesce($1, now())
               ORDER BY run_at
               LIMIT $2
               FOR UPDATE SKIP LOCKED
           ), staged AS (
               UPDATE weir.jobs_live j SET state = 'available'
               FROM due WHERE j.id = due.id
               RETURNING j.queue
           )
           SELECT count(*) AS "n!"
           FROM (SELECT weir.notify_queues(array_agg(DISTINCT queue)) FROM staged) woken, staged"#,
        now,
        limit,
    )
    .fetch_one(db)
    .await?;
    Ok(staged)
}

/// How long until the next `scheduled` or `retryable` job is due (zero
/// if one is overdue), on the database clock; `None` if there is none.
pub async fn next_due_in(db: impl PgExecutor<'_>) -> Result<Option<std::time::Duration>> {
    let secs = sqlx::query_scalar!(
        r#"SELECT extract(epoch FROM min(run_at) - now())::float8
           FROM weir.jobs_live WHERE state IN ('scheduled', 'retryable')"#
    )
    .fetch_one(db)
    .await?;
    Ok(secs.map(|s| std::time::Duration::from_secs_f64(s.max(0.0))))
}

/// Creates the day partitions of the finished jobs for yesterday through
/// `days_ahead` days from today (UTC, database clock). Returns how many it
/// created.
pub async fn ensure_finished_partitions(db: impl PgExecutor<'_>, days_ahead: i32) -> Result<i32> {
    Ok(sqlx::query_scalar!(
        r#"SELECT weir.ensure_finished_partitions((now() AT TIME ZONE 'UTC')::date - 1, $1 + 2) AS "n!""#,
        days_ahead
    )
    .fetch_one(db)
    .await?)
}

/// What the worker-side watch learns about one of its executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// Still running with this attempt's claim token.
    Held,
    /// Still this attempt's, and a cancel was requested.
    CancelRequested,
    /// No longer running with this claim token (rescued, re-claimed, or
    /// the claim was lost in a crash): the attempt must stop and record
    /// nothing.
    Lost,
}

/// Looks up, in one statement, whether each `(id, claim token)` still
/// holds its running job and whether a cancel was requested for it.
/// Read-only; every pair gets an answer, in no particular order.
pub async fn watch_running(
    db: impl PgExecutor<'_>,
    jobs: &[(JobId, ClaimToken)],
) -> Result<Vec<(JobId, Watched)>> {
    let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| id.0).collect();
    let tokens: Vec<Uuid> = jobs.iter().map(|(_, t)| t.0).collect();
    let rows = sqlx::query!(
        r#"SELECT u.id AS "id!", j.id IS NOT NULL AS "held!",
                  j.cancel_requested_at IS NOT NULL AS "cancel!"
           FROM unnest($1::uuid[], $2::uuid[]) AS u(id, token)
           LEFT JOIN weir.jobs_live j
             ON j.id = u.id AND j.state = 'running' AND j.claim_token = u.token"#,
        &ids,
        &tokens,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let w = match (r.held, r.cancel) {
                (false, _) => Watched::Lost,
                (true, true) => Watched::CancelRequested,
                (true, false) => Watched::Held,
            };
            (JobId(r.id), w)
        })
        .collect())
}

/// Why the rescuer took a running job away from its attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RescueReason {
    /// The node holding it stopped heartbeating (or its row is gone).
    WorkerLost,
    /// The attempt overran its deadline (plus the grace).
    TimedOut,
}

impl RescueReason {
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
/// leaves jobs a worker is completing at this moment to the worker.
#[allow(clippy::too_many_arguments)]
pub async fn rescue_orphaned_running(
    db: impl PgExecutor<'_>,
    now: Option<DateTime<Utc>>,
    dead_after: std::time::Duration,
    deadline_grace: std::time::Duration,
    backoff: &crate::backoff::Backoff,
    limit: i64,
    lease: Option<LeaseGuard<'_>>,
) -> Result<Vec<Rescued>> {
    let rows = sqlx::query!(
        r#"WITH lost AS MATERIALIZED (
               SELECT j.id,
                      (n.id IS NULL OR n.heartbeat_at < coalesce($1, now()) - make_interval(secs => $2))
                          AS worker_lost
               FROM weir.jobs_live j
               LEFT JOIN weir.nodes n ON n.id = j.node_id
               WHERE j.state = 'running'
                 AND (n.id IS NULL
                      OR n.heartbeat_at < coalesce($1, now()) - make_interval(secs => $2)
                      OR j.deadline < coalesce($1, now()) - make_interval(secs => $3))
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
               errors = j.errors || jsonb_build_array(jsonb_build_object(
                            'attempt', j.attempt, 'at', coalesce($1, now()),
                            'message', CASE WHEN lost.worker_lost THEN 'worker lost' ELSE 'timed out' END)),
               node_id = NULL, deadline = NULL
           FROM lost
           WHERE j.id = lost.id AND j.state = 'running'
           RETURNING j.id, j.state::text AS "state!", lost.worker_lost AS "worker_lost!""#,
        now,
        dead_after.as_secs_f64(),
        deadline_grace.as_secs_f64(),
        &backoff.nominal_table_secs(),
        crate::backoff::JITTER_MIN,
        limit,
        lease.map(|l| l.node.0),
        lease.map(|l| l.role),
        crate::backoff::JITTER_SPAN,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Rescued {
                id: JobId(r.id),
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

/// A day partition of the finished jobs (`weir.jobs_finished_YYYYMMDD`).
#[derive(Debug, Clone)]
pub struct FinishedPartition {
    /// Table name in schema `weir`; always matches `jobs_finished_[0-9]{8}`.
    pub name: String,
    /// Still a partition of `weir.jobs_finished`.
    pub attached: bool,
    /// An interrupted `DETACH ... CONCURRENTLY` left it half detached.
    pub detach_pending: bool,
}

/// The day partitions (attached or left detached by an interrupted prune)
/// whose whole range ended at least `retention` before `now` (database
/// clock by default), oldest first. Never the live partition.
pub async fn finished_partitions_ended_before(
    db: impl PgExecutor<'_>,
    now: Option<DateTime<Utc>>,
    retention: std::time::Duration,
) -> Result<Vec<FinishedPartition>> {
    let rows = sqlx::query!(
        r#"SELECT c.relname::text AS "name!",
                  i.inhrelid IS NOT NULL AS "attached!",
                  coalesce(i.inhdetachpending, false) AS "detach_pending!"
           FROM pg_class c
           JOIN pg_namespace s ON s.oid = c.relnamespace AND s.nspname = 'weir'
           LEFT JOIN pg_inherits i
             ON i.inhrelid = c.oid AND i.inhparent = 'weir.jobs_finished'::regclass
           WHERE c.relkind = 'r'
             AND c.relname ~ '^jobs_finished_[0-9]{8}$'
             AND (to_date(substr(c.relname, 15, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC'
                 <= coalesce($1, now()) - make_interval(secs => $2)
           ORDER BY c.relname"#,
        now,
        retention.as_secs_f64(),
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FinishedPartition {
            name: r.name,
            attached: r.attached,
            detach_pending: r.detach_pending,
        })
        .collect())
}

fn partition_ident(name: &str) -> Result<String> {
    let valid = name.len() == 22
        && name.starts_with("jobs_finished_")
        && name[14..].bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(Error::Config(format!(
            "{name:?} is not a finished-jobs day partition"
        )));
    }
    Ok(format!("weir.{name}"))
}

/// Sets the session's `lock_timeout` (the pruner's DDL gives up instead of
/// queueing behind, and in front of, completions). `None` resets it.
pub async fn set_lock_timeout(
    db: impl PgExecutor<'_>,
    timeout: Option<std::time::Duration>,
) -> Result<()> {
    let value = timeout.map(|t| format!("{}ms", t.as_millis().max(1)));
    sqlx::query_scalar!(
        r#"SELECT set_config('lock_timeout', coalesce($1, '0'), false) AS "v!""#,
        value
    )
    .fetch_one(db)
    .await?;
    Ok(())
}

/// Detaches a day partition from `weir.jobs_finished`. `CONCURRENTLY`
/// takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so completions
/// keep flowing; it cannot run inside a transaction block, so `db` must
/// not be in one. With `finalize`, completes a detach that was interrupted.
pub async fn detach_finished_partition(
    db: impl PgExecutor<'_>,
    name: &str,
    finalize: bool,
) -> Result<()> {
    let ident = partition_ident(name)?;
    let mode = if finalize { "FINALIZE" } else { "CONCURRENTLY" };
    let sql = format!("ALTER TABLE weir.jobs_finished DETACH PARTITION {ident} {mode}");
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(db).await?;
    Ok(())
}

/// Drops a day partition that is no longer attached (its jobs go with it).
pub async fn drop_detached_partition(db: impl PgExecutor<'_>, name: &str) -> Result<()> {
    let ident = partition_ident(name)?;
    let sql = format!("DROP TABLE IF EXISTS {ident}");
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(db).await?;
    Ok(())
}

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

/// Filters of [`list`]; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub state: Option<JobState>,
    pub queue: Option<String>,
    pub kind: Option<String>,
    /// Only jobs older (smaller id) than this one: the keyset cursor.
    pub before: Option<JobId>,
}

/// Lists jobs newest first (by id, which is time-ordered), at most `limit`.
pub async fn list(db: impl PgExecutor<'_>, filter: &ListFilter, limit: i64) -> Result<Vec<Job>> {
    let rows = sqlx::query_as!(
        JobRow,
        r#"SELECT id, kind, queue, args, priority, state::text AS "state!", attempt, max_attempts,
                  run_at, created_at, started_at, finished_at, progress, result, errors,
                  unique_key, timeout_seconds, cancel_requested_at
           FROM weir.jobs
           WHERE ($1::text IS NULL OR state = $1::text::weir.job_state)
             AND ($2::text IS NULL OR queue = $2)
             AND ($3::text IS NULL OR kind = $3)
             AND ($4::uuid IS NULL OR id < $4)
           ORDER BY id DESC
           LIMIT $5"#,
        filter.state.map(JobState::as_str),
        filter.queue.as_deref(),
        filter.kind.as_deref(),
        filter.before.map(|id| id.0),
        limit,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Job::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::count_up;
    use uuid::Uuid;

    /// The fields of a version 7 UUID that must not change: timestamp,
    /// version and variant.
    fn fixed(id: Uuid) -> u128 {
        id.as_u128() & !((0xFFF << 64) | ((1 << 62) - 1))
    }

    #[test]
    fn ids_count_up_from_the_first_keeping_time_version_and_variant() {
        let first = Uuid::from_u128(0x0190_0000_0000_7abc_bfff_ffff_ffff_fffe);
        let ids = count_up(first, 4);
        assert_eq!(ids[0], first);
        // rand_b overflows into rand_a, past the variant bits.
        assert_eq!(
            ids[1..],
            [
                Uuid::from_u128(0x0190_0000_0000_7abc_bfff_ffff_ffff_ffff),
                Uuid::from_u128(0x0190_0000_0000_7abd_8000_0000_0000_0000),
                Uuid::from_u128(0x0190_0000_0000_7abd_8000_0000_0000_0001),
            ]
        );
        for id in &ids {
            assert_eq!(id.get_version_num(), 7);
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            assert_eq!(fixed(*id), fixed(first));
        }
    }

    #[test]
    fn a_count_that_would_overflow_starts_lower() {
        let first = Uuid::from_u128(0x0190_0000_0000_7fff_bfff_ffff_ffff_fffd);
        let ids = count_up(first, 5);
        assert_eq!(
            ids.last(),
            Some(&Uuid::from_u128(0x0190_0000_0000_7fff_bfff_ffff_ffff_ffff))
        );
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(ids.iter().all(|id| fixed(*id) == fixed(first)));
        assert!(count_up(first, 0).is_empty());
    }
}
