//! Workflows: jobs submitted together, each with a local ref, wired by
//! `depends_on` refs (a DAG), and the shapes Celery names: chain, group,
//! chord. No SQL here; `crate::db::workflows` maps rows into these types.
//!
//! ```
//! use serde_json::json;
//! use weir::NewJob;
//! use weir::workflow::NewWorkflow;
//!
//! // a -> b -> c: each step reads the previous one's result.
//! let chain = NewWorkflow::chain("etl", [
//!     NewJob::new("extract", json!({})),
//!     NewJob::new("transform", json!({})),
//!     NewJob::new("load", json!({})),
//! ]);
//! assert_eq!(chain.jobs[2].depends_on, ["1"]);
//!
//! // Three resizes, then one callback that sees all three results.
//! let chord = NewWorkflow::chord(
//!     "thumbnails",
//!     (0..3).map(|i| NewJob::new("resize", json!({"i": i}))),
//!     NewJob::new("notify", json!({})),
//! );
//! assert_eq!(chord.jobs[3].depends_on, ["0", "1", "2"]);
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::job::{Job, JobId, JobState, NewJob, WorkflowId};

/// Most jobs one workflow may hold.
pub const MAX_WORKFLOW_JOBS: usize = 1000;

/// One job of a workflow to submit.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowJob {
    /// Its name within the workflow, unique there.
    pub job_ref: String,
    /// The job (its `unique_key` and `depends_on` must be unset: a
    /// workflow's jobs depend on each other by ref).
    pub job: NewJob,
    /// Refs of the jobs of the same workflow it waits on.
    pub depends_on: Vec<String>,
}

/// A workflow to submit: all of its jobs are enqueued, or none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewWorkflow {
    pub name: Option<String>,
    pub jobs: Vec<WorkflowJob>,
}

impl NewWorkflow {
    /// An empty workflow named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        NewWorkflow {
            name: Some(name.into()),
            jobs: Vec::new(),
        }
    }

    /// Adds `job` as `job_ref`, waiting on the jobs of `depends_on` (refs).
    pub fn job(mut self, job_ref: impl Into<String>, job: NewJob, depends_on: &[&str]) -> Self {
        self.jobs.push(WorkflowJob {
            job_ref: job_ref.into(),
            job,
            depends_on: depends_on.iter().map(|r| r.to_string()).collect(),
        });
        self
    }

    /// A line: each job (ref `"0"`, `"1"`, ...) waits on the one before.
    pub fn chain(name: impl Into<String>, jobs: impl IntoIterator<Item = NewJob>) -> Self {
        let mut wf = NewWorkflow::new(name);
        for (i, job) in jobs.into_iter().enumerate() {
            let depends_on = if i == 0 {
                Vec::new()
            } else {
                vec![(i - 1).to_string()]
            };
            wf.jobs.push(WorkflowJob {
                job_ref: i.to_string(),
                job,
                depends_on,
            });
        }
        wf
    }

    /// A set with no edges (refs `"0"`, `"1"`, ...): they run side by
    /// side, and the workflow succeeds when all of them did.
    pub fn group(name: impl Into<String>, jobs: impl IntoIterator<Item = NewJob>) -> Self {
        let mut wf = NewWorkflow::new(name);
        for (i, job) in jobs.into_iter().enumerate() {
            wf.jobs.push(WorkflowJob {
                job_ref: i.to_string(),
                job,
                depends_on: Vec::new(),
            });
        }
        wf
    }

    /// A group plus one callback (ref `"callback"`) that waits on all of
    /// it and reads every member's result.
    pub fn chord(
        name: impl Into<String>,
        jobs: impl IntoIterator<Item = NewJob>,
        callback: NewJob,
    ) -> Self {
        let mut wf = NewWorkflow::group(name, jobs);
        let depends_on = wf.jobs.iter().map(|j| j.job_ref.clone()).collect();
        wf.jobs.push(WorkflowJob {
            job_ref: "callback".into(),
            job: callback,
            depends_on,
        });
        wf
    }
}

/// A workflow's state, derived from its jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowState {
    /// Some job is not finished.
    Running,
    /// Every job succeeded.
    Succeeded,
    /// Every job finished, and some did not succeed.
    Failed,
}

impl WorkflowState {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowState::Running => "running",
            WorkflowState::Succeeded => "succeeded",
            WorkflowState::Failed => "failed",
        }
    }

    /// True once every job finished.
    pub fn is_terminal(self) -> bool {
        self != WorkflowState::Running
    }
}

/// A workflow's jobs per state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkflowCounts {
    pub pending: i64,
    pub scheduled: i64,
    pub available: i64,
    pub running: i64,
    pub retryable: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl WorkflowCounts {
    /// The count of one state.
    pub fn of(&self, state: JobState) -> i64 {
        match state {
            JobState::Pending => self.pending,
            JobState::Scheduled => self.scheduled,
            JobState::Available => self.available,
            JobState::Running => self.running,
            JobState::Retryable => self.retryable,
            JobState::Succeeded => self.succeeded,
            JobState::Failed => self.failed,
            JobState::Cancelled => self.cancelled,
        }
    }
}

/// A workflow as stored, with its derived state, counts and summed
/// progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub id: WorkflowId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When its last job finished, once it is terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    pub state: WorkflowState,
    /// How many jobs it was submitted with.
    pub job_count: i32,
    pub counts: WorkflowCounts,
    /// The jobs' progress reports summed: `done` of `total`.
    pub progress_done: f64,
    pub progress_total: f64,
    /// Its jobs in submission order (left empty in lists).
    #[serde(default)]
    pub jobs: Vec<Job>,
}

/// A dependency as its dependent's handler sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parent {
    /// Its ref, when it was submitted in a workflow.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub job_ref: Option<String>,
    pub id: JobId,
    pub kind: String,
    /// What its handler returned.
    #[serde(default)]
    pub result: serde_json::Value,
}
