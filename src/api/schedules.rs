//! `/v1/schedules`: cron schedules (list, set, read, delete).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use uuid::Uuid;

use super::problem::{ApiError, Problem, problem_response, respond};
use super::string_types::{QueueName, TaskKind};
use super::{ApiAuth, ApiTags, AppState};
use crate::client::{NewSchedule, Schedule};
use crate::cron::CatchUp;
use crate::error::Error;

/// What a schedule does with ticks missed while no node ran: enqueue the
/// latest of them (`latest`, the default) or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "CatchUp", rename_all = "lowercase")]
pub enum CatchUpDto {
    /// Enqueue the latest missed tick.
    Latest,
    /// Enqueue none.
    None,
}

/// A schedule to create or replace. `cron` and `kind` are required.
#[derive(Debug, Clone, Object)]
#[oai(
    rename = "ScheduleRequest",
    rename_all = "snake_case",
    deny_unknown_fields,
    example
)]
pub struct ScheduleRequest {
    /// 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first).
    #[oai(validator(min_length = 1, max_length = 255))]
    pub cron: String,
    /// The kind of job each tick enqueues.
    #[oai(validator(min_length = 1, max_length = 255))]
    pub kind: TaskKind,
    /// The jobs' arguments: a JSON object (default `{}`).
    pub args: Option<serde_json::Value>,
    /// IANA time zone the expression is read in (default `UTC`).
    #[oai(validator(min_length = 1, max_length = 64))]
    pub timezone: Option<String>,
    /// The jobs' queue (default `default`).
    pub queue: Option<QueueName>,
    /// The jobs' priority (default 0).
    pub priority: Option<i16>,
    /// The jobs' attempts allowed (default 20).
    #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
    pub max_attempts: Option<i32>,
    /// The jobs' per-attempt timeout in seconds.
    #[oai(validator(minimum(value = "1"), maximum(value = "604800")))]
    pub timeout_seconds: Option<i32>,
    /// A paused schedule enqueues nothing (default false).
    pub paused: Option<bool>,
    /// Ticks missed while no node ran: `latest` (default) or `none`.
    pub catch_up: Option<CatchUpDto>,
}

impl poem_openapi::types::Example for ScheduleRequest {
    fn example() -> Self {
        ScheduleRequest {
            cron: "*/5 * * * *".into(),
            kind: TaskKind("demo.sleep".into()),
            args: Some(serde_json::json!({"ms": 100})),
            timezone: Some("Europe/Berlin".into()),
            queue: None,
            priority: None,
            max_attempts: None,
            timeout_seconds: None,
            paused: None,
            catch_up: None,
        }
    }
}

/// A schedule, with its next tick.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Schedule", rename_all = "snake_case")]
pub struct ScheduleDto {
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub kind: String,
    pub args: serde_json::Value,
    pub queue: String,
    pub priority: i16,
    #[oai(skip_serializing_if_is_none)]
    pub max_attempts: Option<i32>,
    #[oai(skip_serializing_if_is_none)]
    pub timeout_seconds: Option<i32>,
    pub paused: bool,
    pub catch_up: CatchUpDto,
    /// The next tick; absent until the scheduler has read a new or
    /// changed expression (within a second or so), or when `error` says
    /// it cannot.
    #[oai(skip_serializing_if_is_none)]
    pub next_run_at: Option<DateTime<Utc>>,
    /// When a tick was last enqueued.
    #[oai(skip_serializing_if_is_none)]
    pub last_enqueued_at: Option<DateTime<Utc>>,
    /// The job the last tick enqueued.
    #[oai(skip_serializing_if_is_none)]
    pub last_job_id: Option<Uuid>,
    /// Why the scheduler cannot compute the next tick.
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every schedule, by name.
#[derive(Debug, Clone, Object)]
#[oai(rename = "ScheduleList", rename_all = "snake_case")]
pub struct ScheduleListDto {
    pub schedules: Vec<ScheduleDto>,
}

fn to_dto(s: Schedule) -> ScheduleDto {
    ScheduleDto {
        catch_up: if s.catch_up == "none" {
            CatchUpDto::None
        } else {
            CatchUpDto::Latest
        },
        name: s.name,
        cron: s.cron,
        timezone: s.timezone,
        kind: s.kind,
        args: s.args,
        queue: s.queue,
        priority: s.priority,
        max_attempts: s.max_attempts,
        timeout_seconds: s.timeout_seconds,
        paused: s.paused,
        next_run_at: s.next_run_at,
        last_enqueued_at: s.last_enqueued_at,
        last_job_id: s.last_job_id,
        error: s.error,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

/// Answers of `GET /v1/schedules`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum ListSchedulesResponse {
    /// Every schedule.
    #[oai(status = 200)]
    Ok(Json<ScheduleListDto>),
    /// Missing or wrong token (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(ListSchedulesResponse);

/// Answers of `PUT` and `GET /v1/schedules/{name}`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum ScheduleResponse {
    /// The schedule as it is now.
    #[oai(status = 200)]
    Ok(Json<ScheduleDto>),
    /// Invalid name (400); auth (401); a cross-site request (403); no such schedule (404); a bad cron expression, time zone or job field (422).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(ScheduleResponse);

/// Answers of `DELETE /v1/schedules/{name}`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "super::problem::bad_request")]
pub enum DeleteScheduleResponse {
    /// Deleted (the jobs it enqueued stay).
    #[oai(status = 204)]
    Deleted,
    /// Invalid name (400); auth (401); a cross-site request (403); no such schedule (404).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(DeleteScheduleResponse);

fn valid_name(name: &str) -> Result<(), ApiError> {
    if crate::job::is_valid_queue_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "schedule names are 1 to 128 letters, digits, '_', '.', ':' or '-'",
        ))
    }
}

/// A bad value of the schedule (cron, time zone, a job field) is the
/// body's fault: 422, as for a bad job.
fn invalid_body(e: Error) -> ApiError {
    match e {
        Error::InvalidArgument(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m),
        other => other.into(),
    }
}

impl ScheduleRequest {
    fn into_new_schedule(self, name: String) -> Result<NewSchedule, ApiError> {
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
        let mut s = NewSchedule::new(name, self.cron, self.kind.0)
            .args(args)
            .paused(self.paused.unwrap_or(false))
            .catch_up(match self.catch_up {
                Some(CatchUpDto::None) => CatchUp::None,
                _ => CatchUp::Latest,
            });
        if let Some(tz) = self.timezone {
            s = s.timezone(tz);
        }
        if let Some(q) = self.queue {
            s = s.queue(q.0);
        }
        if let Some(p) = self.priority {
            s = s.priority(p);
        }
        s.max_attempts = self.max_attempts;
        s.timeout_seconds = self.timeout_seconds;
        s.validate().map_err(invalid_body)?;
        Ok(s)
    }
}

pub struct SchedulesApi {
    pub state: Arc<AppState>,
}

#[OpenApi(tag = "ApiTags::Schedules")]
impl SchedulesApi {
    /// List schedules
    ///
    /// Every cron schedule, by name, with its next tick.
    #[oai(
        path = "/v1/schedules",
        method = "get",
        operation_id = "list_schedules"
    )]
    async fn list(&self, _auth: ApiAuth) -> ListSchedulesResponse {
        match self.state.client.schedules().await {
            Ok(all) => ListSchedulesResponse::Ok(Json(ScheduleListDto {
                schedules: all.into_iter().map(to_dto).collect(),
            })),
            Err(e) => respond(e),
        }
    }

    /// Create or replace a schedule
    ///
    /// Every tick of `cron` (in `timezone`) enqueues one job of `kind`,
    /// exactly once however many nodes run; its `unique_key` is
    /// `schedule:<name>:<tick>`. The next tick is kept when neither the
    /// expression, the time zone nor a pause changed.
    #[oai(
        path = "/v1/schedules/:name",
        method = "put",
        operation_id = "set_schedule"
    )]
    async fn set(
        &self,
        _auth: ApiAuth,
        /** The schedule's name. */
        name: Path<String>,
        body: Json<ScheduleRequest>,
    ) -> ScheduleResponse {
        let result = async {
            valid_name(&name.0)?;
            let schedule = body.0.into_new_schedule(name.0)?;
            let set = self.state.client.set_schedule(&schedule).await;
            Ok::<_, ApiError>(to_dto(set.map_err(invalid_body)?))
        }
        .await;
        match result {
            Ok(s) => ScheduleResponse::Ok(Json(s)),
            Err(e) => respond(e),
        }
    }

    /// Read a schedule
    #[oai(
        path = "/v1/schedules/:name",
        method = "get",
        operation_id = "get_schedule"
    )]
    async fn get(
        &self,
        _auth: ApiAuth,
        /** The schedule's name. */
        name: Path<String>,
    ) -> ScheduleResponse {
        let result = async {
            valid_name(&name.0)?;
            Ok::<_, ApiError>(to_dto(self.state.client.schedule(&name.0).await?))
        }
        .await;
        match result {
            Ok(s) => ScheduleResponse::Ok(Json(s)),
            Err(e) => respond(e),
        }
    }

    /// Delete a schedule
    ///
    /// Jobs it already enqueued stay.
    #[oai(
        path = "/v1/schedules/:name",
        method = "delete",
        operation_id = "delete_schedule"
    )]
    async fn delete(
        &self,
        _auth: ApiAuth,
        /** The schedule's name. */
        name: Path<String>,
    ) -> DeleteScheduleResponse {
        let result = async {
            valid_name(&name.0)?;
            Ok::<_, ApiError>(self.state.client.delete_schedule(&name.0).await?)
        }
        .await;
        match result {
            Ok(()) => DeleteScheduleResponse::Deleted,
            Err(e) => respond(e),
        }
    }
}
