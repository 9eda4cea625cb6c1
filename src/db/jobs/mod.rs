//! Statements on `weir.jobs` and its partitions, one file per concern.
//!
//! Writes a worker makes about a running job are guarded by
//! `state = 'running' AND claim_token = $token`, so a worker whose attempt
//! was handed back or rescued cannot change the job any more.

mod claim;
mod ids;
mod insert;
mod ops;
mod outcome;
mod partitions;
mod read;
mod rescue;
mod staging;
mod supervision;

pub use claim::*;
pub use ids::*;
pub use insert::*;
pub use ops::*;
pub use outcome::*;
pub use partitions::*;
pub use read::*;
pub use rescue::*;
pub use staging::*;
pub use supervision::*;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::job::{AttemptError, Job, JobId, JobState, Progress, WorkflowId};

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
    concurrency_key: Option<String>,
    workflow_id: Option<Uuid>,
    job_ref: Option<String>,
    depends_on: Option<Vec<Uuid>>,
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
            concurrency_key: row.concurrency_key,
            warnings: Vec::new(),
            workflow_id: row.workflow_id.map(WorkflowId),
            job_ref: row.job_ref,
            depends_on: row
                .depends_on
                .map(|ids| ids.into_iter().map(JobId).collect()),
            waiting_on: None,
        })
    }
}
