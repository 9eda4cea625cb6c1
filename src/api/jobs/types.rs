//! The job object and the request and event bodies of `/v1/jobs`, as the
//! spec shows them.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::api::problem::ApiError;
use crate::api::string_types::{QueueName, StrictString, TaskKind};
use crate::job::{Job, JobId, JobState, NewJob};

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "JobState", rename_all = "lowercase")]
pub enum JobStateDto {
    Pending,
    Scheduled,
    Available,
    Running,
    Retryable,
    Succeeded,
    Failed,
    Cancelled,
}

impl From<JobState> for JobStateDto {
    fn from(s: JobState) -> Self {
        match s {
            JobState::Pending => JobStateDto::Pending,
            JobState::Scheduled => JobStateDto::Scheduled,
            JobState::Available => JobStateDto::Available,
            JobState::Running => JobStateDto::Running,
            JobState::Retryable => JobStateDto::Retryable,
            JobState::Succeeded => JobStateDto::Succeeded,
            JobState::Failed => JobStateDto::Failed,
            JobState::Cancelled => JobStateDto::Cancelled,
        }
    }
}

impl From<JobStateDto> for JobState {
    fn from(s: JobStateDto) -> Self {
        match s {
            JobStateDto::Pending => JobState::Pending,
            JobStateDto::Scheduled => JobState::Scheduled,
            JobStateDto::Available => JobState::Available,
            JobStateDto::Running => JobState::Running,
            JobStateDto::Retryable => JobState::Retryable,
            JobStateDto::Succeeded => JobState::Succeeded,
            JobStateDto::Failed => JobState::Failed,
            JobStateDto::Cancelled => JobState::Cancelled,
        }
    }
}

/// What a running handler last reported.
#[derive(Debug, Clone, PartialEq, Object)]
#[oai(rename = "Progress", rename_all = "snake_case")]
pub struct ProgressDto {
    /// Units of work done.
    #[oai(skip_serializing_if_is_none)]
    pub done: Option<i64>,
    /// Units of work in all.
    #[oai(skip_serializing_if_is_none)]
    pub total: Option<i64>,
    /// Free text for humans.
    #[oai(skip_serializing_if_is_none)]
    pub message: Option<String>,
    /// When the report was stored.
    #[oai(skip_serializing_if_is_none)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The error of one failed attempt.
#[derive(Debug, Clone, PartialEq, Object)]
#[oai(rename = "AttemptError", rename_all = "snake_case")]
pub struct AttemptErrorDto {
    /// The attempt that failed (from 1).
    pub attempt: i32,
    /// When it failed.
    pub at: DateTime<Utc>,
    /// What went wrong.
    pub message: String,
}

/// A job: the same shape in every answer, event and `weir job --json`.
/// Absent values are omitted.
#[derive(Debug, Clone, PartialEq, Object)]
#[oai(rename = "Job", rename_all = "snake_case")]
pub struct JobDto {
    /// UUIDv7, time-ordered.
    pub id: Uuid,
    /// Name of the handler.
    pub kind: String,
    pub queue: String,
    /// The handler's arguments (a JSON object). Left out of
    /// `GET /v1/jobs` pages unless `include=args`.
    #[oai(skip_serializing_if_is_none)]
    pub args: Option<serde_json::Value>,
    /// Higher runs first.
    pub priority: i16,
    pub state: JobStateDto,
    /// Attempts started.
    pub attempt: i32,
    pub max_attempts: i32,
    /// Earliest time the job may (next) run.
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// When the latest attempt started.
    #[oai(skip_serializing_if_is_none)]
    pub started_at: Option<DateTime<Utc>>,
    /// When the job reached a terminal state.
    #[oai(skip_serializing_if_is_none)]
    pub finished_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub progress: Option<ProgressDto>,
    /// What the handler returned (succeeded jobs). Left out of
    /// `GET /v1/jobs` pages unless `include=result`.
    #[oai(skip_serializing_if_is_none)]
    pub result: Option<serde_json::Value>,
    /// One entry per failed attempt.
    pub errors: Vec<AttemptErrorDto>,
    #[oai(skip_serializing_if_is_none)]
    pub unique_key: Option<String>,
    /// Per-attempt timeout set on the job.
    #[oai(skip_serializing_if_is_none)]
    pub timeout_seconds: Option<i32>,
    /// When a cancel of the running job was requested.
    #[oai(skip_serializing_if_is_none)]
    pub cancel_requested: Option<DateTime<Utc>>,
    /// Groups jobs for the queue's `max_running_per_key`.
    #[oai(skip_serializing_if_is_none)]
    pub concurrency_key: Option<String>,
    /// Warnings of the enqueue answer, e.g. that no live worker serves the
    /// job's kind on its queue (the job waits until one does). Absent on
    /// reads and when there is nothing to say.
    #[oai(skip_serializing_if_is_none)]
    pub warnings: Option<Vec<String>>,
    /// The workflow it was submitted in.
    #[oai(skip_serializing_if_is_none)]
    pub workflow_id: Option<Uuid>,
    /// Its name within its workflow.
    #[oai(rename = "ref", skip_serializing_if_is_none)]
    pub job_ref: Option<String>,
    /// Ids of the jobs it waits on: it runs once all of them succeeded.
    #[oai(skip_serializing_if_is_none)]
    pub depends_on: Option<Vec<Uuid>>,
    /// While `pending`: the dependencies not succeeded yet (`GET
    /// /v1/jobs/{id}` only).
    #[oai(skip_serializing_if_is_none)]
    pub waiting_on: Option<Vec<Uuid>>,
}

impl From<Job> for JobDto {
    fn from(j: Job) -> Self {
        JobDto {
            id: j.id.0,
            kind: j.kind,
            queue: j.queue,
            args: Some(j.args),
            priority: j.priority,
            state: j.state.into(),
            attempt: j.attempt,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
            progress: j.progress.map(|p| ProgressDto {
                done: p.done,
                total: p.total,
                message: p.message,
                updated_at: p.updated_at,
            }),
            result: j.result.filter(|r| !r.is_null()),
            errors: j
                .errors
                .into_iter()
                .map(|e| AttemptErrorDto {
                    attempt: e.attempt,
                    at: e.at,
                    message: e.message,
                })
                .collect(),
            unique_key: j.unique_key,
            timeout_seconds: j.timeout_seconds,
            cancel_requested: j.cancel_requested,
            concurrency_key: j.concurrency_key,
            warnings: (!j.warnings.is_empty()).then_some(j.warnings),
            workflow_id: j.workflow_id.map(|w| w.0),
            job_ref: j.job_ref,
            depends_on: j
                .depends_on
                .map(|ids| ids.into_iter().map(|id| id.0).collect()),
            waiting_on: j
                .waiting_on
                .map(|ids| ids.into_iter().map(|id| id.0).collect()),
        }
    }
}

/// A job to enqueue. Only `kind` is required.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "EnqueueRequest",
    rename_all = "snake_case",
    deny_unknown_fields,
    example
)]
pub struct EnqueueRequest {
    /// Name of the handler, e.g. `demo.process_item`.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub kind: TaskKind,
    /// Arguments: a JSON object (default `{}`).
    pub args: Option<serde_json::Value>,
    /// Queue (default `default`): letters, digits, `_ . : -`.
    pub queue: Option<QueueName>,
    /// Higher runs first (default 0).
    pub priority: Option<i16>,
    /// Run no sooner than this time. Exclusive with `delay_seconds`.
    pub run_at: Option<DateTime<Utc>>,
    /// Run no sooner than this many seconds from now. Exclusive with `run_at`.
    #[oai(validator(minimum(value = "0"), maximum(value = "315360000")))]
    pub delay_seconds: Option<f64>,
    /// Attempts allowed (default 20).
    #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
    pub max_attempts: Option<i32>,
    /// Per-attempt timeout in seconds (default: the task's, else 30 min).
    #[oai(validator(minimum(value = "1"), maximum(value = "604800")))]
    pub timeout_seconds: Option<i32>,
    /// While a job with this key is not finished, enqueueing another with
    /// it returns that job (200) instead of creating one. Global: namespace
    /// it, e.g. `invoice:42`.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub unique_key: Option<StrictString>,
    /// Groups jobs for the queue's `max_running_per_key` (e.g. a customer
    /// id): at most that many jobs of one key run at once.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub concurrency_key: Option<StrictString>,
    /// Ids of jobs this one waits on: it stays `pending` until all of
    /// them succeeded, and is cancelled when one fails or is cancelled (at
    /// once if one already has). Only on `POST /v1/jobs`, not in batches.
    #[oai(validator(min_items = 1, max_items = 10000))]
    pub depends_on: Option<Vec<Uuid>>,
}

impl poem_openapi::types::Example for EnqueueRequest {
    /// The demo task, with enough steps to watch its progress (Swagger UI's
    /// "Try it out" starts from this).
    fn example() -> Self {
        EnqueueRequest {
            kind: TaskKind("demo.process_item".into()),
            args: Some(serde_json::json!({"name": "widget", "steps": 10, "step_ms": 500})),
            queue: None,
            priority: None,
            run_at: None,
            delay_seconds: None,
            max_attempts: None,
            timeout_seconds: None,
            unique_key: None,
            concurrency_key: None,
            depends_on: None,
        }
    }
}

impl EnqueueRequest {
    pub(crate) fn into_new_job(self) -> Result<NewJob, ApiError> {
        let args = match self.args {
            None | Some(serde_json::Value::Null) => serde_json::json!({}),
            Some(v @ serde_json::Value::Object(_)) => v,
            Some(_) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "args must be a JSON object",
                ));
            }
        };
        if self.kind.0.trim().is_empty() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "kind must not be blank",
            ));
        }
        let run_at = match (self.run_at, self.delay_seconds) {
            (Some(_), Some(_)) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "give run_at or delay_seconds, not both",
                ));
            }
            (Some(at), None) => Some(at),
            (None, Some(secs)) => {
                Some(Utc::now() + chrono::Duration::milliseconds((secs * 1000.0) as i64))
            }
            (None, None) => None,
        };
        Ok(NewJob {
            kind: self.kind.0,
            args,
            queue: self.queue.map(|q| q.0),
            priority: self.priority,
            run_at,
            max_attempts: self.max_attempts,
            unique_key: self.unique_key.map(|k| k.0),
            timeout_seconds: self.timeout_seconds,
            traceparent: None,
            concurrency_key: self.concurrency_key.map(|k| k.0),
            depends_on: self
                .depends_on
                .unwrap_or_default()
                .into_iter()
                .map(JobId)
                .collect(),
        })
    }
}

/// Many jobs to enqueue in one transaction.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "EnqueueBatchRequest",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct EnqueueBatchRequest {
    /// 1 to 1,000 jobs; all are enqueued or none.
    #[oai(validator(min_items = 1, max_items = 1000))]
    pub jobs: Vec<EnqueueRequest>,
}

/// The jobs of a batch, in input order.
#[derive(Debug, Clone, Object)]
#[oai(rename = "JobBatch", rename_all = "snake_case")]
pub struct JobBatchDto {
    pub jobs: Vec<JobDto>,
}

/// A page of jobs, newest first.
#[derive(Debug, Clone, Object)]
#[oai(rename = "JobList", rename_all = "snake_case")]
pub struct JobListDto {
    pub jobs: Vec<JobDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// The kind of a job event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "JobEventType", rename_all = "lowercase")]
pub enum JobEventType {
    State,
    Progress,
}

/// One Server-Sent Event of `GET /v1/jobs/{id}/events`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "JobEvent", rename_all = "snake_case")]
pub struct JobEventDto {
    /// `state` (first event, and each state change) or `progress`.
    #[oai(rename = "type")]
    pub ty: JobEventType,
    pub state: JobStateDto,
    #[oai(skip_serializing_if_is_none)]
    pub progress: Option<ProgressDto>,
    /// The whole job at that moment.
    pub job: JobDto,
}
