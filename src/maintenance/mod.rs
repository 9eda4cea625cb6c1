//! Services that run on one elected node at a time: the [`stager`] (due
//! scheduled and retryable jobs become available), the [`rescuer`] (jobs
//! of dead workers and overrun jobs are taken back), the [`pruner`]
//! (finished jobs past the retention are dropped, a day at a time), the
//! [`scheduler`] (cron schedules enqueue their ticks) and the upkeep of
//! the finished-jobs partitions.
//!
//! # Leadership
//!
//! Leadership is a row in `weir.leaders` with a TTL (`leader_ttl`),
//! renewed every third of it. It keeps no session state, so it works
//! through transaction-mode poolers. A leader that dies without resigning
//! (process killed, database unreachable) is replaced once its lease
//! expires: within `leader_ttl` plus one renewal interval of the others.
//!
//! A leader stops acting as soon as it cannot be sure it still leads: it
//! counts its lease from the moment it sent the renewal (never later than
//! the database's own count), checks that before every service step, and
//! drops leadership on the first failed renewal. The rescuer's and the
//! pruner's writes are also conditional on the lease in the database, so
//! a leader that was deposed while a step ran changes nothing.
//!
//! A leader also keeps track of how long it has reached the database
//! without interruption, and the rescuer counts missed heartbeats only
//! within that time: after an outage every node's heartbeat is old, but
//! nobody could write one (see [`rescuer`]).
//!
//! What needs a direct connection (not a transaction-mode pooler): the
//! worker's `LISTEN` (`crate::worker::listener`), and the pruner, whose
//! `DETACH PARTITION ... CONCURRENTLY` runs as several transactions and
//! whose `lock_timeout` is a session setting.

pub mod pruner;
pub mod rescuer;
pub mod scheduler;
pub mod stager;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::job::NodeId;

/// The leadership role that runs maintenance.
pub const ROLE: &str = "maintenance";
/// Default lease of the leader; renewed every third of it.
pub const DEFAULT_LEADER_TTL: Duration = Duration::from_secs(10);
/// Default interval at which the leader makes sure finished-job
/// partitions exist ahead of time.
pub const DEFAULT_PARTITION_INTERVAL: Duration = Duration::from_secs(3600);
/// Days of finished-job partitions created ahead of today.
pub const PARTITION_DAYS_AHEAD: i32 = 3;

/// Maintenance settings.
#[derive(Debug, Clone)]
pub struct MaintenanceConfig {
    /// Lease of the leader: how long a dead leader blocks the others.
    /// Renewed every third of it. Default 10 s.
    pub leader_ttl: Duration,
    /// Stager settings.
    pub stager: stager::Config,
    /// Rescuer settings.
    pub rescuer: rescuer::Config,
    /// Pruner settings.
    pub pruner: pruner::Config,
    /// Scheduler (cron schedules) settings.
    pub scheduler: scheduler::Config,
    /// How often partitions are checked. Default 1 h.
    pub partition_interval: Duration,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            leader_ttl: DEFAULT_LEADER_TTL,
            stager: stager::Config::default(),
            rescuer: rescuer::Config::default(),
            pruner: pruner::Config::default(),
            scheduler: scheduler::Config::default(),
            partition_interval: DEFAULT_PARTITION_INTERVAL,
        }
    }
}

/// This node's view of its lease: valid until the local instant at which
/// the renewal was sent, plus the TTL, which is never later than the
/// expiry the database computed.
#[derive(Debug, Default)]
struct Lease {
    valid_until: Option<Instant>,
}

impl Lease {
    fn held(&self) -> bool {
        self.valid_until.is_some_and(|t| Instant::now() < t)
    }
}

/// How long this node has reached the database without interruption, as
/// the leader loop sees it: a successful statement starts or extends the
/// stretch, a connection failure (or a silence longer than `max_gap`, as
/// when the process was stalled) ends it.
#[derive(Debug)]
struct Reachability {
    since: Option<Instant>,
    last_ok: Option<Instant>,
    max_gap: Duration,
}

impl Reachability {
    fn new(max_gap: Duration) -> Self {
        Reachability {
            since: None,
            last_ok: None,
            max_gap,
        }
    }

    /// A statement sent at `at` succeeded.
    fn ok(&mut self, at: Instant) {
        let gap = self.last_ok.map(|t| at.saturating_duration_since(t));
        if self.since.is_none() || gap.is_none_or(|g| g > self.max_gap) {
            self.since = Some(at);
        }
        self.last_ok = Some(at);
    }

    /// The database could not be reached.
    fn failed(&mut self) {
        self.since = None;
        self.last_ok = None;
    }

    /// How long the current stretch has lasted at `now`.
    fn reachable_for(&self, now: Instant) -> Duration {
        self.since
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
    }
}

/// When each periodic service last ran.
struct Schedule {
    every: Duration,
    last: Option<Instant>,
}

impl Schedule {
    fn new(every: Duration) -> Self {
        Schedule { every, last: None }
    }

    fn due(&self) -> bool {
        self.last.is_none_or(|t| t.elapsed() >= self.every)
    }

    fn until_due(&self) -> Duration {
        self.last
            .map_or(Duration::ZERO, |t| self.every.saturating_sub(t.elapsed()))
    }
}

/// Competes for leadership and, while leader, runs the services, until
/// `stop`; then resigns so another node takes over at once.
pub async fn run(
    pool: PgPool,
    node: NodeId,
    config: MaintenanceConfig,
    stager_wake: Arc<Notify>,
    stop: CancellationToken,
) {
    let ttl = config.leader_ttl;
    let renew_every = ttl / 3;
    let mut stager = stager::Stager::new(pool.clone(), node, config.stager.clone(), stager_wake);
    let rescuer = rescuer::Rescuer::new(pool.clone(), config.rescuer.clone()).with_lease(node);
    let pruner = pruner::Pruner::new(pool.clone(), config.pruner.clone()).with_lease(node);
    let scheduler =
        scheduler::Scheduler::new(pool.clone(), config.scheduler.clone()).with_lease(node);
    let mut lease = Lease::default();
    let mut reach = Reachability::new(ttl);
    let mut renewed: Option<Instant> = None;
    let mut partitions = Schedule::new(config.partition_interval);
    let mut rescues = Schedule::new(config.rescuer.interval);
    let mut prunes = Schedule::new(config.pruner.interval);
    loop {
        if !lease.held() || renewed.is_none_or(|t| t.elapsed() >= renew_every) {
            let was = lease.held();
            let sent = Instant::now();
            let acquired = db::leaders::try_acquire(&pool, ROLE, node, ttl).await;
            match &acquired {
                Ok(_) => reach.ok(sent),
                Err(e) if e.is_connection_failure() => reach.failed(),
                Err(_) => {}
            }
            lease.valid_until = match acquired {
                Ok(true) => Some(sent + ttl),
                Ok(false) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "leader election failed; not acting as leader");
                    None
                }
            };
            renewed = Some(sent);
            crate::metrics::set_leader(lease.held());
            if lease.held() != was {
                tracing::info!(%node, leader = lease.held(), "maintenance leadership changed");
                if lease.held() {
                    // A new term: run every service at once.
                    partitions.last = None;
                    rescues.last = None;
                    prunes.last = None;
                }
            }
        }
        let mut sleep_for = renew_every;
        if lease.held() && partitions.due() {
            match db::jobs::ensure_finished_partitions(&pool, PARTITION_DAYS_AHEAD).await {
                Ok(n) => {
                    partitions.last = Some(Instant::now());
                    if n > 0 {
                        tracing::info!(created = n, "created finished-job partitions");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "creating partitions failed"),
            }
        }
        if lease.held() {
            let until_due = stager.tick().await;
            sleep_for = sleep_for.min(until_due);
        }
        if lease.held() {
            match scheduler.run_once().await {
                Ok(c) => {
                    if c.enqueued > 0 || c.errors > 0 {
                        tracing::debug!(?c, "scheduler run");
                    }
                    if let Some(until) = c.until_next {
                        sleep_for = sleep_for.min(until);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "scheduler failed"),
            }
        }
        if lease.held() && rescues.due() {
            let reachable_for = reach.reachable_for(Instant::now());
            match rescuer.run_once_reachable(None, Some(reachable_for)).await {
                Ok(c) if c.rescued() > 0 || c.nodes_removed > 0 => {
                    tracing::info!(?c, "rescuer run");
                }
                Ok(_) => {}
                Err(e) => {
                    if e.is_connection_failure() {
                        reach.failed();
                    }
                    tracing::warn!(error = %e, "rescuer failed");
                }
            }
            rescues.last = Some(Instant::now());
        }
        if lease.held() && prunes.due() {
            match pruner.run_once().await {
                Ok(c) if c.partitions_dropped > 0 => tracing::info!(?c, "pruner run"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruner failed"),
            }
            prunes.last = Some(Instant::now());
        }
        if lease.held() {
            sleep_for = sleep_for.min(rescues.until_due()).min(prunes.until_due());
        }
        let leading = lease.held();
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(sleep_for) => {}
            _ = stager.woken(), if leading => {}
        }
    }
    crate::metrics::set_leader(false);
    if lease.valid_until.is_some()
        && let Err(e) = db::leaders::resign(&pool, ROLE, node).await
    {
        tracing::debug!(error = %e, "resigning leadership failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn reachability_counts_from_the_first_success_after_a_failure() {
        let t0 = Instant::now();
        let mut r = Reachability::new(10 * S);
        assert_eq!(r.reachable_for(t0), Duration::ZERO, "never reached yet");
        r.ok(t0);
        r.ok(t0 + 3 * S);
        assert_eq!(r.reachable_for(t0 + 5 * S), 5 * S);
        r.failed();
        assert_eq!(r.reachable_for(t0 + 6 * S), Duration::ZERO);
        r.ok(t0 + 40 * S);
        assert_eq!(
            r.reachable_for(t0 + 42 * S),
            2 * S,
            "counted from the outage's end"
        );
    }

    #[test]
    fn reachability_restarts_after_a_silence_longer_than_the_gap() {
        let t0 = Instant::now();
        let mut r = Reachability::new(10 * S);
        r.ok(t0);
        r.ok(t0 + 8 * S);
        assert_eq!(r.reachable_for(t0 + 8 * S), 8 * S);
        // Nothing for 30 s (a stalled process): that time does not count.
        r.ok(t0 + 38 * S);
        assert_eq!(r.reachable_for(t0 + 39 * S), S);
    }
}
