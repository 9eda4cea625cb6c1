//! Reads, lists and transitions of jobs, queues and worker nodes. Each
//! transition is the database's one implementation (`weir.cancel_job`,
//! `weir.retry_job`, `weir.pause_queue`, `weir.resume_queue`), shared with
//! psql.

use std::time::Duration;

use super::{CancelOutcome, Client, ListFilter, QueueStats, WorkerNode};
use crate::db;
use crate::error::{Error, Result};
use crate::job::{Job, JobId};

/// One page of [`Client::jobs`]: newest first, and the cursor of the next
/// page when there is one.
#[derive(Debug, Clone)]
pub struct JobPage {
    pub jobs: Vec<Job>,
    /// Pass as `filter.before` to read the next page; `None` on the last.
    pub next_cursor: Option<JobId>,
}

/// Most jobs in one page of [`Client::jobs`].
pub const MAX_PAGE: i64 = 1000;

impl Client {
    /// Reads a job.
    pub async fn job(&self, id: JobId) -> Result<Job> {
        db::jobs::get(&self.pool, id)
            .await?
            .ok_or(Error::NotFound(id))
    }

    /// Lists jobs, newest first, matching `filter` (`filter.before` is the
    /// previous page's cursor), `limit` (1 to [`MAX_PAGE`]) at a time. Pages
    /// are keyset-paginated: jobs enqueued meanwhile never shift later pages.
    pub async fn jobs(&self, filter: &ListFilter, limit: i64) -> Result<JobPage> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::InvalidArgument(format!(
                "limit must be between 1 and {MAX_PAGE}"
            )));
        }
        no_nul("queue", filter.queue.as_deref().unwrap_or(""))?;
        no_nul("kind", filter.kind.as_deref().unwrap_or(""))?;
        let mut jobs = db::jobs::list(&self.pool, filter, limit + 1).await?;
        let more = jobs.len() as i64 > limit;
        jobs.truncate(limit as usize);
        let next_cursor = if more {
            jobs.last().map(|j| j.id)
        } else {
            None
        };
        Ok(JobPage { jobs, next_cursor })
    }

    /// Cancels a job: queued → `cancelled` at once; running → its worker is
    /// told to stop ([`CancelOutcome::CancelRequested`]); finished →
    /// [`Error::Conflict`]. Answers the outcome and the job as it is now.
    pub async fn cancel(&self, id: JobId) -> Result<(CancelOutcome, Job)> {
        let outcome = retry_serialization(|| db::jobs::cancel(&self.pool, id)).await?;
        Ok((outcome, self.job(id).await?))
    }

    /// Sends a `failed` or `cancelled` job back to `available` (errors kept,
    /// result cleared) and answers it; other states → [`Error::Conflict`].
    pub async fn retry(&self, id: JobId) -> Result<Job> {
        retry_serialization(|| db::jobs::retry(&self.pool, id)).await?;
        self.job(id).await
    }

    /// Every known queue with its counts, sorted by name.
    pub async fn queues(&self) -> Result<Vec<QueueStats>> {
        db::queues::stats(&self.pool).await
    }

    /// One queue's stats; a queue nobody has used yet has zero counts.
    pub async fn queue(&self, name: &str) -> Result<QueueStats> {
        Ok(self
            .queues()
            .await?
            .into_iter()
            .find(|s| s.queue == name)
            .unwrap_or_else(|| QueueStats::empty(name)))
    }

    /// Stops claiming from `queue` on every node, and answers its stats.
    pub async fn pause_queue(&self, queue: &str) -> Result<QueueStats> {
        no_nul("queue", queue)?;
        db::queues::pause(&self.pool, queue).await?;
        self.queue(queue).await
    }

    /// Starts claiming from `queue` again on every node (idle workers are
    /// woken), and answers its stats.
    pub async fn resume_queue(&self, queue: &str) -> Result<QueueStats> {
        no_nul("queue", queue)?;
        db::queues::resume(&self.pool, queue).await?;
        self.queue(queue).await
    }

    /// Worker nodes whose last heartbeat is newer than `dead_after`.
    pub async fn workers(&self, dead_after: Duration) -> Result<Vec<WorkerNode>> {
        db::nodes::list_live(&self.pool, dead_after).await
    }

    /// Whether the database answers and every migration this binary knows
    /// is applied: `Ok(None)` when ready, else what is missing.
    pub async fn readiness(&self) -> Result<Option<String>> {
        let expected = db::MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .count() as i64;
        let applied = db::applied_migrations(&self.pool).await?;
        Ok((applied < expected)
            .then(|| format!("schema not migrated: {applied} of {expected} migrations applied")))
    }

    /// The fraction of PostgreSQL's NOTIFY queue in use (commits that
    /// notify fail when it is full).
    pub async fn notification_queue_usage(&self) -> Result<f64> {
        db::notification_queue_usage(&self.pool).await
    }
}

/// Tries of a transition that loses a race with a concurrent one.
const SERIALIZATION_TRIES: u32 = 5;

/// Runs `op` again (at most [`SERIALIZATION_TRIES`] times in all) while
/// it fails with a serialization failure: a row lock that found the job
/// already moved to another partition by a concurrent transition (two
/// cancels of one queued job, a cancel racing a claim). The next try sees
/// the job as it is now and answers accordingly (often a conflict).
async fn retry_serialization<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 1;
    loop {
        match op().await {
            Err(e) if e.is_serialization_failure() && tries < SERIALIZATION_TRIES => {
                tries += 1;
                // A short, jittered pause lets the winner commit.
                let ms = fastrand::u64(1..=5 * u64::from(tries));
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            other => return other,
        }
    }
}

/// Refuses a text value with a NUL byte before it reaches the database
/// (which cannot store one), in weir's words.
pub(super) fn no_nul(what: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::InvalidArgument(format!(
            "{what}: text values may not contain NUL bytes"
        )));
    }
    Ok(())
}
