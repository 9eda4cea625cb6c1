//! The client: the one door to every job operation. The REST API, the CLI
//! and library users all go through it: enqueue (one, many, inside the
//! caller's transaction, with an idempotency key), read and list, wait and
//! follow, cancel and retry, pause and resume queues, queue stats and
//! worker nodes.
//!
//! - `enqueue.rs`: every way to enqueue.
//! - `ops.rs`: reads, lists, transitions, queues and workers.
//! - `coalesce.rs`: concurrent single enqueues grouped into one INSERT.
//! - `worker_api.rs`: the worker API for workers in any language.
//! - `schedules.rs`: cron schedules.
//! - `idempotency.rs`: idempotency keys, their scope and fingerprint.
//! - `flow.rs`: queue limits, "why isn't this job running?", and the
//!   enqueue warning about kinds no live worker serves.

mod coalesce;
mod enqueue;
mod flow;
mod idempotency;
mod ops;
mod schedules;
mod worker_api;
mod workflows;

pub use crate::db::jobs::{CancelOutcome, ListFilter};
pub use crate::db::nodes::NodeRow as WorkerNode;
pub use crate::db::queues::QueueStats;
pub use enqueue::{Submitted, enqueue_in, enqueue_many_in};
pub use idempotency::{ANONYMOUS, IdempotencyKey, fingerprint};
pub use ops::{JobPage, MAX_PAGE};
pub use schedules::{NewSchedule, Schedule, set_schedule_in};
pub use worker_api::ExternalClaim;
pub use workflows::{MAX_WORKFLOW_PAGE, WORKFLOW_RECHECK, WorkflowPage};

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::follow::{Follow, Followers, SAFETY_RECHECK};
use crate::job::{Job, JobId};

/// A handle for producing jobs and reading them back. Clones share one
/// pool and, once any of them has waited, one LISTEN connection. Make one
/// per process and clone it, as with the pool: each `Client` that waits
/// opens a LISTEN connection of its own, outside the pool.
#[derive(Clone)]
pub struct Client {
    pool: PgPool,
    waits: Arc<Waits>,
    /// Groups concurrent [`Client::submit`]s into one INSERT, when enabled.
    grouped: Option<Arc<coalesce::Coalescer>>,
    /// Wakes [`Client::claim`]s that wait, started by the first of them.
    queue_signals: Arc<OnceCell<Arc<worker_api::QueueSignals>>>,
    /// Queue and kind pairs a live worker served lately.
    served: Arc<flow::ServedKinds>,
}

/// What [`Client::wait`] needs: the [`Followers`] of this client, started
/// by the first wait (or given), and their listener's stop, cancelled when
/// the last clone is dropped.
struct Waits {
    events: OnceCell<Arc<Followers>>,
    recheck: Duration,
    stop: CancellationToken,
}

impl Waits {
    fn new(recheck: Duration) -> Arc<Self> {
        Arc::new(Waits {
            events: OnceCell::new(),
            recheck,
            stop: CancellationToken::new(),
        })
    }
}

impl Drop for Waits {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Client {
    pub fn new(pool: PgPool) -> Self {
        Client {
            pool,
            waits: Waits::new(SAFETY_RECHECK),
            grouped: None,
            queue_signals: Arc::new(OnceCell::new()),
            served: Arc::default(),
        }
    }

    /// Groups concurrent [`Client::submit`]s without a `unique_key` or an
    /// idempotency key into one multi-row INSERT (one commit for many
    /// requests), as the web node does. Starts the grouping task on the
    /// current runtime; it stops when the last clone is dropped.
    pub fn with_grouped_enqueues(self) -> Self {
        Client {
            grouped: Some(Arc::new(coalesce::Coalescer::start(self.pool.clone()))),
            ..self
        }
    }

    /// Runs every statement of this client with `statement_timeout` set to
    /// `timeout` (a statement still running then is cancelled, SQLSTATE
    /// 57014), on a pool of its own with `pool`'s size and options: for a
    /// web node, whose statements answer requests. Call it before
    /// [`Client::with_grouped_enqueues`].
    pub fn with_statement_timeout(self, timeout: Duration) -> Self {
        Client {
            pool: statement_timeout_pool(&self.pool, timeout),
            ..self
        }
    }

    /// Follows jobs through `followers` (a process's one LISTEN connection,
    /// started by the caller) instead of opening its own on the first wait.
    pub fn with_followers(self, followers: Arc<Followers>) -> Self {
        let waits = Waits::new(self.waits.recheck);
        let _ = waits.events.set(followers);
        Client { waits, ..self }
    }

    /// Sets the longest [`Client::wait`] goes without re-reading its job
    /// when no notification comes (default 2 s): notifications are hints,
    /// and one may be lost while the listener reconnects.
    pub fn with_recheck_interval(self, recheck: Duration) -> Self {
        Client {
            waits: Waits::new(recheck),
            ..self
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Stops the LISTEN connection the client's waits share (if one was
    /// opened) and removes its job watches now, instead of in the
    /// background when the last clone is dropped: for a process about to
    /// exit. Waits of remaining clones then re-read their jobs only at the
    /// re-check interval.
    pub async fn close(self) -> Result<()> {
        self.waits.stop.cancel();
        match self.waits.events.get() {
            Some(events) => events.unfollow_all().await,
            None => Ok(()),
        }
    }

    /// Waits until the job is terminal or `timeout` passes, and returns it
    /// as it is then. Woken by the job's change notifications (channel
    /// `weir_job_events`) on one LISTEN connection per client, opened by
    /// the first wait, and re-reads the job at least every re-check
    /// interval ([`Client::with_recheck_interval`]). When that connection
    /// cannot be opened, the wait polls instead (10 ms to 500 ms).
    pub async fn wait(&self, id: JobId, timeout: Duration) -> Result<Job> {
        self.follow(id).await?.finished(timeout).await
    }

    /// Follows a job's changes (progress, state, result), woken as
    /// [`Client::wait`] is: each [`Follow::changed`] returns the job once
    /// it differs from the version the previous call returned. Its watch
    /// is kept until the `Follow` is dropped.
    ///
    /// ```no_run
    /// # async fn demo(client: weir::Client, id: weir::JobId) -> weir::Result<()> {
    /// let mut follow = client.follow(id).await?;
    /// loop {
    ///     let job = follow.changed(std::time::Duration::from_secs(60)).await?;
    ///     println!("{:?} {:?}", job.state, job.progress);
    ///     if job.state.is_terminal() {
    ///         break;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn follow(&self, id: JobId) -> Result<Follow> {
        let events = self
            .waits
            .events
            .get_or_try_init(|| {
                Followers::connect(
                    self.pool.clone(),
                    self.waits.stop.clone(),
                    self.waits.recheck,
                )
            })
            .await;
        match events {
            Ok(followers) => followers.follow(id).await,
            Err(e) => {
                tracing::debug!(error = %e, "no job events listener; polling");
                Ok(Follow::polling(self.pool.clone(), id))
            }
        }
    }
}

/// A pool on the same server as `pool`, of the same size and options, whose
/// statements are cancelled past `timeout` (`statement_timeout`; zero:
/// never). Connections open as they are needed.
pub fn statement_timeout_pool(pool: &PgPool, timeout: Duration) -> PgPool {
    crate::db::with_statement_timeout(pool, timeout)
}
