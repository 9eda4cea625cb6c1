//! The scheduler: enqueues the ticks of cron schedules (`weir.schedules`).
//!
//! Each pass reads the schedules whose tick is due or whose next tick is
//! not computed yet, parses their expressions ([`crate::cron`]), and for
//! each due one enqueues what [`CronSchedule::plan`] says and advances
//! `next_run_at`, in one transaction fenced by a compare-and-set on
//! `next_run_at` and by the leader's lease
//! ([`db::schedules::fire_if_unchanged`]): a tick is enqueued once however
//! many nodes run, and a leader stopped mid-way leaves nothing half done.
//!
//! A pass returns how long until the next tick, so the maintenance loop
//! sleeps until then; `weir.set_schedule` wakes the loop (through the
//! stager's wake-up), and the loop's own bounded sleep re-reads the table
//! anyway.
//!
//! Ticks at most [`Config::misfire_grace`] old when a pass sees them are
//! on time and each one is enqueued (a busy or handed-over leader loses
//! none). Older ones were missed (no node ran): only the latest of them
//! is enqueued (`catch_up = latest`), or none (`catch_up = none`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::cron::{CatchUp, CronSchedule};
use crate::db;
use crate::error::Result;
use crate::job::NodeId;

/// Default age up to which a due tick counts as on time: longer than a
/// handover between leaders with the default lease.
pub const DEFAULT_MISFIRE_GRACE: Duration = Duration::from_secs(15);

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// A tick older than this when a pass sees it was missed (see the
    /// module doc). Default 15 s.
    pub misfire_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            misfire_grace: DEFAULT_MISFIRE_GRACE,
        }
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Jobs enqueued for ticks.
    pub enqueued: usize,
    /// Schedules whose first tick was computed.
    pub started: usize,
    /// Schedules another scheduler (or a change) advanced first.
    pub lost_races: usize,
    /// Schedules whose expression or time zone cannot be used.
    pub errors: usize,
    /// Until the earliest next tick (database clock), if any.
    pub until_next: Option<Duration>,
}

pub struct Scheduler {
    pool: PgPool,
    config: Config,
    lease: Option<NodeId>,
}

impl Scheduler {
    pub fn new(pool: PgPool, config: Config) -> Self {
        Scheduler {
            pool,
            config,
            lease: None,
        }
    }

    /// Makes every enqueue conditional on `node` holding the maintenance
    /// lease in the database.
    pub fn with_lease(self, node: NodeId) -> Self {
        Scheduler {
            lease: Some(node),
            ..self
        }
    }

    /// One pass at the database's clock.
    pub async fn run_once(&self) -> Result<Counts> {
        self.run_once_at(None).await
    }

    /// One pass as if the time were `now` (the database's clock when
    /// `None`).
    pub async fn run_once_at(&self, now: Option<DateTime<Utc>>) -> Result<Counts> {
        let (now, due, mut next_due) = db::schedules::due(&self.pool, now).await?;
        let mut counts = Counts::default();
        let lease = self.lease.map(|n| (super::ROLE, n));
        for s in due {
            let parsed = CronSchedule::parse(&s.cron, &s.timezone)
                .and_then(|c| CatchUp::parse(&s.catch_up).map(|u| (c, u)));
            let (cron, catch_up) = match parsed {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(schedule = %s.name, error = %e, "schedule cannot run");
                    db::schedules::set_error(&self.pool, &s, &e).await?;
                    counts.errors += 1;
                    continue;
                }
            };
            let next = match s.next_run_at {
                None => {
                    let first = cron.next_after(now);
                    match first {
                        Some(t) => db::schedules::set_first_tick(&self.pool, &s, t).await?,
                        None => {
                            let e = "the cron expression has no tick after now";
                            db::schedules::set_error(&self.pool, &s, e).await?;
                        }
                    }
                    counts.started += 1;
                    first
                }
                Some(expected) => {
                    let plan = cron.plan(expected, now, catch_up, self.config.misfire_grace);
                    let fired = db::schedules::fire_if_unchanged(
                        &self.pool,
                        &s,
                        expected,
                        &plan.enqueue,
                        plan.next_run_at,
                        lease,
                    )
                    .await;
                    let fired = match fired {
                        Ok(f) => f,
                        // One schedule the database refuses (say, a job
                        // field set by hand that breaks a constraint) must
                        // not stop the others; an unreachable database ends
                        // the pass.
                        Err(e) if !e.is_connection_failure() => {
                            tracing::warn!(schedule = %s.name, error = %e, "enqueueing a tick failed");
                            counts.errors += 1;
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    match fired {
                        Some(ids) => {
                            counts.enqueued += ids.len();
                            plan.next_run_at
                        }
                        None => {
                            counts.lost_races += 1;
                            None
                        }
                    }
                }
            };
            next_due = match (next_due, next) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        counts.until_next = next_due.map(|t| {
            // Rounded up to the millisecond, so the loop wakes at or after
            // the tick, never just before it.
            let ms = (t - now).num_microseconds().unwrap_or(i64::MAX).max(0) as u64;
            Duration::from_millis(ms.div_ceil(1000))
        });
        Ok(counts)
    }
}
