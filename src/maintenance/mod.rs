//! Services that run on one elected node at a time: the [`stager`] (due
//! scheduled and retryable jobs become available) and the upkeep of the
//! finished-jobs partitions.
//!
//! Leadership is a row in `weir.leaders` with a TTL, renewed by the
//! leader; it keeps no session state, so it works through poolers.

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
pub const DEFAULT_LEADER_TTL: Duration = Duration::from_secs(15);
/// Default interval at which the leader makes sure finished-job
/// partitions exist ahead of time.
pub const DEFAULT_PARTITION_INTERVAL: Duration = Duration::from_secs(3600);
/// Days of finished-job partitions created ahead of today.
pub const PARTITION_DAYS_AHEAD: i32 = 3;

/// Maintenance settings.
#[derive(Debug, Clone)]
pub struct MaintenanceConfig {
    /// Lease of the leader. Default 15 s.
    pub leader_ttl: Duration,
    /// Stager settings.
    pub stager: stager::Config,
    /// How often partitions are checked. Default 1 h.
    pub partition_interval: Duration,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            leader_ttl: DEFAULT_LEADER_TTL,
            stager: stager::Config::default(),
            partition_interval: DEFAULT_PARTITION_INTERVAL,
        }
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
    let renew_every = config.leader_ttl / 3;
    let mut stager = stager::Stager::new(pool.clone(), node, config.stager.clone(), stager_wake);
    let mut leader = false;
    let mut renewed = Instant::now() - config.leader_ttl;
    let mut partitions_checked: Option<Instant> = None;
    loop {
        if renewed.elapsed() >= renew_every || !leader {
            let was = leader;
            leader = match db::leaders::try_acquire(&pool, ROLE, node, config.leader_ttl).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "leader election failed");
                    false
                }
            };
            renewed = Instant::now();
            if leader != was {
                tracing::info!(%node, leader, "maintenance leadership changed");
            }
        }
        let mut sleep_for = renew_every;
        if leader {
            if partitions_checked.is_none_or(|t| t.elapsed() >= config.partition_interval) {
                match db::jobs::ensure_finished_partitions(&pool, PARTITION_DAYS_AHEAD).await {
                    Ok(n) => {
                        partitions_checked = Some(Instant::now());
                        if n > 0 {
                            tracing::info!(created = n, "created finished-job partitions");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "creating partitions failed"),
                }
            }
            let until_due = stager.tick().await;
            sleep_for = sleep_for.min(until_due);
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(sleep_for) => {}
            _ = stager.woken(), if leader => {}
        }
    }
    if leader && let Err(e) = db::leaders::resign(&pool, ROLE, node).await {
        tracing::debug!(error = %e, "resigning leadership failed");
    }
}
