//! The answer of `GET /v1/jobs/{id}/explain`: why a job is not running.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object};
use uuid::Uuid;

use crate::api::problem::{Problem, problem_response};
use crate::flow::Explanation;

/// Why a job is not running (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "ExplainReason", rename_all = "snake_case")]
pub enum ReasonDto {
    Scheduled,
    RetryBackoff,
    WaitingOnDependencies,
    QueuePaused,
    NoWorkerForKind,
    QueueConcurrencyLimit,
    KeyConcurrencyLimit,
    RateLimited,
    QueuedBehind,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// One reason and its details; which fields are present depends on it.
#[derive(Debug, Clone, Object)]
#[oai(rename = "JobExplanation", rename_all = "snake_case")]
pub struct ExplanationDto {
    pub reason: ReasonDto,
    /// The job's state.
    pub state: String,
    #[oai(skip_serializing_if_is_none)]
    pub queue: Option<String>,
    /// The kind no live worker serves (`no_worker_for_kind`).
    #[oai(skip_serializing_if_is_none)]
    pub kind: Option<String>,
    /// When the job may run (`scheduled`, `retry_backoff`), or when the
    /// rate window allows the next start (`rate_limited`).
    #[oai(skip_serializing_if_is_none)]
    pub until: Option<DateTime<Utc>>,
    /// The job's concurrency key (`key_concurrency_limit`).
    #[oai(skip_serializing_if_is_none)]
    pub key: Option<String>,
    /// Jobs running now (`queue_concurrency_limit`, `key_concurrency_limit`).
    #[oai(skip_serializing_if_is_none)]
    pub running: Option<i64>,
    /// Starts in the current window (`rate_limited`).
    #[oai(skip_serializing_if_is_none)]
    pub started: Option<i64>,
    /// The limit reached.
    #[oai(skip_serializing_if_is_none)]
    pub max: Option<i64>,
    /// Available jobs of higher or equal priority ahead of it (`queued_behind`).
    #[oai(skip_serializing_if_is_none)]
    pub ahead: Option<i64>,
    /// The unfinished jobs it depends on (`waiting_on_dependencies`).
    #[oai(skip_serializing_if_is_none)]
    pub waiting_on: Option<Vec<Uuid>>,
    /// The node running it (`running`).
    #[oai(skip_serializing_if_is_none)]
    pub node_id: Option<Uuid>,
    #[oai(skip_serializing_if_is_none)]
    pub started_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub deadline: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<Explanation> for ExplanationDto {
    type Error = crate::error::Error;
    fn try_from(e: Explanation) -> crate::error::Result<Self> {
        let reason = ReasonDto::parse(&e.reason).ok_or_else(|| {
            crate::error::Error::Config(format!("unknown explain reason {:?}", e.reason))
        })?;
        Ok(ExplanationDto {
            reason,
            state: e.state,
            queue: e.queue,
            kind: e.kind,
            until: e.until,
            key: e.key,
            running: e.running,
            started: e.started,
            max: e.max,
            ahead: e.ahead,
            waiting_on: e.waiting_on,
            node_id: e.node_id,
            started_at: e.started_at,
            deadline: e.deadline,
            finished_at: e.finished_at,
        })
    }
}

impl ReasonDto {
    /// The reason as `weir.explain_job` spells it.
    fn parse(reason: &str) -> Option<Self> {
        use ReasonDto::*;
        Some(match reason {
            "scheduled" => Scheduled,
            "retry_backoff" => RetryBackoff,
            "waiting_on_dependencies" => WaitingOnDependencies,
            "queue_paused" => QueuePaused,
            "no_worker_for_kind" => NoWorkerForKind,
            "queue_concurrency_limit" => QueueConcurrencyLimit,
            "key_concurrency_limit" => KeyConcurrencyLimit,
            "rate_limited" => RateLimited,
            "queued_behind" => QueuedBehind,
            "running" => Running,
            "succeeded" => Succeeded,
            "failed" => Failed,
            "cancelled" => Cancelled,
            _ => return None,
        })
    }
}

/// Answers of `GET /v1/jobs/{id}/explain`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum ExplainJobResponse {
    /// Why the job is not running, or that it is, or how it ended.
    #[oai(status = 200)]
    Ok(Json<ExplanationDto>),
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
problem_response!(ExplainJobResponse, NOT_FOUND => NotFound);
