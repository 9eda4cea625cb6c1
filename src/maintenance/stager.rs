//! The stager: due `scheduled` and `retryable` jobs become `available`.
//!
//! It sleeps until the next due time (never longer than the poll interval)
//! and is woken early when a job is scheduled sooner (the insert trigger
//! and the completer notify its wake-up `$stager`).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::db;
use crate::error::Result;
use crate::job::NodeId;

/// Default longest sleep between two runs.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Default most jobs staged per statement.
pub const DEFAULT_BATCH: i64 = 1000;

/// Stager settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Longest sleep between runs. Default 1 s.
    pub poll_interval: Duration,
    /// Most jobs staged per statement. Default 1000.
    pub batch: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            poll_interval: DEFAULT_POLL_INTERVAL,
            batch: DEFAULT_BATCH,
        }
    }
}

pub struct Stager {
    pool: PgPool,
    node: NodeId,
    config: Config,
    wake: Arc<Notify>,
    armed: bool,
}

impl Stager {
    pub fn new(pool: PgPool, node: NodeId, config: Config, wake: Arc<Notify>) -> Self {
        Stager {
            pool,
            node,
            config,
            wake,
            armed: false,
        }
    }

    /// Stages every due job, in batches. Returns how many were staged.
    pub async fn run_once(&self) -> Result<i64> {
        let mut total = 0;
        loop {
            let n = db::jobs::stage_due(&self.pool, None, self.config.batch).await?;
            total += n;
            if n < self.config.batch {
                return Ok(total);
            }
        }
    }

    /// One step of the loop: arm the waiter, stage, and return how long
    /// to sleep (until the next due job, at most the poll interval).
    pub async fn tick(&mut self) -> Duration {
        if !self.armed {
            match db::wakeups::arm(&self.pool, self.node, db::wakeups::STAGER).await {
                Ok(()) => self.armed = true,
                Err(e) => tracing::warn!(error = %e, "arming the stager failed"),
            }
        }
        match self.run_once().await {
            Ok(n) if n > 0 => tracing::debug!(staged = n, "staged due jobs"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "staging failed"),
        }
        match db::jobs::next_due_in(&self.pool).await {
            Ok(Some(d)) => d.min(self.config.poll_interval),
            Ok(None) => self.config.poll_interval,
            Err(e) => {
                tracing::warn!(error = %e, "reading the next due time failed");
                self.config.poll_interval
            }
        }
    }

    /// Completes when a job was scheduled (the waiter is then disarmed).
    pub async fn woken(&mut self) {
        self.wake.notified().await;
        self.armed = false;
    }
}
