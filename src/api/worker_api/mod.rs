//! The worker API over HTTP: a worker in any language registers, claims
//! (a long-poll woken by NOTIFY), heartbeats and reports through these
//! operations, with the rules of the built-in worker (see
//! [`crate::Client::claim`] and the SQL functions behind it).

use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use uuid::Uuid;

use super::problem::{ApiError, respond};
use super::queues::{ListWorkersResponse, WorkerDto, WorkerListDto};
use super::{ApiAuth, ApiTags, AppState};

mod types;
use crate::job::{ClaimToken, JobId, NodeId};
pub use types::*;

pub struct WorkerApi {
    pub state: Arc<AppState>,
}

fn parse_uuid(what: &str, id: &str) -> Result<Uuid, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a {what} (expected a UUID)")))
}

fn node_id(id: &str) -> Result<NodeId, ApiError> {
    parse_uuid("worker node id", id).map(NodeId)
}

fn job_id(id: &str) -> Result<JobId, ApiError> {
    parse_uuid("job id", id).map(JobId)
}

/// The answer to a report: 200 when it was recorded, 409 when the token
/// was stale.
fn report(recorded: Result<bool, crate::Error>, id: JobId) -> ReportResponse {
    match recorded {
        Ok(true) => ReportResponse::Ok(Json(RecordedDto { recorded: true })),
        Ok(false) => respond(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "job {id} is not running with this claim_token (it was rescued, re-claimed, \
                 cancelled or finished, or does not exist): nothing was recorded"
            ),
        )),
        Err(e) => respond(e),
    }
}

#[OpenApi(tag = "ApiTags::Workers")]
impl WorkerApi {
    /// List worker nodes
    ///
    /// Live worker nodes (heartbeat within the dead-after window): id,
    /// host, queues, kinds, running count, last heartbeat.
    #[oai(path = "/v1/workers", method = "get", operation_id = "list_workers")]
    async fn list(&self, _auth: ApiAuth) -> ListWorkersResponse {
        match self
            .state
            .client
            .workers(self.state.config.node_dead_after)
            .await
        {
            Ok(nodes) => ListWorkersResponse::Ok(Json(WorkerListDto {
                workers: nodes
                    .into_iter()
                    .map(|n| WorkerDto {
                        id: n.id,
                        host: n.host,
                        pid: n.pid,
                        queues: n.queues,
                        kinds: n.kinds,
                        running: n.running,
                        started_at: n.started_at,
                        last_heartbeat: n.heartbeat_at,
                    })
                    .collect(),
            })),
            Err(e) => respond(e),
        }
    }

    /// Register a worker node
    ///
    /// For workers in any language: answers the node id and how often to
    /// heartbeat. Then claim jobs, report each with its `claim_token`, and
    /// unregister on the way out.
    #[oai(
        path = "/v1/workers",
        method = "post",
        operation_id = "register_worker"
    )]
    async fn register(
        &self,
        _auth: ApiAuth,
        body: Json<RegisterWorkerRequest>,
    ) -> RegisterWorkerResponse {
        let RegisterWorkerRequest {
            name,
            queues,
            kinds,
        } = body.0;
        let queues: Vec<String> = queues.into_iter().map(|q| q.0).collect();
        let kinds: Vec<String> = kinds.into_iter().map(|k| k.0).collect();
        match self
            .state
            .client
            .register_worker(&name.0, &queues, &kinds)
            .await
        {
            Ok(node) => RegisterWorkerResponse::Created(Json(RegisteredWorkerDto {
                id: node.0,
                heartbeat_interval_seconds: HEARTBEAT_INTERVAL_SECS,
                dead_after_seconds: self.state.config.node_dead_after.as_secs(),
            })),
            Err(e) => respond(e),
        }
    }

    /// Heartbeat
    ///
    /// Keeps the node alive and answers its running jobs whose cancel was
    /// requested. 404: the node was declared dead or unregistered;
    /// register again.
    #[oai(
        path = "/v1/workers/:node/heartbeat",
        method = "post",
        operation_id = "worker_heartbeat"
    )]
    async fn heartbeat(
        &self,
        _auth: ApiAuth,
        /** The worker node's id. */
        node: Path<String>,
    ) -> HeartbeatResponse {
        let result = async {
            let ids = self
                .state
                .client
                .worker_heartbeat(node_id(&node.0)?)
                .await?;
            Ok::<_, ApiError>(ids.into_iter().map(|id| id.0).collect())
        }
        .await;
        match result {
            Ok(cancel_requested) => HeartbeatResponse::Ok(Json(HeartbeatDto { cancel_requested })),
            Err(e) => respond(e),
        }
    }

    /// Claim jobs
    ///
    /// Up to `max` available jobs of `queue` whose kind is in `kinds`, each
    /// now `running` with a fresh `claim_token`. With `wait`, holds the
    /// request until a job comes or `wait` seconds pass (capped), woken by
    /// the queue's NOTIFY.
    #[oai(
        path = "/v1/workers/:node/claim",
        method = "post",
        operation_id = "claim_jobs"
    )]
    async fn claim(
        &self,
        _auth: ApiAuth,
        /** The worker node's id. */
        node: Path<String>,
        body: Json<ClaimRequest>,
    ) -> ClaimResponse {
        let result = async {
            let node = node_id(&node.0)?;
            let req = body.0;
            let kinds: Vec<String> = req.kinds.into_iter().map(|k| k.0).collect();
            let wait = Duration::from_secs_f64(req.wait.unwrap_or(0.0).max(0.0))
                .min(self.state.config.wait_cap);
            let jobs = self
                .state
                .client
                .claim(node, &req.queue.0, &kinds, req.max.unwrap_or(1), wait)
                .await?;
            Ok::<_, ApiError>(jobs)
        }
        .await;
        match result {
            Ok(jobs) => ClaimResponse::Ok(Json(ClaimedJobsDto {
                jobs: jobs.into_iter().map(Into::into).collect(),
            })),
            Err(e) => respond(e),
        }
    }

    /// Complete a claimed job
    ///
    /// Records the attempt's result; the job is `succeeded`. 409 when the
    /// claim token is stale (nothing changes).
    #[oai(
        path = "/v1/jobs/:id/complete",
        method = "post",
        operation_id = "complete_job"
    )]
    async fn complete(
        &self,
        _auth: ApiAuth,
        /** The job's id. */
        id: Path<String>,
        body: Json<CompleteRequest>,
    ) -> ReportResponse {
        let id = match job_id(&id.0) {
            Ok(id) => id,
            Err(e) => return respond(e),
        };
        let result = body.0.result.unwrap_or(serde_json::Value::Null);
        let token = ClaimToken(body.0.claim_token);
        report(self.state.client.complete_job(id, token, &result).await, id)
    }

    /// Complete many claimed jobs
    ///
    /// Records up to 1,000 successes in one statement (one commit), for
    /// workers that run jobs in batches. Answers which were recorded and
    /// which had a stale claim token (those changed nothing).
    #[oai(
        path = "/v1/jobs/complete",
        method = "post",
        operation_id = "complete_jobs"
    )]
    async fn complete_batch(
        &self,
        _auth: ApiAuth,
        body: Json<CompleteBatchRequest>,
    ) -> CompleteBatchResponse {
        let reports: Vec<(JobId, ClaimToken, serde_json::Value)> = body
            .0
            .jobs
            .into_iter()
            .map(|j| {
                (
                    JobId(j.id),
                    ClaimToken(j.claim_token),
                    j.result.unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        match self.state.client.complete_jobs(&reports).await {
            Ok(recorded) => {
                let recorded: std::collections::HashSet<Uuid> =
                    recorded.into_iter().map(|id| id.0).collect();
                let (done, stale): (Vec<Uuid>, Vec<Uuid>) = reports
                    .iter()
                    .map(|(id, _, _)| id.0)
                    .partition(|id| recorded.contains(id));
                CompleteBatchResponse::Ok(Json(CompletedBatchDto {
                    recorded: done,
                    stale,
                }))
            }
            Err(e) => respond(e),
        }
    }

    /// Fail a claimed job's attempt
    ///
    /// Retried after a backoff while attempts are left (unless `retryable`
    /// is false), else `failed`; `cancelled` when a cancel was requested.
    /// 409 when the claim token is stale.
    #[oai(path = "/v1/jobs/:id/fail", method = "post", operation_id = "fail_job")]
    async fn fail(
        &self,
        _auth: ApiAuth,
        /** The job's id. */
        id: Path<String>,
        body: Json<FailRequest>,
    ) -> ReportResponse {
        let id = match job_id(&id.0) {
            Ok(id) => id,
            Err(e) => return respond(e),
        };
        let FailRequest {
            claim_token,
            message,
            retryable,
        } = body.0;
        let recorded = self
            .state
            .client
            .fail_job(
                id,
                ClaimToken(claim_token),
                &message.0,
                retryable.unwrap_or(true),
            )
            .await;
        report(recorded, id)
    }

    /// Snooze a claimed job
    ///
    /// "Not now": the job is `scheduled` again in `seconds`, and the attempt
    /// is not spent. 409 when the claim token is stale.
    #[oai(
        path = "/v1/jobs/:id/snooze",
        method = "post",
        operation_id = "snooze_job"
    )]
    async fn snooze(
        &self,
        _auth: ApiAuth,
        /** The job's id. */
        id: Path<String>,
        body: Json<SnoozeRequest>,
    ) -> ReportResponse {
        let id = match job_id(&id.0) {
            Ok(id) => id,
            Err(e) => return respond(e),
        };
        let delay = Duration::from_secs_f64(body.0.seconds.clamp(0.0, 31_536_000.0));
        let token = ClaimToken(body.0.claim_token);
        report(self.state.client.snooze_job(id, token, delay).await, id)
    }

    /// Report progress
    ///
    /// Stores the running job's progress (`done`, `total`, `message`); it
    /// shows in the job, its events and the dashboard. 409 when the claim
    /// token is stale.
    #[oai(
        path = "/v1/jobs/:id/progress",
        method = "post",
        operation_id = "report_progress"
    )]
    async fn progress(
        &self,
        _auth: ApiAuth,
        /** The job's id. */
        id: Path<String>,
        body: Json<ProgressRequest>,
    ) -> ReportResponse {
        let id = match job_id(&id.0) {
            Ok(id) => id,
            Err(e) => return respond(e),
        };
        let ProgressRequest {
            claim_token,
            done,
            total,
            message,
        } = body.0;
        let recorded = self
            .state
            .client
            .report_progress(
                id,
                ClaimToken(claim_token),
                done,
                total,
                message.as_ref().map(|m| m.0.as_str()),
            )
            .await;
        report(recorded, id)
    }

    /// Unregister a worker node
    ///
    /// Its running jobs go back to their queues without spending their
    /// attempt. An unknown node is not an error.
    #[oai(
        path = "/v1/workers/:node",
        method = "delete",
        operation_id = "unregister_worker"
    )]
    async fn unregister(
        &self,
        _auth: ApiAuth,
        /** The worker node's id. */
        node: Path<String>,
    ) -> UnregisterWorkerResponse {
        let result = async {
            Ok::<_, ApiError>(
                self.state
                    .client
                    .unregister_worker(node_id(&node.0)?)
                    .await?,
            )
        }
        .await;
        match result {
            Ok(handed_back) => UnregisterWorkerResponse::Ok(Json(UnregisteredDto { handed_back })),
            Err(e) => respond(e),
        }
    }
}
