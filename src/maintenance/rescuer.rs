//! The rescuer: running jobs whose worker died, or that overran their
//! deadline, get an error entry for the lost attempt and go back to
//! `retryable` (or `failed` when no attempts are left, or `cancelled` when
//! a cancel was requested), and dead node rows are removed, as are the
//! followed-job rows of web nodes and clients that are gone (see
//! [`db::followed_jobs::delete_orphaned`]).
//!
//! Liveness is one heartbeat per node (`weir.nodes.heartbeat_at`), never
//! one write per job; every age is measured on the database clock. A job
//! whose node row is missing counts as lost too, so a node removed here
//! cannot leave jobs behind. The attempt's worker, if it is alive after
//! all, finds out through its supervisor (`crate::worker::supervisor`): its claim
//! token no longer matches, so it stops the handler and records nothing.
//!
//! Only time during which the database could be reached counts: after an
//! outage (of the database, or of the leader's connection to it) every
//! heartbeat is old, yet the nodes were alive and could not write. The
//! leader tells the rescuer how long it has reached the database without
//! interruption, and a node is dead only when it missed `dead_after` of
//! that time (likewise a job overran only when `deadline_grace` of that
//! time passed after its deadline).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::backoff::Backoff;
use crate::db;
use crate::db::jobs::{LeaseGuard, RescueReason};
use crate::error::Result;
use crate::job::{JobState, NodeId};

/// Default age of the last heartbeat after which a node is declared dead.
pub const DEFAULT_DEAD_AFTER: Duration = Duration::from_secs(30);
/// Default time past its deadline before a running job is rescued. The
/// worker's own timeout fires at the deadline; this covers workers too
/// stuck to notice.
pub const DEFAULT_DEADLINE_GRACE: Duration = Duration::from_secs(10);
/// A followed-job row younger than this is kept even when no LISTEN session of its
/// followers is seen (they may be connecting, or reconnecting; they write their rows
/// again after a reconnect).
pub const FOLLOW_GRACE: Duration = Duration::from_secs(60);
/// Default interval between two runs.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// Default most jobs rescued per statement.
pub const DEFAULT_BATCH: i64 = 1000;

/// Rescuer settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// A node whose heartbeat is older than this is dead. Default 30 s
    /// (six missed heartbeats at the default 5 s).
    pub dead_after: Duration,
    /// How long past its deadline a running job is left to its worker.
    /// Default 10 s.
    pub deadline_grace: Duration,
    /// Interval between two runs. Default 5 s.
    pub interval: Duration,
    /// Most jobs rescued per statement. Default 1000.
    pub batch: i64,
    /// Delay before a rescued job is retried. Default: the worker default.
    pub backoff: Backoff,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dead_after: DEFAULT_DEAD_AFTER,
            deadline_grace: DEFAULT_DEADLINE_GRACE,
            interval: DEFAULT_INTERVAL,
            batch: DEFAULT_BATCH,
            backoff: Backoff::default(),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Jobs rescued because their node was dead.
    pub worker_lost: usize,
    /// Jobs rescued because they overran their deadline.
    pub timed_out: usize,
    /// Of those, how many became `retryable`, `failed` and `cancelled`.
    pub retryable: usize,
    pub failed: usize,
    pub cancelled: usize,
    /// Dead node rows removed.
    pub nodes_removed: usize,
    /// Followed-job rows of gone web nodes and clients removed.
    pub followed_jobs_removed: u64,
}

impl Counts {
    pub fn rescued(&self) -> usize {
        self.worker_lost + self.timed_out
    }
}

pub struct Rescuer {
    pool: PgPool,
    config: Config,
    lease: Option<NodeId>,
}

impl Rescuer {
    /// A rescuer whose writes are unconditional (tests, one-off runs).
    pub fn new(pool: PgPool, config: Config) -> Self {
        Rescuer {
            pool,
            config,
            lease: None,
        }
    }

    /// Makes every write conditional on `node` still holding the
    /// maintenance lease, so a deposed leader changes nothing.
    pub fn with_lease(mut self, node: NodeId) -> Self {
        self.lease = Some(node);
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Rescues every orphaned job (in batches), then removes dead nodes.
    pub async fn run_once(&self) -> Result<Counts> {
        self.run_once_at(None).await
    }

    /// [`Rescuer::run_once`] with the database clock pinned to `now`.
    pub async fn run_once_at(&self, now: Option<DateTime<Utc>>) -> Result<Counts> {
        self.run_once_reachable(now, None).await
    }

    /// [`Rescuer::run_once_at`] for a caller that has reached the database
    /// without interruption for `reachable_for` (`None`: always): missed
    /// heartbeats and overruns count only within that time.
    pub async fn run_once_reachable(
        &self,
        now: Option<DateTime<Utc>>,
        reachable_for: Option<Duration>,
    ) -> Result<Counts> {
        let lease = self.lease.map(|node| LeaseGuard {
            role: super::ROLE,
            node,
        });
        let mut counts = Counts::default();
        loop {
            let rescued = db::jobs::rescue_orphaned_running(
                &self.pool,
                now,
                self.config.dead_after,
                self.config.deadline_grace,
                &self.config.backoff,
                self.config.batch,
                lease,
                reachable_for,
            )
            .await?;
            for r in &rescued {
                crate::metrics::rescued(&r.queue, &r.kind, r.reason.label());
                match r.reason {
                    RescueReason::WorkerLost => counts.worker_lost += 1,
                    RescueReason::TimedOut => counts.timed_out += 1,
                }
                match r.state {
                    JobState::Failed => counts.failed += 1,
                    JobState::Cancelled => counts.cancelled += 1,
                    _ => counts.retryable += 1,
                }
                tracing::warn!(job = %r.id, reason = r.reason.message(), state = %r.state, "rescued job");
            }
            if (rescued.len() as i64) < self.config.batch {
                break;
            }
        }
        if counts.retryable > 0 {
            // Wake the stager: the retries may be due before its next poll.
            db::wakeups::notify_queues(&self.pool, &[db::wakeups::STAGER.to_string()]).await?;
        }
        // A node row goes only once its heartbeat could have been written
        // for `dead_after` (its jobs would count as lost at once).
        let removed = if reachable_for.is_none_or(|r| r >= self.config.dead_after) {
            db::nodes::delete_dead(&self.pool, now, self.config.dead_after, lease).await?
        } else {
            Vec::new()
        };
        for node in &removed {
            tracing::warn!(%node, "removed dead node");
        }
        counts.nodes_removed = removed.len();
        counts.followed_jobs_removed =
            db::followed_jobs::delete_orphaned(&self.pool, now, FOLLOW_GRACE).await?;
        if counts.followed_jobs_removed > 0 {
            tracing::info!(
                rows = counts.followed_jobs_removed,
                "removed followed-job rows of gone web nodes and clients"
            );
        }
        Ok(counts)
    }
}
