//! The workflow object, its request and event bodies.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::api::jobs::{EnqueueRequest, JobDto};
use crate::api::problem::ApiError;
use crate::api::string_types::{QueueName, StrictString, TaskKind};
use crate::workflow::{NewWorkflow, Workflow, WorkflowJob, WorkflowState};

/// One job of a workflow to submit: a job as `POST /v1/jobs` takes it
/// (without `unique_key`), with a `ref` and the refs it depends on.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "WorkflowJobRequest",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct WorkflowJobRequest {
    /// Its name within the workflow, unique there.
    #[oai(rename = "ref", validator(min_length = 1, max_length = 255))]
    pub job_ref: StrictString,
    /// Name of the handler.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub kind: TaskKind,
    /// Arguments: a JSON object (default `{}`).
    pub args: Option<serde_json::Value>,
    /// Queue (default `default`).
    pub queue: Option<QueueName>,
    /// Higher runs first (default 0).
    pub priority: Option<i16>,
    /// Run no sooner than this time. Exclusive with `delay_seconds`.
    pub run_at: Option<DateTime<Utc>>,
    /// Run no sooner than this many seconds from now.
    #[oai(validator(minimum(value = "0"), maximum(value = "315360000")))]
    pub delay_seconds: Option<f64>,
    /// Attempts allowed (default 20).
    #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
    pub max_attempts: Option<i32>,
    /// Per-attempt timeout in seconds.
    #[oai(validator(minimum(value = "1"), maximum(value = "604800")))]
    pub timeout_seconds: Option<i32>,
    /// Refs of jobs of this workflow it waits on: it stays `pending` until
    /// all of them succeeded, and is cancelled when one fails.
    #[oai(validator(max_items = 1000))]
    pub depends_on: Option<Vec<StrictString>>,
}

/// A workflow to submit: all of its jobs or none.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "CreateWorkflowRequest",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct CreateWorkflowRequest {
    /// A label.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub name: Option<StrictString>,
    /// 1 to 1,000 jobs, wired by `depends_on` refs (no cycles).
    #[oai(validator(min_items = 1, max_items = 1000))]
    pub jobs: Vec<WorkflowJobRequest>,
}

impl CreateWorkflowRequest {
    pub(super) fn into_new_workflow(self) -> Result<NewWorkflow, ApiError> {
        let mut jobs = Vec::with_capacity(self.jobs.len());
        for (i, j) in self.jobs.into_iter().enumerate() {
            let one = EnqueueRequest {
                kind: j.kind,
                args: j.args,
                queue: j.queue,
                priority: j.priority,
                run_at: j.run_at,
                delay_seconds: j.delay_seconds,
                max_attempts: j.max_attempts,
                timeout_seconds: j.timeout_seconds,
                unique_key: None,
                depends_on: None,
                concurrency_key: None,
            };
            let job = one.into_new_job().map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("jobs[{i}]: {}", e.problem().detail),
                )
            })?;
            jobs.push(WorkflowJob {
                job_ref: j.job_ref.0,
                job,
                depends_on: j
                    .depends_on
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r.0)
                    .collect(),
            });
        }
        Ok(NewWorkflow {
            name: self.name.map(|n| n.0),
            jobs,
        })
    }
}

/// A workflow's state, derived from its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "WorkflowState", rename_all = "lowercase")]
pub enum WorkflowStateDto {
    /// Some job is not finished.
    Running,
    /// Every job succeeded.
    Succeeded,
    /// Every job finished, some did not succeed.
    Failed,
}

impl From<WorkflowState> for WorkflowStateDto {
    fn from(s: WorkflowState) -> Self {
        match s {
            WorkflowState::Running => WorkflowStateDto::Running,
            WorkflowState::Succeeded => WorkflowStateDto::Succeeded,
            WorkflowState::Failed => WorkflowStateDto::Failed,
        }
    }
}

/// A workflow's jobs per state.
#[derive(Debug, Clone, PartialEq, Object)]
#[oai(rename = "WorkflowCounts", rename_all = "snake_case")]
pub struct WorkflowCountsDto {
    pub pending: i64,
    pub scheduled: i64,
    pub available: i64,
    pub running: i64,
    pub retryable: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
}

/// The progress reports of a workflow's jobs, summed.
#[derive(Debug, Clone, PartialEq, Object)]
#[oai(rename = "WorkflowProgress", rename_all = "snake_case")]
pub struct WorkflowProgressDto {
    pub done: f64,
    pub total: f64,
}

/// A workflow: its derived state, jobs per state, summed progress and
/// (except in lists) its jobs in submission order.
#[derive(Debug, Clone, PartialEq, Object)]
#[oai(rename = "Workflow", rename_all = "snake_case")]
pub struct WorkflowDto {
    /// UUIDv7, time-ordered.
    pub id: Uuid,
    #[oai(skip_serializing_if_is_none)]
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When its last job finished, once every job has.
    #[oai(skip_serializing_if_is_none)]
    pub finished_at: Option<DateTime<Utc>>,
    pub state: WorkflowStateDto,
    /// How many jobs it was submitted with.
    pub job_count: i32,
    pub counts: WorkflowCountsDto,
    pub progress: WorkflowProgressDto,
    /// Its jobs, in submission order (left out of `GET /v1/workflows`).
    #[oai(skip_serializing_if_is_none)]
    pub jobs: Option<Vec<JobDto>>,
}

impl WorkflowDto {
    pub fn of(wf: Workflow, with_jobs: bool) -> Self {
        let c = wf.counts;
        WorkflowDto {
            id: wf.id.0,
            name: wf.name,
            created_at: wf.created_at,
            finished_at: wf.finished_at,
            state: wf.state.into(),
            job_count: wf.job_count,
            counts: WorkflowCountsDto {
                pending: c.pending,
                scheduled: c.scheduled,
                available: c.available,
                running: c.running,
                retryable: c.retryable,
                succeeded: c.succeeded,
                failed: c.failed,
                cancelled: c.cancelled,
            },
            progress: WorkflowProgressDto {
                done: wf.progress_done,
                total: wf.progress_total,
            },
            jobs: with_jobs.then(|| wf.jobs.into_iter().map(JobDto::from).collect()),
        }
    }
}

/// A page of workflows, newest first.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WorkflowList", rename_all = "snake_case")]
pub struct WorkflowListDto {
    pub workflows: Vec<WorkflowDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// One Server-Sent Event of `GET /v1/workflows/{id}/events`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WorkflowEvent", rename_all = "snake_case")]
pub struct WorkflowEventDto {
    /// `state` (first event, and whenever a job's state changed) or
    /// `progress` (a job's progress changed).
    #[oai(rename = "type")]
    pub ty: crate::api::jobs::JobEventType,
    pub state: WorkflowStateDto,
    /// The whole workflow, with its jobs, at that moment.
    pub workflow: WorkflowDto,
}
