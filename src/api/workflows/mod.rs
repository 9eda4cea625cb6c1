//! `/v1/workflows`: submit, read (with `?wait`), events (SSE), list,
//! cancel. Every operation goes through [`crate::Client`].
//!
//! - `types.rs`: the workflow object, request and event bodies;
//! - `responses.rs`: each operation's answers;
//! - this file: the operations.

mod responses;
mod types;

pub use responses::*;
pub use types::*;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use poem::web::sse::Event;
use poem_openapi::OpenApi;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{EventStream, Json};

use super::jobs::JobEventType;
use super::problem::{ApiError, respond};
use super::{ApiAuth, ApiTags, AppState};
use crate::error::Error;
use crate::job::WorkflowId;
use crate::workflow::Workflow;

pub struct WorkflowsApi {
    pub state: Arc<AppState>,
}

fn parse_workflow_id(id: &str) -> Result<WorkflowId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::bad_request(format!("{id:?} is not a workflow id (expected a UUID)"))
    })
}

fn event(ty: JobEventType, wf: Workflow) -> WorkflowEventDto {
    let workflow = WorkflowDto::of(wf, true);
    WorkflowEventDto {
        ty,
        state: workflow.state,
        workflow,
    }
}

/// `state` when a job's state (or attempt) changed, else `progress`.
fn change(before: &Workflow, after: &Workflow) -> JobEventType {
    let states = |wf: &Workflow| {
        wf.jobs
            .iter()
            .map(|j| (j.state, j.attempt))
            .collect::<Vec<_>>()
    };
    if states(before) != states(after) {
        JobEventType::State
    } else {
        JobEventType::Progress
    }
}

#[OpenApi(tag = "ApiTags::Workflows")]
impl WorkflowsApi {
    /// Submit a workflow
    ///
    /// Jobs submitted together, each with a `ref` unique in the workflow,
    /// wired by `depends_on` refs: a job waits in `pending` until every
    /// job it depends on succeeded, and is cancelled when one fails or is
    /// cancelled. All jobs are enqueued or none; a duplicate ref, an
    /// unknown ref or a cycle is refused (422). Answers the workflow (201
    /// and `Location`).
    #[oai(
        path = "/v1/workflows",
        method = "post",
        operation_id = "create_workflow"
    )]
    async fn create(
        &self,
        _auth: ApiAuth,
        body: Json<CreateWorkflowRequest>,
    ) -> CreateWorkflowResponse {
        let result: Result<Workflow, ApiError> = async {
            let wf = body.0.into_new_workflow()?;
            Ok(self.state.client.create_workflow(&wf).await?)
        }
        .await;
        match result {
            Ok(wf) => {
                let location = format!("/v1/workflows/{}", wf.id);
                CreateWorkflowResponse::Created(Json(WorkflowDto::of(wf, true)), location)
            }
            Err(e) => respond(e),
        }
    }

    /// Get a workflow
    ///
    /// Its jobs, their counts per state, their summed progress and the
    /// derived state: `running` while any job is unfinished, else
    /// `succeeded` if all succeeded, else `failed`. With `wait=N`, holds
    /// the request until every job finished or N seconds pass (capped as
    /// for jobs), woken by the jobs' notifications.
    #[oai(
        path = "/v1/workflows/:id",
        method = "get",
        operation_id = "get_workflow"
    )]
    async fn get(
        &self,
        _auth: ApiAuth,
        /// The workflow's id.
        id: Path<String>,
        /// Seconds to wait for every job to finish (0 to the cap).
        #[oai(validator(minimum(value = "0"), maximum(value = "3600")))]
        wait: Query<Option<f64>>,
    ) -> GetWorkflowResponse {
        let result: Result<Workflow, ApiError> = async {
            let id = parse_workflow_id(&id.0)?;
            let wait =
                Duration::from_secs_f64(wait.0.unwrap_or(0.0)).min(self.state.config.wait_cap);
            if wait.is_zero() {
                return Ok(self.state.client.workflow(id).await?);
            }
            let _permit = self.state.follow_permit()?;
            Ok(self.state.client.wait_workflow(id, wait).await?)
        }
        .await;
        match result {
            Ok(wf) => GetWorkflowResponse::Ok(Json(WorkflowDto::of(wf, true))),
            Err(e) => respond(e),
        }
    }

    /// Follow a workflow's events
    ///
    /// Server-Sent Events: the workflow first, then one event whenever a
    /// job's state (`state`) or progress (`progress`) changed, ending once
    /// every job finished or the server's stream lifetime passed. Each
    /// event's `data` is a `WorkflowEvent` holding the whole workflow.
    #[oai(
        path = "/v1/workflows/:id/events",
        method = "get",
        operation_id = "workflow_events"
    )]
    async fn events(
        &self,
        _auth: ApiAuth,
        /** The workflow's id. */
        id: Path<String>,
    ) -> WorkflowEventsResponse {
        let first = async {
            let id = parse_workflow_id(&id.0)?;
            let permit = self.state.follow_permit()?;
            let first = self.state.client.workflow(id).await?;
            Ok::<_, ApiError>((permit, first))
        };
        let (permit, first) = match first.await {
            Ok(v) => v,
            Err(e) => return respond(e),
        };
        let state = self.state.clone();
        let rest = futures_util::stream::unfold((permit, first.clone()), move |(permit, last)| {
            let state = state.clone();
            async move {
                if last.state.is_terminal() {
                    return None;
                }
                let now = loop {
                    match state
                        .client
                        .workflow_changed(&last, Duration::from_secs(3600))
                        .await
                    {
                        Ok(now) if now != last => break now,
                        Ok(_) => continue,
                        Err(Error::WorkflowNotFound(_)) => return None,
                        Err(e) => {
                            tracing::warn!(error = %e, "reading a followed workflow failed");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                };
                let ty = change(&last, &now);
                Some((event(ty, now.clone()), (permit, now)))
            }
        });
        let stream =
            futures_util::stream::once(std::future::ready(event(JobEventType::State, first)))
                .chain(rest)
                .take_until(tokio::time::sleep(self.state.config.stream_lifetime));
        WorkflowEventsResponse::Ok(
            EventStream::new(stream.boxed())
                .keep_alive(Duration::from_secs(15))
                .to_event(|e: WorkflowEventDto| {
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

    /// List workflows
    ///
    /// Newest first, without their jobs. Keyset-paginated: pass
    /// `next_cursor` as `cursor`.
    #[oai(
        path = "/v1/workflows",
        method = "get",
        operation_id = "list_workflows"
    )]
    async fn list(
        &self,
        _auth: ApiAuth,
        /// Workflows per page, 1 to 100 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<i64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ListWorkflowsResponse {
        let result: Result<WorkflowListDto, ApiError> = async {
            let before = match cursor.0.as_deref() {
                None | Some("") => None,
                Some(c) => Some(
                    c.parse::<WorkflowId>()
                        .map_err(|_| ApiError::bad_request("cursor is not valid"))?,
                ),
            };
            let page = self
                .state
                .client
                .workflows(before, limit.0.unwrap_or(20))
                .await?;
            Ok(WorkflowListDto {
                workflows: page
                    .workflows
                    .into_iter()
                    .map(|wf| WorkflowDto::of(wf, false))
                    .collect(),
                next_cursor: page.next_cursor.map(|c| c.to_string()),
            })
        }
        .await;
        match result {
            Ok(page) => ListWorkflowsResponse::Ok(Json(page)),
            Err(e) => respond(e),
        }
    }

    /// Cancel a workflow
    ///
    /// Cancels every unfinished job: queued and pending ones at once,
    /// running ones by a cancel request (their handlers are told to stop).
    /// Answers the workflow as it is then; a finished workflow is answered
    /// unchanged.
    #[oai(
        path = "/v1/workflows/:id/cancel",
        method = "post",
        operation_id = "cancel_workflow"
    )]
    async fn cancel(
        &self,
        _auth: ApiAuth,
        /// The workflow's id.
        id: Path<String>,
    ) -> CancelWorkflowResponse {
        let result: Result<Workflow, ApiError> = async {
            let id = parse_workflow_id(&id.0)?;
            Ok(self.state.client.cancel_workflow(id).await?)
        }
        .await;
        match result {
            Ok(wf) => CancelWorkflowResponse::Ok(Json(WorkflowDto::of(wf, true))),
            Err(e) => respond(e),
        }
    }
}
