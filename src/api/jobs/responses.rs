//! The answers of each `/v1/jobs` operation, with every status it can give.

// Response enums are built once per request and moved straight into the
// response: boxing the job would buy nothing.
#![allow(clippy::large_enum_variant)]

use futures_util::stream::BoxStream;
use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::payload::{EventStream, Json};

use super::types::*;
use crate::api::problem::{Problem, problem_response};

/// Answers of `POST /v1/jobs`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum EnqueueResponse {
    /// The job was created.
    #[oai(status = 201)]
    Created(Json<JobDto>, #[oai(header = "Location")] String),
    /// A live job already holds the `unique_key`, or the `Idempotency-Key`
    /// was used within 24 h: that job.
    #[oai(status = 200)]
    Existing(Json<JobDto>),
    /// Invalid values (e.g. `args` not an object, both `run_at` and
    /// `delay_seconds`), or an `Idempotency-Key` this caller already used
    /// with another body.
    #[oai(status = 422, content_type = "application/problem+json")]
    Invalid(Json<Problem>),
    /// Malformed JSON, wrong types, unknown fields (400); missing or wrong token (401); a cross-site request from a browser without a token (403); body over the limit (413).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(EnqueueResponse, UNPROCESSABLE_ENTITY => Invalid);

/// Answers of `POST /v1/jobs/batch`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum EnqueueBatchResponse {
    /// Every job, in input order (existing ones for live `unique_key`s).
    #[oai(status = 201)]
    Created(Json<JobBatchDto>),
    /// A job of the batch is invalid; nothing was enqueued.
    #[oai(status = 422, content_type = "application/problem+json")]
    Invalid(Json<Problem>),
    /// Malformed JSON, wrong types, unknown fields, more than 1,000 jobs (400); auth (401); cross-site (403); size (413).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(EnqueueBatchResponse, UNPROCESSABLE_ENTITY => Invalid);

/// Answers of `GET /v1/jobs/{id}`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
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
    /// The web node already follows as many jobs as it may for its
    /// clients, or the database is unavailable: retry after `Retry-After`
    /// seconds.
    #[oai(status = 503, content_type = "application/problem+json")]
    Busy(Json<Problem>, #[oai(header = "Retry-After")] u64),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(GetJobResponse, NOT_FOUND => NotFound; busy => Busy);

type EventStreamBody = EventStream<BoxStream<'static, JobEventDto>>;

/// Answers of `GET /v1/jobs/{id}/events`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
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
    /// The web node already follows as many jobs as it may for its
    /// clients, or the database is unavailable: retry after `Retry-After`
    /// seconds.
    #[oai(status = 503, content_type = "application/problem+json")]
    Busy(Json<Problem>, #[oai(header = "Retry-After")] u64),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(JobEventsResponse, NOT_FOUND => NotFound; busy => Busy);

/// Answers of `GET /v1/jobs`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
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
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
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
    /// Malformed id (400); auth (401); a cross-site request from a browser without a token (403).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(CancelJobResponse, NOT_FOUND => NotFound, CONFLICT => Conflict);

/// Answers of `POST /v1/jobs/{id}/retry`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
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
    /// Malformed id (400); auth (401); a cross-site request from a browser without a token (403).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(RetryJobResponse, NOT_FOUND => NotFound, CONFLICT => Conflict);
