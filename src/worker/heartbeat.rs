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

/// Stamps the node's heartbeat every `interval` until `stop`.
pub async fn run(
    pool: PgPool,
    node: NodeId,
    running: Arc<AtomicI32>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        match db::nodes::heartbeat(&pool, node, running.load(Ordering::Relaxed)).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(%node, "node row missing (declared dead?); it re-registers at restart")
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
