//! Reading jobs back: by id, several ids, or a filtered page.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::JobRow;
use crate::error::Result;
use crate::job::{Job, JobId, JobState, WorkflowId};

/// Reads one job by id, whichever partition holds it; a pending job
/// with the dependencies it still waits on (`waiting_on`).
pub async fn get(db: impl PgExecutor<'_> + Copy, id: JobId) -> Result<Option<Job>> {
    let row = sqlx::query_as!(
        JobRow,
        r#"SELECT id, kind, queue, args, priority, state::text AS "state!", attempt, max_attempts,
                  run_at, created_at, started_at, finished_at, progress, result, errors,
                  unique_key, timeout_seconds, cancel_requested_at, concurrency_key,
                  workflow_id, ref AS job_ref, depends_on AS "depends_on: Vec<Uuid>"
           FROM weir.jobs WHERE id = $1"#,
        id.0
    )
    .fetch_optional(db)
    .await?;
    let mut job = row.map(Job::try_from).transpose()?;
    if let Some(job) = job.as_mut().filter(|j| j.state == JobState::Pending) {
        job.waiting_on = Some(waiting_on(db, id).await?);
    }
    Ok(job)
}

/// Reads several jobs in one statement, in the order of `ids` (ids with
/// no job are left out).
pub async fn get_many(db: impl PgExecutor<'_>, ids: &[JobId]) -> Result<Vec<Job>> {
    let raw: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let rows = sqlx::query_as!(
        JobRow,
        r#"SELECT j.id, j.kind, j.queue, j.args, j.priority, j.state::text AS "state!", j.attempt,
                  j.max_attempts, j.run_at, j.created_at, j.started_at, j.finished_at, j.progress,
                  j.result, j.errors, j.unique_key, j.timeout_seconds, j.cancel_requested_at,
                  j.concurrency_key, j.workflow_id, j.ref AS job_ref,
                  j.depends_on AS "depends_on: Vec<Uuid>"
           FROM weir.jobs j
           WHERE j.id = ANY($1)
           ORDER BY array_position($1, j.id)"#,
        &raw
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Job::try_from).collect()
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
                  unique_key, timeout_seconds, cancel_requested_at, concurrency_key,
                  workflow_id, ref AS job_ref, depends_on AS "depends_on: Vec<Uuid>"
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

/// Why the job is not running (yet): `weir.explain_job`, or `None` for an
/// unknown id.
pub async fn explain(db: impl PgExecutor<'_>, id: JobId) -> Result<Option<serde_json::Value>> {
    let found = sqlx::query_scalar!(
        r#"SELECT weir.explain_job(id) AS "explanation!" FROM weir.jobs WHERE id = $1"#,
        id.0
    )
    .fetch_optional(db)
    .await?;
    Ok(found)
}

/// The jobs of a workflow, in submission order (their ids ascend in it).
pub async fn list_in_workflow(db: impl PgExecutor<'_>, workflow: WorkflowId) -> Result<Vec<Job>> {
    let rows = sqlx::query_as!(
        JobRow,
        r#"SELECT id, kind, queue, args, priority, state::text AS "state!", attempt, max_attempts,
                  run_at, created_at, started_at, finished_at, progress, result, errors,
                  unique_key, timeout_seconds, cancel_requested_at, concurrency_key,
                  workflow_id, ref AS job_ref, depends_on AS "depends_on: Vec<Uuid>"
           FROM weir.jobs
           WHERE workflow_id = $1
           ORDER BY id"#,
        workflow.0,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Job::try_from).collect()
}

/// Of a pending job's dependencies, those not succeeded yet.
pub async fn waiting_on(db: impl PgExecutor<'_>, id: JobId) -> Result<Vec<JobId>> {
    let ids = sqlx::query_scalar!(
        r#"SELECT p.id AS "id!"
           FROM weir.jobs j JOIN weir.jobs p ON p.id = ANY (j.depends_on)
           WHERE j.id = $1 AND p.state <> 'succeeded'
           ORDER BY p.id"#,
        id.0,
    )
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(JobId).collect())
}
