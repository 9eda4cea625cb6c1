//! Node liveness and batched progress writes, both on the async-commit
//! pool and both in their own tasks, independent of handlers.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::job::NodeId;
use crate::task::ProgressBoard;

/// What a node registers in `weir.nodes`.
#[derive(Debug, Clone)]
pub struct Registration {
    pub node: NodeId,
    pub host: String,
    pub pid: i32,
    /// `{queue: concurrency}`.
    pub queues: serde_json::Value,
    pub kinds: Vec<String>,
}

impl Registration {
    /// Inserts (or refreshes) the node's row, durably.
    pub async fn register(&self, pool: &PgPool) -> crate::Result<()> {
        db::nodes::register(
            pool,
            self.node,
            &self.host,
            self.pid,
            &self.queues,
            &self.kinds,
        )
        .await
    }
}

/// Stamps the node's heartbeat every `interval` until `stop`. When the row
/// is gone (the node was declared dead while it was cut off; its jobs were
/// rescued and the supervisor stops their handlers), it registers again.
pub async fn run(
    fast: PgPool,
    durable: PgPool,
    registration: Registration,
    running: Arc<AtomicI32>,
    interval: Duration,
    stop: CancellationToken,
) {
    let node = registration.node;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        match db::nodes::heartbeat(&fast, node, running.load(Ordering::Relaxed)).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(%node, "node row missing (declared dead); registering again");
                if let Err(e) = registration.register(&durable).await {
                    tracing::warn!(error = %e, "registering again failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
        }
    }
}

/// Writes the latest progress of every reporting job every `interval`, in
/// one statement, until `stop` (then once more).
pub(crate) async fn flush_progress(
    pool: PgPool,
    board: Arc<ProgressBoard>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = stop.cancelled() => true,
            _ = tick.tick() => false,
        };
        let reports = board.drain();
        if !reports.is_empty()
            && let Err(e) = db::jobs::set_progress_if_running(&pool, &reports).await
        {
            tracing::warn!(error = %e, reports = reports.len(), "progress write failed; dropped");
        }
        if stopping {
            return;
        }
    }
}
