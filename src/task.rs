//! What a handler is: the [`Task`] trait, the [`JobContext`] it runs with,
//! and [`JobError`], its failure as a value.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::job::{ClaimToken, JobId, Progress};

/// A kind of job and its handler.
///
/// ```
/// use weir::{JobContext, JobError, Task};
///
/// struct SendEmail;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Email { to: String }
///
/// impl Task for SendEmail {
///     const KIND: &'static str = "email.send";
///     type Args = Email;
///     type Output = ();
///
///     async fn run(&self, ctx: JobContext, args: Email) -> Result<(), JobError> {
///         ctx.progress(Some(0), Some(1), Some(format!("sending to {}", args.to)));
///         Ok(())
///     }
/// }
/// ```
pub trait Task: Send + Sync + 'static {
    /// The kind name jobs of this task carry, e.g. `email.send`.
    const KIND: &'static str;
    /// The job's `args`, deserialized from its JSON object.
    type Args: DeserializeOwned + Serialize + Send + 'static;
    /// What a successful run returns; stored as the job's `result`.
    type Output: Serialize + Send + 'static;

    /// The timeout of one attempt when the job sets none; `None` uses the
    /// worker's default (30 minutes unless configured).
    fn timeout(&self) -> Option<Duration> {
        None
    }

    /// Runs one attempt.
    fn run(
        &self,
        ctx: JobContext,
        args: Self::Args,
    ) -> impl Future<Output = Result<Self::Output, JobError>> + Send;
}

/// How an attempt failed. Any `std::error::Error` converts into a
/// retryable error, so `?` works in handlers.
pub enum JobError {
    /// Try again after a backoff, while attempts are left.
    Retry(String),
    /// Fail the job now, whatever attempts are left.
    Fatal(String),
    /// Stop and record the job as `cancelled` (the usual answer to
    /// [`JobContext::cancelled`]).
    Cancelled,
    /// "Not now": the job goes back to `scheduled`, due after this delay,
    /// and the attempt is not spent (a job with `max_attempts = 1` may
    /// snooze any number of times). At most 365 days; a longer delay is
    /// refused and the attempt is recorded as failed. A job whose cancel
    /// was requested is cancelled instead.
    Snooze(Duration),
}

impl JobError {
    /// A retryable error with `message`.
    pub fn retry(message: impl fmt::Display) -> Self {
        JobError::Retry(message.to_string())
    }

    /// A fatal error with `message`.
    pub fn fatal(message: impl fmt::Display) -> Self {
        JobError::Fatal(message.to_string())
    }
}

impl fmt::Debug for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Retry(m) => write!(f, "{m}"),
            JobError::Fatal(m) => write!(f, "fatal: {m}"),
            JobError::Cancelled => f.write_str("cancelled"),
            JobError::Snooze(d) => write!(f, "snoozed for {d:?}"),
        }
    }
}

impl<E: std::error::Error> From<E> for JobError {
    fn from(err: E) -> Self {
        JobError::Retry(err.to_string())
    }
}

/// Latest progress per running job, written to the database in batches by
/// the worker (so a chatty handler costs at most a few writes per second).
#[derive(Default)]
pub(crate) struct ProgressBoard {
    pending: Mutex<HashMap<JobId, (ClaimToken, Progress)>>,
}

impl ProgressBoard {
    pub(crate) fn report(&self, id: JobId, token: ClaimToken, progress: Progress) {
        self.pending
            .lock()
            .expect("progress board poisoned")
            .insert(id, (token, progress));
    }

    /// Takes the unwritten report of one job, if any.
    pub(crate) fn take(&self, id: JobId) -> Option<Progress> {
        self.pending
            .lock()
            .expect("progress board poisoned")
            .remove(&id)
            .map(|(_, p)| p)
    }

    /// Takes every report made since the last call.
    pub(crate) fn drain(&self) -> Vec<(JobId, ClaimToken, Progress)> {
        self.pending
            .lock()
            .expect("progress board poisoned")
            .drain()
            .map(|(id, (token, p))| (id, token, p))
            .collect()
    }
}

/// What a handler knows about its attempt, and how it talks back.
#[derive(Clone)]
pub struct JobContext {
    pub(crate) id: JobId,
    pub(crate) kind: String,
    pub(crate) queue: String,
    pub(crate) attempt: i32,
    pub(crate) max_attempts: i32,
    pub(crate) token: ClaimToken,
    pub(crate) cancel: CancellationToken,
    pub(crate) board: Arc<ProgressBoard>,
    pub(crate) pool: sqlx::PgPool,
}

impl JobContext {
    pub fn id(&self) -> JobId {
        self.id
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// This attempt's number, from 1.
    pub fn attempt(&self) -> i32 {
        self.attempt
    }

    pub fn max_attempts(&self) -> i32 {
        self.max_attempts
    }

    /// This attempt's claim token: issued fresh by every claim, it fences
    /// every write about the attempt (a retry, or a re-claim after a
    /// hand-back or a rescue, gets another).
    pub fn claim_token(&self) -> ClaimToken {
        self.token
    }

    /// Reports progress. Cheap: only the latest report is kept and the
    /// worker stores it within a fraction of a second.
    pub fn progress(&self, done: Option<i64>, total: Option<i64>, message: Option<String>) {
        self.board.report(
            self.id,
            self.token,
            Progress {
                done,
                total,
                message,
                updated_at: None,
            },
        );
    }

    /// True once the job must stop: it was cancelled, the worker is
    /// shutting down past its grace period, or the attempt was taken away.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the job must stop (see [`JobContext::is_cancelled`]).
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// The jobs this one depends on (its `depends_on`, in that order),
    /// each with its ref, id, kind and result: a chain's next step reads
    /// the previous step's result here, a chord's callback every
    /// member's. Read from the database when called (the claim does not
    /// fetch them); empty for a job without dependencies.
    pub async fn parents(&self) -> crate::Result<Vec<crate::workflow::Parent>> {
        crate::db::workflows::parents(&self.pool, self.id).await
    }
}
