//! The answers of each `/v1/workflows` operation, with every status it
//! can give.

// Response enums are built once per request and moved straight into the
// response: boxing the workflow would buy nothing.
#![allow(clippy::large_enum_variant)]

use futures_util::stream::BoxStream;
use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::payload::{EventStream, Json};

use super::types::*;
use crate::api::problem::{Problem, problem_response};

/// Answers of `POST /v1/workflows`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum CreateWorkflowResponse {
    /// The workflow was created, with its jobs.
    #[oai(status = 201)]
    Created(Json<WorkflowDto>, #[oai(header = "Location")] String),
    /// A duplicate ref, an unknown ref, a cycle, or an invalid job; nothing
    /// was enqueued.
    #[oai(status = 422, content_type = "application/problem+json")]
    Invalid(Json<Problem>),
    /// Malformed JSON, wrong types, unknown fields, more than 1,000 jobs (400); auth (401); cross-site (403); size (413).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(CreateWorkflowResponse, UNPROCESSABLE_ENTITY => Invalid);

/// Answers of `GET /v1/workflows/{id}`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum GetWorkflowResponse {
    /// The workflow (with `?wait`: once every job finished, or as it is
    /// when the wait ends).
    #[oai(status = 200)]
    Ok(Json<WorkflowDto>),
    /// No workflow has this id.
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
    /// An internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(GetWorkflowResponse, NOT_FOUND => NotFound; busy => Busy);

type EventStreamBody = EventStream<BoxStream<'static, WorkflowEventDto>>;

/// Answers of `GET /v1/workflows/{id}/events`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum WorkflowEventsResponse {
    /// A stream of `WorkflowEvent`s: the workflow first, then one per
    /// change of a job's state or progress, ending once every job finished.
    #[oai(status = 200)]
    Ok(EventStreamBody),
    /// No workflow has this id.
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
    /// An internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(WorkflowEventsResponse, NOT_FOUND => NotFound; busy => Busy);

/// Answers of `GET /v1/workflows`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum ListWorkflowsResponse {
    /// A page of workflows, newest first (without their jobs).
    #[oai(status = 200)]
    Ok(Json<WorkflowListDto>),
    /// Bad limit or cursor (400); auth (401).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(ListWorkflowsResponse);

/// Answers of `POST /v1/workflows/{id}/cancel`.
#[derive(ApiResponse)]
#[oai(bad_request_handler = "crate::api::problem::bad_request")]
pub enum CancelWorkflowResponse {
    /// Every unfinished job is cancelled (running ones: their handlers are
    /// told to stop); the workflow as it is now.
    #[oai(status = 200)]
    Ok(Json<WorkflowDto>),
    /// No workflow has this id.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// Malformed id (400); auth (401); a cross-site request from a browser without a token (403).
    #[oai(status_range = "4XX", content_type = "application/problem+json")]
    ClientError(StatusCode, Json<Problem>),
    /// The database is unavailable (503) or an internal error (500).
    #[oai(status_range = "5XX", content_type = "application/problem+json")]
    ServerError(StatusCode, Json<Problem>),
}
problem_response!(CancelWorkflowResponse, NOT_FOUND => NotFound);
