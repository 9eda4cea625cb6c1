//! Statements on `weir.workflows` and the dependencies of jobs: submit a
//! workflow (`weir.create_workflow`), read one or a page, cancel one
//! (`weir.cancel_workflow`), and a job's parents (`weir.job_parents`).

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::job::{JobId, WorkflowId};
use crate::workflow::{NewWorkflow, Parent, Workflow, WorkflowCounts, WorkflowState};

/// The job list `weir.create_workflow` takes: one JSON object per job.
fn jobs_json(wf: &NewWorkflow) -> serde_json::Value {
    let jobs = wf
        .jobs
        .iter()
        .map(|j| {
            let mut o = serde_json::Map::new();
            o.insert("ref".into(), j.job_ref.clone().into());
            o.insert("kind".into(), j.job.kind.clone().into());
            o.insert("args".into(), j.job.args.clone());
            if let Some(q) = &j.job.queue {
                o.insert("queue".into(), q.clone().into());
            }
            if let Some(p) = j.job.priority {
                o.insert("priority".into(), p.into());
            }
            if let Some(at) = j.job.run_at {
                o.insert("run_at".into(), at.to_rfc3339().into());
            }
            if let Some(m) = j.job.max_attempts {
                o.insert("max_attempts".into(), m.into());
            }
            if let Some(t) = j.job.timeout_seconds {
                o.insert("timeout_seconds".into(), t.into());
            }
            if !j.depends_on.is_empty() {
                o.insert("depends_on".into(), j.depends_on.clone().into());
            }
            serde_json::Value::Object(o)
        })
        .collect();
    serde_json::Value::Array(jobs)
}

/// Submits `wf` through `weir.create_workflow` (all jobs or none) and
/// returns its id. A duplicate ref, an unknown ref or a cycle is
/// [`Error::InvalidJob`] with the function's message.
pub async fn create(db: impl PgExecutor<'_>, wf: &NewWorkflow) -> Result<WorkflowId> {
    let id = sqlx::query_scalar!(
        r#"SELECT weir.create_workflow($1, $2) AS "id!""#,
        wf.name.as_deref(),
        jobs_json(wf),
    )
    .fetch_one(db)
    .await?;
    Ok(WorkflowId(id))
}

struct StatsRow {
    id: Uuid,
    name: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    job_count: i32,
    state: String,
    pending: i64,
    scheduled: i64,
    available: i64,
    running: i64,
    retryable: i64,
    succeeded: i64,
    failed: i64,
    cancelled: i64,
    progress_done: f64,
    progress_total: f64,
    last_finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TryFrom<StatsRow> for Workflow {
    type Error = Error;
    fn try_from(r: StatsRow) -> Result<Workflow> {
        let state = match r.state.as_str() {
            "running" => WorkflowState::Running,
            "succeeded" => WorkflowState::Succeeded,
            "failed" => WorkflowState::Failed,
            other => return Err(Error::Config(format!("unknown workflow state {other}"))),
        };
        Ok(Workflow {
            id: WorkflowId(r.id),
            name: r.name,
            created_at: r.created_at,
            finished_at: r.last_finished_at.filter(|_| state.is_terminal()),
            state,
            job_count: r.job_count,
            counts: WorkflowCounts {
                pending: r.pending,
                scheduled: r.scheduled,
                available: r.available,
                running: r.running,
                retryable: r.retryable,
                succeeded: r.succeeded,
                failed: r.failed,
                cancelled: r.cancelled,
            },
            progress_done: r.progress_done,
            progress_total: r.progress_total,
            jobs: Vec::new(),
        })
    }
}

/// Reads workflows by id (from `weir.workflow_stats`), newest first;
/// their `jobs` are left empty.
pub async fn stats(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<Workflow>> {
    let rows = sqlx::query_as!(
        StatsRow,
        r#"SELECT id AS "id!", name, created_at AS "created_at!", job_count AS "job_count!",
                  state AS "state!", pending AS "pending!", scheduled AS "scheduled!",
                  available AS "available!", running AS "running!", retryable AS "retryable!",
                  succeeded AS "succeeded!", failed AS "failed!", cancelled AS "cancelled!",
                  progress_done AS "progress_done!", progress_total AS "progress_total!",
                  last_finished_at
           FROM weir.workflow_stats
           WHERE id = ANY ($1)
           ORDER BY id DESC"#,
        ids,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Workflow::try_from).collect()
}

/// The ids of at most `limit` workflows, newest first, older than
/// `before` when given (the keyset cursor).
pub async fn list_ids(
    db: impl PgExecutor<'_>,
    before: Option<WorkflowId>,
    limit: i64,
) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id FROM weir.workflows
           WHERE ($1::uuid IS NULL OR id < $1)
           ORDER BY id DESC
           LIMIT $2"#,
        before.map(|b| b.0),
        limit,
    )
    .fetch_all(db)
    .await?)
}

/// Cancels every unfinished job of the workflow (`weir.cancel_workflow`)
/// and returns how many; `None` for an unknown workflow.
pub async fn cancel(db: impl PgExecutor<'_>, id: WorkflowId) -> Result<Option<i32>> {
    match sqlx::query_scalar!(r#"SELECT weir.cancel_workflow($1) AS "n!""#, id.0)
        .fetch_one(db)
        .await
    {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("P0002") => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The dependencies of job `id` with their ref, kind and result, in its
/// `depends_on` order (`weir.job_parents`, as `weir.claim` hands them to
/// external workers); empty for a job without dependencies.
pub async fn parents(db: impl PgExecutor<'_>, id: JobId) -> Result<Vec<Parent>> {
    let parents = sqlx::query_scalar!(
        r#"SELECT CASE WHEN depends_on IS NULL THEN '[]'::jsonb
                       ELSE weir.job_parents(depends_on) END AS "parents!"
           FROM weir.jobs WHERE id = $1"#,
        id.0,
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound(id))?;
    Ok(serde_json::from_value(parents)?)
}
