//! Enqueue statements: one job, or a batch in one statement.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{JobRow, stored_state};
use crate::error::{Error, Result};
use crate::job::{DEFAULT_QUEUE, Enqueued, Job, JobId, JobState, NewJob};

/// Enqueues `job` through `weir.enqueue` (without a `unique_key`) or
/// `weir.insert_job`; with a `unique_key` held by a live job, returns that
/// job.
pub async fn insert(db: impl PgExecutor<'_>, job: &NewJob) -> Result<Enqueued> {
    let depends_on: Option<Vec<Uuid>> =
        (!job.depends_on.is_empty()).then(|| job.depends_on.iter().map(|id| id.0).collect());
    if job.unique_key.is_none() && job.traceparent.is_none() {
        // Always created; `weir.enqueue` is the cheaper call (a scalar
        // function, not a function scan of a record).
        let id = sqlx::query_scalar!(
            r#"SELECT weir.enqueue($1, $2, $3, $4, $5, $6, NULL, $7, $8, $9) AS "id!""#,
            job.kind,
            job.args,
            job.queue,
            job.priority,
            job.run_at,
            job.max_attempts,
            job.timeout_seconds,
            depends_on.as_deref(),
            job.concurrency_key,
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
           FROM weir.insert_job($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
        job.kind,
        job.args,
        job.queue,
        job.priority,
        job.run_at,
        job.max_attempts,
        job.unique_key,
        job.timeout_seconds,
        depends_on.as_deref(),
        job.concurrency_key,
        job.traceparent,
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
    keys: Vec<Option<&'a str>>,
    traceparents: Vec<Option<&'a str>>,
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
        if jobs.iter().any(|j| !j.depends_on.is_empty()) {
            return Err(Error::InvalidJob(
                "a job with depends_on cannot be enqueued with others: enqueue it on its own, \
                 or submit them together as a workflow"
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
            keys: jobs.iter().map(|j| j.concurrency_key.as_deref()).collect(),
            traceparents: jobs.iter().map(|j| j.traceparent.as_deref()).collect(),
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
                           $6::int4[], $7::int4[], $8::text[], $9::text[])
                    WITH ORDINALITY AS u(kind, args, queue, priority, run_at, max_attempts,
                                         timeout_seconds, concurrency_key, traceparent, ord)
           ), inserted AS (
               INSERT INTO weir.jobs (id, kind, args, queue, priority, run_at, max_attempts,
                                      timeout_seconds, concurrency_key, traceparent)
               SELECT id, kind, coalesce(args, '{}'), queue, priority, coalesce(run_at, now()),
                      coalesce(max_attempts, weir.default_max_attempts()), timeout_seconds,
                      concurrency_key, traceparent
               FROM input
               RETURNING *
           )
           SELECT j.id AS "id!", j.kind AS "kind!", j.queue AS "queue!", j.args AS "args!",
                  j.priority AS "priority!", j.state::text AS "state!", j.attempt AS "attempt!",
                  j.max_attempts AS "max_attempts!", j.run_at AS "run_at!",
                  j.created_at AS "created_at!", j.started_at, j.finished_at, j.progress,
                  j.result, j.errors AS "errors!", j.unique_key, j.timeout_seconds,
                  j.cancel_requested_at, j.concurrency_key, j.workflow_id, j.ref AS job_ref,
                  j.depends_on AS "depends_on: Vec<Uuid>"
           FROM inserted j JOIN input i ON i.id = j.id
           ORDER BY i.ord"#,
        &c.kinds as &[&str],
        &c.args as &[&serde_json::Value],
        &c.queues as &[&str],
        &c.priorities as &[i16],
        &c.run_ats as &[Option<DateTime<Utc>>],
        &c.max_attempts as &[Option<i32>],
        &c.timeouts as &[Option<i32>],
        &c.keys as &[Option<&str>],
        &c.traceparents as &[Option<&str>],
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Job::try_from).collect()
}

/// [`insert_many`] with the ids given (`ids[i]` for `jobs[i]`, from
/// [`new_ids`](super::new_ids)): a plain `INSERT ... SELECT FROM unnest(...)`, with no CTE
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
/// attempt 0 and no outcome yet. Reading every full row back and matching
/// it by id would cost the client about as much as the INSERT costs the
/// server.
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
    // encoding and parsing an array of the batch's size per column.
    let (kinds, kind) = once_if_shared(&c.kinds);
    let (queues, queue) = once_if_shared(&c.queues);
    let (priorities, priority) = once_if_shared(&c.priorities);
    let (run_ats, run_at) = once_if_shared(&c.run_ats);
    let (max_attempts, max_attempt) = once_if_shared(&c.max_attempts);
    let (timeouts, timeout) = once_if_shared(&c.timeouts);
    let (keys, key) = once_if_shared(&c.keys);
    let (traceparents, traceparent) = once_if_shared(&c.traceparents);
    let stored = sqlx::query!(
        r#"WITH inserted AS (
               INSERT INTO weir.jobs (id, kind, args, queue, priority, run_at, max_attempts,
                                      timeout_seconds, concurrency_key, traceparent)
               SELECT id, coalesce(kind, $9::text), coalesce(args, '{}'),
                      coalesce(queue, $10::text), coalesce(priority, $11::int2),
                      coalesce(run_at, $12::timestamptz, now()),
                      coalesce(max_attempts, $13::int4, weir.default_max_attempts()),
                      coalesce(timeout_seconds, $14::int4), coalesce(concurrency_key, $15::text),
                      coalesce(traceparent, $17::text)
               FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::int2[],
                           $6::timestamptz[], $7::int4[], $8::int4[], $16::text[], $18::text[])
                    AS u(id, kind, args, queue, priority, run_at, max_attempts, timeout_seconds,
                         concurrency_key, traceparent)
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
        key.flatten(),
        keys as &[Option<&str>],
        traceparent.flatten(),
        traceparents as &[Option<&str>],
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
                concurrency_key: job.concurrency_key.clone(),
                warnings: Vec::new(),
                workflow_id: None,
                job_ref: None,
                depends_on: None,
                waiting_on: None,
            }
        })
        .collect())
}
