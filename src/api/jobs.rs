//! `/v1/jobs`: enqueue (one, batch), read (with `?wait`), events (SSE),
//! list, cancel, retry.

// Response enums are built once per request and moved straight into the
// response: boxing the job would buy nothing.
#![allow(clippy::large_enum_variant)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use poem::http::StatusCode;
use poem::web::sse::Event;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{EventStream, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::problem::{ApiError, Problem, problem_response, respond};
use super::strict::{QueueName, StrictString};
use super::{ApiAuth, ApiTags, AppState};
use crate::db;
use crate::db::jobs::{CancelOutcome, ListFilter};
use crate::error::Error;
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
    /// The handler's arguments (a JSON object).
    pub args: serde_json::Value,
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
    /// What the handler returned (succeeded jobs).
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
}

impl From<Job> for JobDto {
    fn from(j: Job) -> Self {
        JobDto {
            id: j.id.0,
            kind: j.kind,
            queue: j.queue,
            args: j.args,
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
        }
    }
}

/// A job to enqueue. Only `kind` is required.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "EnqueueRequest",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct EnqueueRequest {
    /// Name of the handler, e.g. `demo.process_item`.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub kind: StrictString,
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
}

impl EnqueueRequest {
    fn into_new_job(self) -> Result<NewJob, ApiError> {
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

/// Answers of `POST /v1/jobs`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum EnqueueResponse {
    /// The job was created.
    #[oai(status = 201)]
    Created(Json<JobDto>, #[oai(header = "Location")] String),
    /// A live job already holds the `unique_key`, or the `Idempotency-Key`
    /// was used within 24 h: that job.
    #[oai(status = 200)]
    Existing(Json<JobDto>),
    /// Invalid values (e.g. `args` not an object, both `run_at` and `delay_seconds`).
    #[oai(status = 422, content_type = "application/problem+json")]
    Invalid(Json<Problem>),
    /// Malformed JSON, wrong types, unknown fields (400); missing or wrong token (401); body over the limit (413).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(EnqueueResponse, UNPROCESSABLE_ENTITY => Invalid);

/// Answers of `POST /v1/jobs/batch`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum EnqueueBatchResponse {
    /// Every job, in input order (existing ones for live `unique_key`s).
    #[oai(status = 201)]
    Created(Json<JobBatchDto>),
    /// A job of the batch is invalid; nothing was enqueued.
    #[oai(status = 422, content_type = "application/problem+json")]
    Invalid(Json<Problem>),
    /// Malformed JSON, wrong types, unknown fields, more than 1,000 jobs (400); auth (401); size (413).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(EnqueueBatchResponse, UNPROCESSABLE_ENTITY => Invalid);

/// Answers of `GET /v1/jobs/{id}`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum GetJobResponse {
    /// The job (with `?wait`: once terminal, or as it is when the wait ends).
    #[oai(status = 200)]
    Ok(Json<JobDto>),
    /// No job has this id.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Malformed id or parameter (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(GetJobResponse, NOT_FOUND => NotFound);

type EventStreamBody = EventStream<BoxStream<'static, JobEventDto>>;

/// Answers of `GET /v1/jobs/{id}/events`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum JobEventsResponse {
    /// A stream of `JobEvent`s: the current state first, then one per
    /// progress report and state change, ending after the terminal state.
    #[oai(status = 200)]
    Ok(EventStreamBody),
    /// No job has this id.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Malformed id (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(JobEventsResponse, NOT_FOUND => NotFound);

/// Answers of `GET /v1/jobs`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum ListJobsResponse {
    /// A page of jobs, newest first.
    #[oai(status = 200)]
    Ok(Json<JobListDto>),
    /// Bad filter, limit or cursor (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(ListJobsResponse);

/// Answers of `POST /v1/jobs/{id}/cancel`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum CancelJobResponse {
    /// The job was queued and is now `cancelled`.
    #[oai(status = 200)]
    Cancelled(Json<JobDto>),
    /// The job is running: its handler is told to stop; it becomes `cancelled` when it does.
    #[oai(status = 202)]
    CancelRequested(Json<JobDto>),
    /// No job has this id.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// The job already finished.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// Malformed id (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(CancelJobResponse, NOT_FOUND => NotFound, CONFLICT => Conflict);

/// Answers of `POST /v1/jobs/{id}/retry`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum RetryJobResponse {
    /// The job is `available` again (errors kept, result cleared).
    #[oai(status = 200)]
    Ok(Json<JobDto>),
    /// No job has this id.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// The job is neither `failed` nor `cancelled`, or its `unique_key` is taken.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// Malformed id (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(RetryJobResponse, NOT_FOUND => NotFound, CONFLICT => Conflict);

pub struct JobsApi {
    pub state: Arc<AppState>,
}

fn location(id: Uuid) -> String {
    format!("/v1/jobs/{id}")
}

impl JobsApi {
    async fn read(&self, id: JobId) -> Result<Job, ApiError> {
        db::jobs::get(&self.state.pool, id)
            .await?
            .ok_or(Error::NotFound(id).into())
    }

    async fn enqueue_one(
        &self,
        req: EnqueueRequest,
        idempotency_key: Option<String>,
    ) -> Result<EnqueueResponse, ApiError> {
        let job = req.into_new_job()?;
        if let Some(key) = &idempotency_key
            && (key.is_empty() || key.len() > 255)
        {
            return Err(ApiError::bad_request(
                "Idempotency-Key must be 1 to 255 characters",
            ));
        }
        let pool = &self.state.pool;
        if idempotency_key.is_none() && job.unique_key.is_none() {
            // The common case: grouped with concurrent requests into one
            // INSERT, which returns the row (no second read).
            let created = self.state.coalescer.enqueue(job).await?;
            count_enqueued(&created.queue, &created.kind);
            let loc = location(created.id.0);
            return Ok(EnqueueResponse::Created(Json(created.into()), loc));
        }
        let enqueued = match &idempotency_key {
            None => crate::client::enqueue_in(pool, &job).await?,
            Some(key) => loop {
                if let Some(id) = db::idempotency::find(pool, key).await? {
                    let existing = self.read(id).await?;
                    return Ok(EnqueueResponse::Existing(Json(existing.into())));
                }
                let mut tx = pool.begin().await.map_err(Error::from)?;
                let enqueued = crate::client::enqueue_in(&mut *tx, &job).await?;
                if db::idempotency::record(&mut *tx, key, enqueued.id).await? {
                    tx.commit().await.map_err(Error::from)?;
                    break enqueued;
                }
                // A concurrent request with this key won: answer its job.
                tx.rollback().await.map_err(Error::from)?;
            },
        };
        let created = self.read(enqueued.id).await?;
        if enqueued.created {
            count_enqueued(&created.queue, &created.kind);
            let loc = location(created.id.0);
            Ok(EnqueueResponse::Created(Json(created.into()), loc))
        } else {
            Ok(EnqueueResponse::Existing(Json(created.into())))
        }
    }
}

impl JobsApi {
    /// The whole batch in one statement, when no entry has a `unique_key`.
    /// `None` when it cannot be done that way, or when the database refused
    /// an entry: the one-by-one path then says which.
    async fn insert_batch_at_once(&self, jobs: &[NewJob]) -> Option<Result<Vec<JobDto>, ApiError>> {
        if jobs.iter().any(|j| j.unique_key.is_some()) {
            return None;
        }
        match crate::client::enqueue_many_in(&self.state.pool, jobs).await {
            Ok(stored) => Some(Ok(stored.into_iter().map(Into::into).collect())),
            Err(Error::InvalidJob(_)) => None,
            Err(e) => Some(Err(e.into())),
        }
    }

    /// The batch one job at a time in one transaction: unique keys may make
    /// two entries the same job, and a refused entry is named by index.
    async fn insert_batch_one_by_one(&self, jobs: &[NewJob]) -> Result<Vec<JobDto>, ApiError> {
        let mut tx = self.state.pool.begin().await.map_err(Error::from)?;
        let mut ids = Vec::with_capacity(jobs.len());
        for (i, job) in jobs.iter().enumerate() {
            let e = crate::client::enqueue_in(&mut *tx, job)
                .await
                .map_err(|e| {
                    let e = ApiError::from(e);
                    ApiError::new(e.status, format!("jobs[{i}]: {}", e.detail))
                })?;
            ids.push(e.id);
        }
        // One read for the whole batch, mapped back by id in input order.
        let found: std::collections::HashMap<JobId, Job> = db::jobs::get_many(&mut *tx, &ids)
            .await?
            .into_iter()
            .map(|j| (j.id, j))
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            let job = found.get(id).ok_or(Error::NotFound(*id))?;
            out.push(job.clone().into());
        }
        tx.commit().await.map_err(Error::from)?;
        Ok(out)
    }
}

fn count_enqueued(queue: &str, kind: &str) {
    crate::metrics::inc(
        "weir_jobs_enqueued_total",
        &[("queue", queue), ("kind", kind)],
    );
}

/// Parses a path id into a [`JobId`] with a clear 400.
fn parse_id(id: &str) -> Result<JobId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a job id (expected a UUID)")))
}

#[OpenApi(tag = "ApiTags::Jobs")]
impl JobsApi {
    /// Enqueue a job
    ///
    /// Answers at once with the job (201 and `Location`). With a
    /// `unique_key` held by a live job, answers that job (200). With an
    /// `Idempotency-Key` header seen in the last 24 hours, answers the job
    /// the first request created (200), even if it has finished since.
    #[oai(path = "/v1/jobs", method = "post", operation_id = "enqueue_job")]
    async fn enqueue(
        &self,
        _auth: ApiAuth,
        body: Json<EnqueueRequest>,
        /// Makes the request safe to repeat for 24 hours.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> EnqueueResponse {
        self.enqueue_one(body.0, idempotency_key.0)
            .await
            .unwrap_or_else(respond)
    }

    /// Enqueue many jobs
    ///
    /// Up to 1,000 jobs in one transaction: all are enqueued or none.
    /// Answered in input order.
    #[oai(
        path = "/v1/jobs/batch",
        method = "post",
        operation_id = "enqueue_jobs_batch"
    )]
    async fn enqueue_batch(
        &self,
        _auth: ApiAuth,
        body: Json<EnqueueBatchRequest>,
    ) -> EnqueueBatchResponse {
        let result: Result<Vec<JobDto>, ApiError> = async {
            let mut jobs = Vec::with_capacity(body.0.jobs.len());
            for (i, req) in body.0.jobs.into_iter().enumerate() {
                jobs.push(
                    req.into_new_job()
                        .map_err(|e| ApiError::new(e.status, format!("jobs[{i}]: {}", e.detail)))?,
                );
            }
            let out = match self.insert_batch_at_once(&jobs).await {
                Some(stored) => stored?,
                None => self.insert_batch_one_by_one(&jobs).await?,
            };
            for job in &jobs {
                count_enqueued(
                    job.queue.as_deref().unwrap_or(crate::job::DEFAULT_QUEUE),
                    &job.kind,
                );
            }
            Ok(out)
        }
        .await;
        match result {
            Ok(jobs) => EnqueueBatchResponse::Created(Json(JobBatchDto { jobs })),
            Err(e) => respond(e),
        }
    }

    /// Get a job
    ///
    /// With `wait=N`, holds the request until the job is terminal or N
    /// seconds pass (capped at the server's limit, 60 s by default), woken
    /// by the database's notification, and answers the job as it is then.
    #[oai(path = "/v1/jobs/:id", method = "get", operation_id = "get_job")]
    async fn get(
        &self,
        _auth: ApiAuth,
        /// The job's id.
        id: Path<String>,
        /// Seconds to wait for a terminal state (0 to the cap).
        #[oai(validator(minimum(value = "0"), maximum(value = "3600")))]
        wait: Query<Option<f64>>,
    ) -> GetJobResponse {
        let result: Result<Job, ApiError> = async {
            let id = parse_id(&id.0)?;
            let wait =
                Duration::from_secs_f64(wait.0.unwrap_or(0.0)).min(self.state.config.wait_cap);
            if wait.is_zero() {
                return self.read(id).await;
            }
            let mut follow = self.state.events.follow(id).await?;
            Ok(follow.finished(wait).await?)
        }
        .await;
        match result {
            Ok(job) => GetJobResponse::Ok(Json(job.into())),
            Err(e) => respond(e),
        }
    }

    /// Follow a job's events
    ///
    /// Server-Sent Events: the current state first, then one event per
    /// progress report (coalesced, a few per second at most) and per state
    /// change, ending after the terminal state. Each event's `data` is a
    /// `JobEvent`.
    #[oai(
        path = "/v1/jobs/:id/events",
        method = "get",
        operation_id = "job_events"
    )]
    async fn events(
        &self,
        _auth: ApiAuth,
        /** The job's id. */
        id: Path<String>,
    ) -> JobEventsResponse {
        let follow = async {
            let mut follow = self.state.events.follow(parse_id(&id.0)?).await?;
            // The current state first, at once (404 if there is no such job).
            let first = follow.changed(Duration::ZERO).await?;
            Ok::<_, ApiError>((follow, first))
        };
        let (follow, first) = match follow.await {
            Ok(v) => v,
            Err(e) => return respond(e),
        };
        let rest = futures_util::stream::unfold(
            (follow, first.clone()),
            |(mut follow, last)| async move {
                if last.state.is_terminal() {
                    return None;
                }
                let (ty, job) = loop {
                    let job = match follow.changed(Duration::from_secs(3600)).await {
                        Ok(job) => job,
                        Err(Error::NotFound(_)) => return None,
                        Err(e) => {
                            // Tried again after the next notification or
                            // re-check.
                            tracing::warn!(error = %e, "reading a followed job failed");
                            continue;
                        }
                    };
                    if job.state != last.state || job.attempt != last.attempt {
                        break (JobEventType::State, job);
                    }
                    if job.progress != last.progress {
                        break (JobEventType::Progress, job);
                    }
                };
                Some((event(ty, job.clone()), (follow, job)))
            },
        );
        let stream =
            futures_util::stream::once(std::future::ready(event(JobEventType::State, first)))
                .chain(rest);
        JobEventsResponse::Ok(
            EventStream::new(stream.boxed())
                .keep_alive(Duration::from_secs(15))
                .to_event(|e: JobEventDto| {
                    let ty = match e.ty {
                        JobEventType::State => "state",
                        JobEventType::Progress => "progress",
                    };
                    Event::message(
                        serde_json::to_string(&poem_openapi::types::ToJSON::to_json(&e))
                            .unwrap_or_default(),
                    )
                    .event_type(ty)
                }),
        )
    }

    /// List jobs
    ///
    /// Newest first, filtered by `state`, `queue` and `kind`. Pages are
    /// keyset-paginated: pass `next_cursor` as `cursor`; jobs enqueued
    /// meanwhile never shift later pages.
    #[oai(path = "/v1/jobs", method = "get", operation_id = "list_jobs")]
    async fn list(
        &self,
        _auth: ApiAuth,
        state: Query<Option<JobStateDto>>,
        queue: Query<Option<String>>,
        kind: Query<Option<String>>,
        /// Jobs per page, 1 to 500 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ListJobsResponse {
        let result: Result<JobListDto, ApiError> = async {
            let before = match cursor.0.as_deref() {
                None | Some("") => None,
                Some(c) => Some(
                    c.parse::<JobId>()
                        .map_err(|_| ApiError::bad_request("cursor is not valid"))?,
                ),
            };
            let limit = limit.0.unwrap_or(50);
            let filter = ListFilter {
                state: state.0.map(Into::into),
                queue: queue.0,
                kind: kind.0,
                before,
            };
            let mut jobs = db::jobs::list(&self.state.pool, &filter, limit + 1).await?;
            let more = jobs.len() as i64 > limit;
            jobs.truncate(limit as usize);
            let next_cursor = if more {
                jobs.last().map(|j| j.id.to_string())
            } else {
                None
            };
            Ok(JobListDto {
                jobs: jobs.into_iter().map(Into::into).collect(),
                next_cursor,
            })
        }
        .await;
        match result {
            Ok(list) => ListJobsResponse::Ok(Json(list)),
            Err(e) => respond(e),
        }
    }

    /// Cancel a job
    ///
    /// A queued job is cancelled at once (200). A running job's handler is
    /// told to stop (202); the job becomes `cancelled` when it does (or is
    /// aborted after a grace period). A finished job answers 409.
    #[oai(
        path = "/v1/jobs/:id/cancel",
        method = "post",
        operation_id = "cancel_job"
    )]
    async fn cancel(
        &self,
        _auth: ApiAuth,
        /** The job's id. */
        id: Path<String>,
    ) -> CancelJobResponse {
        let result: Result<(CancelOutcome, Job), ApiError> = async {
            let id = parse_id(&id.0)?;
            let outcome = db::jobs::cancel(&self.state.pool, id).await?;
            Ok((outcome, self.read(id).await?))
        }
        .await;
        match result {
            Ok((CancelOutcome::Cancelled, job)) => CancelJobResponse::Cancelled(Json(job.into())),
            Ok((CancelOutcome::CancelRequested, job)) => {
                CancelJobResponse::CancelRequested(Json(job.into()))
            }
            Err(e) => respond(e),
        }
    }

    /// Retry a job
    ///
    /// Sends a `failed` or `cancelled` job back to `available`: its errors
    /// are kept, its result cleared, and one more attempt is allowed if it
    /// had used them all. Other states answer 409.
    #[oai(
        path = "/v1/jobs/:id/retry",
        method = "post",
        operation_id = "retry_job"
    )]
    async fn retry(
        &self,
        _auth: ApiAuth,
        /** The job's id. */
        id: Path<String>,
    ) -> RetryJobResponse {
        let result: Result<Job, ApiError> = async {
            let id = parse_id(&id.0)?;
            db::jobs::retry(&self.state.pool, id).await?;
            self.read(id).await
        }
        .await;
        match result {
            Ok(job) => RetryJobResponse::Ok(Json(job.into())),
            Err(e) => respond(e),
        }
    }
}

fn event(ty: JobEventType, job: Job) -> JobEventDto {
    let dto: JobDto = job.into();
    JobEventDto {
        ty,
        state: dto.state,
        progress: dto.progress.clone(),
        job: dto,
    }
}
