//! `/v1/jobs`: enqueue (one, batch), read (with `?wait`), events (SSE),
//! list, cancel, retry. Every operation goes through [`crate::Client`].
//!
//! - `types.rs`: the job object, request and event bodies;
//! - `responses.rs`: each operation's answers;
//! - `list.rs`: what a page of the list holds;
//! - `explain.rs`: the answer of `explain`;
//! - this file: the operations.

mod explain;
mod list;
mod responses;
mod types;

pub use explain::*;
use list::Include;
pub use responses::*;
pub use types::*;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use poem::web::sse::Event;
use poem_openapi::OpenApi;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{EventStream, Json};
use tracing::Instrument;
use uuid::Uuid;

use super::problem::{ApiError, respond};
use super::{ApiAuth, ApiTags, AppState, BearerToken};
use crate::client::{ANONYMOUS, CancelOutcome, IdempotencyKey, ListFilter};
use crate::error::Error;
use crate::job::{Job, JobId};

pub struct JobsApi {
    pub state: Arc<AppState>,
}

fn location(id: Uuid) -> String {
    format!("/v1/jobs/{id}")
}

impl JobsApi {
    async fn enqueue_one(
        &self,
        auth: &ApiAuth,
        req: EnqueueRequest,
        idempotency_key: Option<String>,
        traceparent: Option<String>,
    ) -> Result<EnqueueResponse, ApiError> {
        // The key is the caller's and bound to this body (as sent, before
        // `delay_seconds` becomes a time).
        let idempotency = idempotency_key.map(|key| {
            let scope = match auth {
                ApiAuth::Bearer(BearerToken(b)) if !self.state.config.tokens.is_empty() => {
                    IdempotencyKey::token_scope(&b.token)
                }
                _ => ANONYMOUS.to_string(),
            };
            let body = poem_openapi::types::ToJSON::to_json(&req).unwrap_or_default();
            IdempotencyKey::new(key).scoped(scope).bound_to(&body)
        });
        let mut job = req.into_new_job()?;
        job.traceparent = traceparent;
        let submitted = self.state.client.submit(job, idempotency.as_ref()).await?;
        let job = submitted.job;
        if submitted.created {
            crate::metrics::enqueued(&job.queue, &job.kind);
            let loc = location(job.id.0);
            Ok(EnqueueResponse::Created(Json(job.into()), loc))
        } else {
            Ok(EnqueueResponse::Existing(Json(job.into())))
        }
    }
}

/// The span of an enqueue request, child of the request's `traceparent`
/// header when it is well-formed (a malformed one is ignored, as W3C Trace
/// Context says), and the trace context to store with the jobs: the span's
/// own under OpenTelemetry (so attempts are children of the enqueue),
/// else the header as sent.
fn enqueue_span(header: Option<String>) -> (tracing::Span, Option<String>) {
    let header = header.filter(|tp| crate::trace::is_valid_traceparent(tp));
    let span = tracing::info_span!("enqueue");
    crate::trace::set_parent(&span, header.as_deref());
    let stored = span.in_scope(crate::trace::current_traceparent).or(header);
    (span, stored)
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
    /// `Idempotency-Key` header the same caller (bearer token) sent in the
    /// last 24 hours with the same body, answers the job the first request
    /// created (200), even if it has finished since; with another body,
    /// 422.
    #[oai(path = "/v1/jobs", method = "post", operation_id = "enqueue_job")]
    async fn enqueue(
        &self,
        auth: ApiAuth,
        body: Json<EnqueueRequest>,
        /// Makes the request safe to repeat for 24 hours. Keys are the
        /// caller's own (per bearer token) and bound to the request body.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        /// W3C trace context of the caller: stored with the job, whose
        /// attempts' spans become its descendants. Ignored when malformed.
        traceparent: Header<Option<String>>,
    ) -> EnqueueResponse {
        let (span, traceparent) = enqueue_span(traceparent.0);
        self.enqueue_one(&auth, body.0, idempotency_key.0, traceparent)
            .instrument(span)
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
        /// W3C trace context of the caller: stored with every job of the
        /// batch. Ignored when malformed.
        traceparent: Header<Option<String>>,
    ) -> EnqueueBatchResponse {
        let (span, traceparent) = enqueue_span(traceparent.0);
        let result: Result<Vec<JobDto>, ApiError> = async {
            let mut jobs = Vec::with_capacity(body.0.jobs.len());
            for (i, req) in body.0.jobs.into_iter().enumerate() {
                let mut job = req
                    .into_new_job()
                    .map_err(|e| ApiError::new(e.status, format!("jobs[{i}]: {}", e.detail)))?;
                job.traceparent.clone_from(&traceparent);
                jobs.push(job);
            }
            let out = self.state.client.enqueue_batch(&jobs).await?;
            for job in &jobs {
                crate::metrics::enqueued(
                    job.queue.as_deref().unwrap_or(crate::job::DEFAULT_QUEUE),
                    &job.kind,
                );
            }
            Ok(out.into_iter().map(Into::into).collect())
        }
        .instrument(span)
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
    /// A web node follows a limited number of jobs at once for its
    /// clients: past it, a wait answers 503 with `Retry-After`.
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
                return Ok(self.state.client.job(id).await?);
            }
            let _permit = self.state.follow_permit()?;
            let mut follow = self.state.client.follow(id).await?;
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
    /// change, ending after the terminal state, or when the server's stream
    /// lifetime (15 min by default) has passed: reconnect then. Each
    /// event's `data` is a `JobEvent`. Past the web node's limit of
    /// followed jobs, 503 with `Retry-After`.
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
            let id = parse_id(&id.0)?;
            let permit = self.state.follow_permit()?;
            let mut follow = self.state.client.follow(id).await?;
            // The current state first, at once (404 if there is no such job).
            let first = follow.changed(Duration::ZERO).await?;
            Ok::<_, ApiError>(((follow, permit), first))
        };
        let (follow, first) = match follow.await {
            Ok(v) => v,
            Err(e) => return respond(e),
        };
        let rest = futures_util::stream::unfold(
            (follow, first.clone()),
            |((mut follow, permit), last)| async move {
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
                Some((event(ty, job.clone()), ((follow, permit), job)))
            },
        );
        let stream =
            futures_util::stream::once(std::future::ready(event(JobEventType::State, first)))
                .chain(rest)
                .take_until(tokio::time::sleep(self.state.config.stream_lifetime));
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
    /// meanwhile never shift later pages. Jobs are listed without `args`
    /// and `result` unless `include` asks for them. A page ends early, with
    /// `next_cursor`, before its jobs pass the server's size limit (8 MiB
    /// of JSON by default).
    #[oai(path = "/v1/jobs", method = "get", operation_id = "list_jobs")]
    #[allow(clippy::too_many_arguments)]
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
        /// Fields left out of listed jobs unless named here, comma-separated:
        /// `args`, `result`.
        include: Query<Option<String>>,
    ) -> ListJobsResponse {
        let result: Result<JobListDto, ApiError> = async {
            let include = Include::parse(include.0.as_deref())?;
            let before = match cursor.0.as_deref() {
                None | Some("") => None,
                Some(c) => Some(
                    c.parse::<JobId>()
                        .map_err(|_| ApiError::bad_request("cursor is not valid"))?,
                ),
            };
            let limit = limit.0.unwrap_or(50);
            // An empty filter is no filter; any other must be a queue name.
            let queue = queue.0.filter(|q| !q.is_empty());
            if let Some(q) = &queue
                && !crate::job::is_valid_queue_name(q)
            {
                return Err(ApiError::bad_request(format!(
                    "queue {q:?} is not a queue name: 1 to 128 letters, digits, '_', '.', ':' or '-'"
                )));
            }
            let filter = ListFilter {
                state: state.0.map(Into::into),
                queue,
                kind: kind.0,
                before,
            };
            let page = self.state.client.jobs(&filter, limit).await?;
            Ok(include.page(page, self.state.config.list_max_bytes))
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
            Ok(self.state.client.cancel(id).await?)
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

    /// Why isn't this job running?
    ///
    /// One `reason` and its details: `scheduled` (until), `retry_backoff`
    /// (until), `waiting_on_dependencies`, `queue_paused`,
    /// `no_worker_for_kind`, `queue_concurrency_limit` (running of max),
    /// `key_concurrency_limit` (key, running of max), `rate_limited`
    /// (until), `queued_behind` (how many available jobs of higher or equal
    /// priority are ahead), or `running` / the terminal state.
    #[oai(
        path = "/v1/jobs/:id/explain",
        method = "get",
        operation_id = "explain_job"
    )]
    async fn explain(
        &self,
        _auth: ApiAuth,
        /** The job's id. */
        id: Path<String>,
    ) -> ExplainJobResponse {
        let result: Result<ExplanationDto, ApiError> = async {
            let id = parse_id(&id.0)?;
            Ok(self.state.client.explain(id).await?.try_into()?)
        }
        .await;
        match result {
            Ok(e) => ExplainJobResponse::Ok(Json(e)),
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
            Ok(self.state.client.retry(id).await?)
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
