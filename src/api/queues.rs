//! `/v1/queues` and `/v1/workers`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::problem::{ApiError, Problem, problem_response, respond};
use super::{ApiAuth, ApiTags, AppState};
use crate::client::QueueStats;
use crate::flow::{QueueLimits, RateLimit};

/// Jobs of a queue in each state.
#[derive(Debug, Clone, Object)]
#[oai(rename = "StateCounts", rename_all = "snake_case")]
pub struct StateCountsDto {
    pub pending: i64,
    pub scheduled: i64,
    pub available: i64,
    pub running: i64,
    pub retryable: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
}

/// A queue and what is in it.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Queue", rename_all = "snake_case")]
pub struct QueueDto {
    pub name: String,
    /// Paused queues are not claimed from, on any node.
    pub paused: bool,
    pub counts: StateCountsDto,
    /// Age of the oldest available job, in seconds.
    #[oai(skip_serializing_if_is_none)]
    pub oldest_available_age_seconds: Option<f64>,
    /// Kinds with jobs waiting here that no live worker serves on this queue.
    pub unserved_kinds: Vec<String>,
    /// At most this many jobs of the queue run at once, across every node.
    #[oai(skip_serializing_if_is_none)]
    pub max_running: Option<i32>,
    /// At most this many jobs of one `concurrency_key` run at once.
    #[oai(skip_serializing_if_is_none)]
    pub max_running_per_key: Option<i32>,
    /// At most this many claims (attempt starts) in any window of `rate_period`.
    #[oai(skip_serializing_if_is_none)]
    pub rate_limit: Option<i32>,
    /// The window of `rate_limit`, in seconds.
    #[oai(skip_serializing_if_is_none)]
    pub rate_period: Option<f64>,
}

/// Changes to a queue's limits: a field left out keeps its limit, `null`
/// removes it, a number sets it. `rate_limit` and `rate_period` go
/// together.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "QueueLimitsPatch",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub struct QueueLimitsPatch {
    /// Jobs of the queue running at once, across every node.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
    pub max_running: MaybeUndefined<i32>,
    /// Jobs of one `concurrency_key` running at once.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
    pub max_running_per_key: MaybeUndefined<i32>,
    /// Claims (attempt starts) in any window of `rate_period`.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
    pub rate_limit: MaybeUndefined<i32>,
    /// The window of `rate_limit`, in seconds (0.001 to 2678400, i.e. 31 days).
    #[oai(validator(minimum(value = "0.001"), maximum(value = "2678400")))]
    pub rate_period: MaybeUndefined<f64>,
}

impl QueueLimitsPatch {
    /// `current` with the patch applied.
    fn apply(&self, current: QueueLimits) -> Result<QueueLimits, ApiError> {
        fn merged<T: Copy>(patch: &MaybeUndefined<T>, current: Option<T>) -> Option<T> {
            match patch {
                MaybeUndefined::Undefined => current,
                MaybeUndefined::Null => None,
                MaybeUndefined::Value(v) => Some(*v),
            }
        }
        let rate = match (
            merged(&self.rate_limit, current.rate.map(|r| r.limit)),
            merged(
                &self.rate_period,
                current.rate.map(|r| r.period.as_secs_f64()),
            ),
        ) {
            (None, None) => None,
            (Some(limit), Some(secs)) if secs > 0.0 && secs <= 2_678_400.0 => Some(RateLimit {
                limit,
                period: Duration::from_secs_f64(secs),
            }),
            (Some(_), Some(_)) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "rate_period must be more than 0 and at most 31 days (2678400 s)",
                ));
            }
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "rate_limit and rate_period go together: set both, or null both",
                ));
            }
        };
        Ok(QueueLimits {
            max_running: merged(&self.max_running, current.max_running),
            max_running_per_key: merged(&self.max_running_per_key, current.max_running_per_key),
            rate,
        })
    }
}

/// Every known queue.
#[derive(Debug, Clone, Object)]
#[oai(rename = "QueueList", rename_all = "snake_case")]
pub struct QueueListDto {
    pub queues: Vec<QueueDto>,
}

/// A live worker node.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Worker", rename_all = "snake_case")]
pub struct WorkerDto {
    pub id: Uuid,
    pub host: String,
    pub pid: i32,
    /// Queues served, with their concurrency.
    pub queues: serde_json::Value,
    /// Kinds it has handlers for.
    pub kinds: Vec<String>,
    /// Attempts running on it at its last heartbeat.
    pub running: i32,
    pub started_at: DateTime<Utc>,
    pub last_heartbeat: DateTime<Utc>,
}

/// Every live worker node.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WorkerList", rename_all = "snake_case")]
pub struct WorkerListDto {
    pub workers: Vec<WorkerDto>,
}

/// Answers of `GET /v1/queues`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum ListQueuesResponse {
    /// Every queue.
    #[oai(status = 200)]
    Ok(Json<QueueListDto>),
    /// Missing or wrong token (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(ListQueuesResponse);

/// Answers of `POST /v1/queues/{name}/pause` and `/resume`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum QueueActionResponse {
    /// The queue as it is now.
    #[oai(status = 200)]
    Ok(Json<QueueDto>),
    /// Invalid queue name (400); auth (401); a cross-site request from a browser without a token (403).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(QueueActionResponse);

/// Answers of `GET /v1/workers`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum ListWorkersResponse {
    /// Every live worker node.
    #[oai(status = 200)]
    Ok(Json<WorkerListDto>),
    /// Missing or wrong token (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(ListWorkersResponse);

fn to_dto(s: QueueStats) -> QueueDto {
    QueueDto {
        name: s.queue,
        paused: s.paused,
        counts: StateCountsDto {
            pending: s.pending,
            scheduled: s.scheduled,
            available: s.available,
            running: s.running,
            retryable: s.retryable,
            succeeded: s.succeeded,
            failed: s.failed,
            cancelled: s.cancelled,
        },
        oldest_available_age_seconds: s.oldest_available_age_seconds,
        unserved_kinds: s.unserved_kinds,
        max_running: s.max_running,
        max_running_per_key: s.max_running_per_key,
        rate_limit: s.rate_limit,
        rate_period: s.rate_period_seconds,
    }
}

fn valid_queue(name: &str) -> Result<(), ApiError> {
    if crate::job::is_valid_queue_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "queue names are 1 to 128 letters, digits, '_', '.', ':' or '-'",
        ))
    }
}

pub struct QueuesApi {
    pub state: Arc<AppState>,
}

#[OpenApi(tag = "ApiTags::Queues")]
impl QueuesApi {
    /// List queues
    ///
    /// Every queue that has jobs, settings or workers: paused or not,
    /// jobs per state, age of the oldest available job, and kinds waiting
    /// with no live worker to serve them.
    #[oai(path = "/v1/queues", method = "get", operation_id = "list_queues")]
    async fn list(&self, _auth: ApiAuth) -> ListQueuesResponse {
        match self.state.client.queues().await {
            Ok(stats) => ListQueuesResponse::Ok(Json(QueueListDto {
                queues: stats.into_iter().map(to_dto).collect(),
            })),
            Err(e) => respond(e),
        }
    }

    /// Pause a queue
    ///
    /// No node claims from it until it is resumed; running jobs go on.
    #[oai(
        path = "/v1/queues/:name/pause",
        method = "post",
        operation_id = "pause_queue"
    )]
    async fn pause(
        &self,
        _auth: ApiAuth,
        /** The queue's name. */
        name: Path<String>,
    ) -> QueueActionResponse {
        let result = async {
            valid_queue(&name.0)?;
            Ok::<_, ApiError>(to_dto(self.state.client.pause_queue(&name.0).await?))
        }
        .await;
        match result {
            Ok(q) => QueueActionResponse::Ok(Json(q)),
            Err(e) => respond(e),
        }
    }

    /// Set a queue's limits
    ///
    /// Flow control across every node: `max_running`,
    /// `max_running_per_key` (jobs carry a `concurrency_key`), and
    /// `rate_limit` claims per `rate_period` seconds. A field left out
    /// keeps its limit, `null` removes it. Claims committed after the
    /// answer honour the new limits.
    #[oai(
        path = "/v1/queues/:name",
        method = "patch",
        operation_id = "set_queue_limits"
    )]
    async fn set_limits(
        &self,
        _auth: ApiAuth,
        /** The queue's name. */
        name: Path<String>,
        body: Json<QueueLimitsPatch>,
    ) -> QueueActionResponse {
        let result = async {
            valid_queue(&name.0)?;
            let current = self.state.client.queue(&name.0).await?.limits();
            let limits = body.0.apply(current)?;
            let stats = self.state.client.set_queue_limits(&name.0, &limits).await?;
            Ok::<_, ApiError>(to_dto(stats))
        }
        .await;
        match result {
            Ok(q) => QueueActionResponse::Ok(Json(q)),
            Err(e) => respond(e),
        }
    }

    /// Resume a queue
    ///
    /// Claiming starts again at once on every node serving it.
    #[oai(
        path = "/v1/queues/:name/resume",
        method = "post",
        operation_id = "resume_queue"
    )]
    async fn resume(
        &self,
        _auth: ApiAuth,
        /** The queue's name. */
        name: Path<String>,
    ) -> QueueActionResponse {
        let result = async {
            valid_queue(&name.0)?;
            Ok::<_, ApiError>(to_dto(self.state.client.resume_queue(&name.0).await?))
        }
        .await;
        match result {
            Ok(q) => QueueActionResponse::Ok(Json(q)),
            Err(e) => respond(e),
        }
    }
}
