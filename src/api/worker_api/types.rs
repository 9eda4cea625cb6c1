//! The bodies and answers of the worker API.

// Response enums are built once per request and moved straight into the
// response: boxing them would buy nothing.
#![allow(clippy::large_enum_variant)]

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use uuid::Uuid;

use crate::api::problem::{Problem, problem_response};
use crate::api::string_types::{QueueName, StrictString, TaskKind};
use crate::client::ExternalClaim;

/// How often an external worker should heartbeat, in seconds.
pub const HEARTBEAT_INTERVAL_SECS: u64 = 5;

/// A worker node to register.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "RegisterWorker",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct RegisterWorkerRequest {
    /// A label for the node: its host or process, shown in `GET /v1/workers`.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub name: StrictString,
    /// Queues it serves.
    #[oai(validator(min_items = 1, max_items = 100))]
    pub queues: Vec<QueueName>,
    /// Kinds it has handlers for.
    #[oai(validator(min_items = 1, max_items = 1000))]
    pub kinds: Vec<TaskKind>,
}

/// A registered worker node and how to keep it alive.
#[derive(Debug, Clone, Object)]
#[oai(rename = "RegisteredWorker", rename_all = "snake_case")]
pub struct RegisteredWorkerDto {
    /// The node's id: pass it to heartbeat, claim and unregister.
    pub id: Uuid,
    /// Heartbeat at least this often, in seconds.
    pub heartbeat_interval_seconds: u64,
    /// A node whose last heartbeat is older than this is declared dead and
    /// its jobs are rescued, in seconds.
    pub dead_after_seconds: u64,
}

/// What a heartbeat answers.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Heartbeat", rename_all = "snake_case")]
pub struct HeartbeatDto {
    /// Running jobs of this node whose cancel was requested: stop their
    /// handlers and report them with `/fail` (they end `cancelled`).
    pub cancel_requested: Vec<Uuid>,
}

/// What to claim.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "ClaimRequest",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct ClaimRequest {
    /// The queue to claim from.
    pub queue: QueueName,
    /// Kinds to claim (those this worker has handlers for).
    #[oai(validator(min_items = 1, max_items = 1000))]
    pub kinds: Vec<TaskKind>,
    /// Most jobs to claim, 1 to 1000 (default 1). Claim no more than you
    /// can start now: claimed jobs are `running` and count against their
    /// timeout.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
    pub max: Option<i32>,
    /// Seconds to wait for a job when none is available (0 to the server's
    /// cap, 60 s by default; default 0): a long-poll woken by NOTIFY.
    #[oai(validator(minimum(value = "0"), maximum(value = "3600")))]
    pub wait: Option<f64>,
}

/// A claimed job: run it, then report with its `claim_token`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "ClaimedJob", rename_all = "snake_case")]
pub struct ClaimedJobDto {
    pub id: Uuid,
    pub kind: String,
    pub args: serde_json::Value,
    /// This attempt's number (1 for the first).
    pub attempt: i32,
    /// Pass it to every report about this attempt.
    pub claim_token: Uuid,
    /// The attempt is taken back (and retried) after this.
    pub deadline: DateTime<Utc>,
    /// Results of the jobs this one depends on.
    pub parents: serde_json::Value,
    /// W3C trace context of the enqueue: make the attempt's span its
    /// child. Absent when the job has none.
    #[oai(skip_serializing_if_is_none)]
    pub traceparent: Option<String>,
}

impl From<ExternalClaim> for ClaimedJobDto {
    fn from(c: ExternalClaim) -> Self {
        ClaimedJobDto {
            id: c.id.0,
            kind: c.kind,
            args: c.args,
            attempt: c.attempt,
            claim_token: c.claim_token.0,
            deadline: c.deadline,
            parents: c.parents,
            traceparent: c.traceparent,
        }
    }
}

/// The jobs a claim took (none when nothing came within `wait`).
#[derive(Debug, Clone, Object)]
#[oai(rename = "ClaimedJobs", rename_all = "snake_case")]
pub struct ClaimedJobsDto {
    pub jobs: Vec<ClaimedJobDto>,
}

/// A successful attempt.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "CompleteRequest",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct CompleteRequest {
    pub claim_token: Uuid,
    /// The handler's result (any JSON value).
    pub result: Option<serde_json::Value>,
}

/// One success of a batch.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "CompletedJob",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct CompletedJob {
    pub id: Uuid,
    pub claim_token: Uuid,
    /// The handler's result (any JSON value).
    pub result: Option<serde_json::Value>,
}

/// Many successes, recorded in one statement.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "CompleteBatchRequest",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct CompleteBatchRequest {
    #[oai(validator(min_items = 1, max_items = 1000))]
    pub jobs: Vec<CompletedJob>,
}

/// Which successes of a batch were recorded.
#[derive(Debug, Clone, Object)]
#[oai(rename = "CompletedBatch", rename_all = "snake_case")]
pub struct CompletedBatchDto {
    /// Recorded: these jobs are `succeeded`.
    pub recorded: Vec<Uuid>,
    /// Not recorded: their claim token was stale (rescued, re-claimed,
    /// cancelled or finished); drop those attempts.
    pub stale: Vec<Uuid>,
}

/// A failed attempt.
#[derive(Debug, Clone, Object)]
#[oai(rename = "FailRequest", rename_all = "snake_case", deny_unknown_fields)]
pub struct FailRequest {
    pub claim_token: Uuid,
    /// What went wrong, kept in the job's `errors`.
    #[oai(validator(max_length = 10000))]
    pub message: StrictString,
    /// False: fail the job now, whatever attempts are left (default true).
    pub retryable: Option<bool>,
}

/// "Not now": try again later without spending the attempt.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "SnoozeRequest",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct SnoozeRequest {
    pub claim_token: Uuid,
    /// Seconds from now until the job is available again (0 to 31536000).
    #[oai(validator(minimum(value = "0"), maximum(value = "31536000")))]
    pub seconds: f64,
}

/// A progress report.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "ProgressRequest",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct ProgressRequest {
    pub claim_token: Uuid,
    pub done: Option<i64>,
    pub total: Option<i64>,
    #[oai(validator(max_length = 10000))]
    pub message: Option<StrictString>,
}

/// A report was recorded.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Recorded", rename_all = "snake_case")]
pub struct RecordedDto {
    pub recorded: bool,
}

/// An unregistered node.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Unregistered", rename_all = "snake_case")]
pub struct UnregisteredDto {
    /// Running jobs it held, now back in their queue (attempt not spent).
    pub handed_back: i32,
}

/// Answers of `POST /v1/workers`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum RegisterWorkerResponse {
    /// Registered.
    #[oai(status = 201)]
    Created(Json<RegisteredWorkerDto>),
    /// Invalid body (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(RegisterWorkerResponse);

/// Answers of `POST /v1/workers/{node}/heartbeat`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum HeartbeatResponse {
    /// The heartbeat was stamped.
    #[oai(status = 200)]
    Ok(Json<HeartbeatDto>),
    /// The node is not registered (declared dead or unregistered): register again.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Malformed id (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(HeartbeatResponse, NOT_FOUND => NotFound);

/// Answers of `POST /v1/workers/{node}/claim`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum ClaimResponse {
    /// The claimed jobs (possibly none).
    #[oai(status = 200)]
    Ok(Json<ClaimedJobsDto>),
    /// The node is not registered (declared dead or unregistered): register again.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Invalid body or id (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(ClaimResponse, NOT_FOUND => NotFound);

/// Answers of the reports about a claimed job (complete, fail, snooze, progress).
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum ReportResponse {
    /// Recorded.
    #[oai(status = 200)]
    Ok(Json<RecordedDto>),
    /// The claim token is stale (the job was rescued, re-claimed, cancelled
    /// or finished) or the job is unknown: nothing changed; drop the attempt.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// Invalid body or id (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(ReportResponse, CONFLICT => Conflict);

/// Answers of `POST /v1/jobs/complete`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum CompleteBatchResponse {
    /// Which were recorded and which were stale.
    #[oai(status = 200)]
    Ok(Json<CompletedBatchDto>),
    /// Invalid body (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(CompleteBatchResponse);

/// Answers of `DELETE /v1/workers/{node}`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum UnregisterWorkerResponse {
    /// The node is gone; its running jobs went back to their queues.
    #[oai(status = 200)]
    Ok(Json<UnregisteredDto>),
    /// Malformed id (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(UnregisterWorkerResponse);
