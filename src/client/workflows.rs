//! Workflows through the one door: submit, read, list, cancel, wait.

use std::time::{Duration, Instant};

use super::Client;
use crate::db;
use crate::error::{Error, Result};
use crate::job::WorkflowId;
use crate::workflow::{MAX_WORKFLOW_JOBS, NewWorkflow, Workflow};

/// Most workflows in one page of [`Client::workflows`].
pub const MAX_WORKFLOW_PAGE: i64 = 100;

/// A page of workflows, newest first.
#[derive(Debug, Clone)]
pub struct WorkflowPage {
    pub workflows: Vec<Workflow>,
    /// The id to pass as `before` for the next page; `None` on the last.
    pub next_cursor: Option<WorkflowId>,
}

impl Client {
    /// Submits a workflow: all of its jobs are enqueued, or none. Jobs
    /// without dependencies start `available` (or `scheduled`), the others
    /// `pending`. Answers it as stored, with its jobs.
    ///
    /// ```no_run
    /// # async fn demo(client: weir::Client) -> weir::Result<()> {
    /// use serde_json::json;
    /// use weir::NewJob;
    /// use weir::workflow::NewWorkflow;
    /// let wf = NewWorkflow::new("report")
    ///     .job("fetch", NewJob::new("http.get", json!({"url": "https://example.com"})), &[])
    ///     .job("parse", NewJob::new("html.parse", json!({})), &["fetch"]);
    /// let wf = client.create_workflow(&wf).await?;
    /// let done = client.wait_workflow(wf.id, std::time::Duration::from_secs(60)).await?;
    /// println!("{:?}", done.state);
    /// # Ok(()) }
    /// ```
    pub async fn create_workflow(&self, wf: &NewWorkflow) -> Result<Workflow> {
        if wf.jobs.is_empty() || wf.jobs.len() > MAX_WORKFLOW_JOBS {
            return Err(Error::InvalidJob(format!(
                "invalid workflow: a workflow holds 1 to {MAX_WORKFLOW_JOBS} jobs, not {}",
                wf.jobs.len()
            )));
        }
        for (i, j) in wf.jobs.iter().enumerate() {
            if j.job.unique_key.is_some() || !j.job.depends_on.is_empty() {
                return Err(Error::InvalidJob(format!(
                    "invalid workflow: job {} ({}): a workflow's jobs take no unique_key, and \
                     depend on each other by ref (depends_on of the workflow job), not by id",
                    i + 1,
                    j.job_ref
                )));
            }
            if !j.job.args.is_object() {
                return Err(Error::InvalidJob(format!(
                    "invalid workflow: job {} ({}): args must be a JSON object",
                    i + 1,
                    j.job_ref
                )));
            }
            // What the database would refuse, or store but not give back.
            let nul = [Some(j.job_ref.as_str()), wf.name.as_deref()]
                .into_iter()
                .chain(j.depends_on.iter().map(|d| Some(d.as_str())))
                .flatten()
                .any(|t| t.contains('\0'));
            let refused = if nul {
                Some("text values may not contain NUL bytes".to_string())
            } else if let Some(why) = crate::job::unreadable_json(&j.job.args) {
                Some(format!("args: {why}"))
            } else {
                super::enqueue::check_values(&j.job).err().map(|e| match e {
                    Error::InvalidJob(m) => m,
                    other => other.to_string(),
                })
            };
            if let Some(why) = refused {
                return Err(Error::InvalidJob(format!(
                    "invalid workflow: job {} ({}): {why}",
                    i + 1,
                    j.job_ref.replace('\0', "\\0")
                )));
            }
        }
        let id = db::workflows::create(&self.pool, wf).await?;
        self.workflow(id).await
    }

    /// Reads a workflow with its jobs (submission order), counts per
    /// state, summed progress and derived state.
    pub async fn workflow(&self, id: WorkflowId) -> Result<Workflow> {
        let mut wf = db::workflows::stats(&self.pool, &[id.0])
            .await?
            .pop()
            .ok_or(Error::WorkflowNotFound(id))?;
        wf.jobs = db::jobs::list_in_workflow(&self.pool, id).await?;
        Ok(wf)
    }

    /// Lists workflows newest first (without their jobs), `limit` (1 to
    /// [`MAX_WORKFLOW_PAGE`]) at a time; `before` is the previous page's
    /// cursor.
    pub async fn workflows(&self, before: Option<WorkflowId>, limit: i64) -> Result<WorkflowPage> {
        if !(1..=MAX_WORKFLOW_PAGE).contains(&limit) {
            return Err(Error::InvalidArgument(format!(
                "limit must be between 1 and {MAX_WORKFLOW_PAGE}"
            )));
        }
        let ids = db::workflows::list_ids(&self.pool, before, limit).await?;
        let next_cursor = (ids.len() as i64 == limit)
            .then(|| ids.last().copied().map(WorkflowId))
            .flatten();
        let workflows = db::workflows::stats(&self.pool, &ids).await?;
        Ok(WorkflowPage {
            workflows,
            next_cursor,
        })
    }

    /// Cancels every unfinished job of the workflow (`weir.cancel_workflow`):
    /// queued and pending ones at once, running ones by a cancel request.
    /// Answers the workflow as it is then.
    pub async fn cancel_workflow(&self, id: WorkflowId) -> Result<Workflow> {
        db::workflows::cancel(&self.pool, id)
            .await?
            .ok_or(Error::WorkflowNotFound(id))?;
        self.workflow(id).await
    }

    /// Waits until every job of the workflow finished or `timeout`
    /// passes, and answers the workflow as it is then. Follows one
    /// unfinished job at a time (woken by its change notifications, as
    /// [`Client::wait`] is), so the wait ends promptly after the last.
    pub async fn wait_workflow(&self, id: WorkflowId, timeout: Duration) -> Result<Workflow> {
        let deadline = Instant::now() + timeout;
        loop {
            let wf = self.workflow(id).await?;
            let left = deadline.saturating_duration_since(Instant::now());
            if wf.state.is_terminal() || left.is_zero() {
                return Ok(wf);
            }
            // Jobs that can finish first (not pending) before pending ones.
            let next = wf
                .jobs
                .iter()
                .filter(|j| !j.state.is_terminal())
                .min_by_key(|j| j.state == crate::JobState::Pending)
                .map(|j| j.id);
            if let Some(job) = next {
                self.follow(job).await?.finished(left).await?;
            }
        }
    }
}

/// How often a workflow followed by [`Client::workflow_changed`] is read
/// again when the job it follows did not change (its other jobs may have).
pub const WORKFLOW_RECHECK: Duration = Duration::from_millis(250);

impl Client {
    /// The workflow as soon as it differs from `last` (a job's state,
    /// progress or result), or as it is when `timeout` passes. Woken by
    /// the change notifications of one unfinished job, and reads the
    /// workflow again at least every [`WORKFLOW_RECHECK`].
    pub async fn workflow_changed(&self, last: &Workflow, timeout: Duration) -> Result<Workflow> {
        let deadline = Instant::now() + timeout;
        let mut seen = last.clone();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = seen
                .jobs
                .iter()
                .filter(|j| !j.state.is_terminal())
                .min_by_key(|j| j.state == crate::JobState::Pending)
                .map(|j| j.id);
            match next {
                Some(job) if !left.is_zero() => {
                    let mut follow = self.follow(job).await?;
                    follow.changed(Duration::ZERO).await?;
                    follow.changed(left.min(WORKFLOW_RECHECK)).await?;
                }
                _ => tokio::time::sleep(left.min(WORKFLOW_RECHECK)).await,
            }
            let now = self.workflow(last.id).await?;
            if now != *last || Instant::now() >= deadline {
                return Ok(now);
            }
            seen = now;
        }
    }
}
