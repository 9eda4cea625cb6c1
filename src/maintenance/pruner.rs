//! The pruner: finished jobs older than the retention go away a whole day
//! at a time, by detaching and dropping the day partitions of
//! `weir.jobs_finished` whose range ended before now - retention (see
//! docs/storage.md). No `DELETE`, no bloat, and the live partition, where
//! claims happen, is never touched.
//!
//! `DETACH PARTITION ... CONCURRENTLY` takes only a SHARE UPDATE EXCLUSIVE
//! lock on `weir.jobs_finished`, so completions keep flowing while it
//! waits; it cannot run inside a transaction block, and is refused when a
//! DEFAULT partition exists (weir creates none). Each step runs with a
//! `lock_timeout` and is retried; a detach interrupted half-way is
//! finished (`FINALIZE`) by the next run, and a partition detached but not
//! dropped is dropped then.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::db;
use crate::error::Result;
use crate::job::NodeId;

/// Default retention of finished jobs: 7 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default interval between two runs.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(3600);
/// Default `lock_timeout` of each DDL statement.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// Default tries of each DDL statement before the run gives up (the next
/// run starts over).
pub const DEFAULT_ATTEMPTS: u32 = 3;

/// Pruner settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Finished jobs are kept at least this long. Default 7 days; whole
    /// UTC days are dropped, so a job is kept up to one day longer.
    pub retention: Duration,
    /// Interval between two runs. Default 1 h.
    pub interval: Duration,
    /// `lock_timeout` of each DDL statement. Default 5 s.
    pub lock_timeout: Duration,
    /// Tries per DDL statement. Default 3.
    pub attempts: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            retention: DEFAULT_RETENTION,
            interval: DEFAULT_INTERVAL,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            attempts: DEFAULT_ATTEMPTS,
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Day partitions dropped.
    pub partitions_dropped: usize,
}

pub struct Pruner {
    pool: PgPool,
    config: Config,
    lease: Option<NodeId>,
}

impl Pruner {
    pub fn new(pool: PgPool, config: Config) -> Self {
        Pruner {
            pool,
            config,
            lease: None,
        }
    }

    /// Before each partition, checks that `node` still holds the
    /// maintenance lease, and stops if not.
    pub fn with_lease(mut self, node: NodeId) -> Self {
        self.lease = Some(node);
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Drops every day partition whose range ended before now - retention,
    /// and the idempotency keys past their 24 hours.
    pub async fn run_once(&self) -> Result<Counts> {
        self.run_once_at(None).await
    }

    /// [`Pruner::run_once`] with the database clock pinned to `now`.
    pub async fn run_once_at(&self, now: Option<DateTime<Utc>>) -> Result<Counts> {
        let mut counts = Counts::default();
        db::idempotency::delete_expired(&self.pool, now).await?;
        let old =
            db::jobs::finished_partitions_ended_before(&self.pool, now, self.config.retention)
                .await?;
        if old.is_empty() {
            return Ok(counts);
        }
        // One session for the lock_timeout setting; DETACH CONCURRENTLY
        // must not run in a transaction block, so no transaction here.
        let mut conn = self.pool.acquire().await?;
        db::jobs::set_lock_timeout(&mut *conn, Some(self.config.lock_timeout)).await?;
        let result = async {
            for part in &old {
                if let Some(node) = self.lease
                    && !db::leaders::holds(&mut *conn, super::ROLE, node).await?
                {
                    tracing::info!("maintenance lease lost; pruner stops");
                    break;
                }
                if part.attached {
                    let step = if part.detach_pending {
                        Step::Finalize
                    } else {
                        Step::Detach
                    };
                    self.retry(&mut conn, &part.name, step).await?;
                }
                self.retry(&mut conn, &part.name, Step::Drop).await?;
                tracing::info!(partition = %part.name, "dropped finished jobs past retention");
                counts.partitions_dropped += 1;
            }
            Ok::<_, crate::Error>(())
        }
        .await;
        let reset = db::jobs::set_lock_timeout(&mut *conn, None).await;
        result?;
        reset?;
        Ok(counts)
    }

    async fn retry(&self, conn: &mut PgConnection, name: &str, step: Step) -> Result<()> {
        let mut tries = 0;
        loop {
            tries += 1;
            let done = match step {
                Step::Detach => db::jobs::detach_finished_partition(&mut *conn, name, false).await,
                Step::Finalize => db::jobs::detach_finished_partition(&mut *conn, name, true).await,
                Step::Drop => db::jobs::drop_detached_partition(&mut *conn, name).await,
            };
            match done {
                Ok(()) => return Ok(()),
                Err(e) if tries < self.config.attempts.max(1) => {
                    tracing::warn!(error = %e, partition = name, ?step, tries, "pruner step failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(tries))).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Detach,
    Finalize,
    Drop,
}
