//! The claim loop of one queue on one node.
//!
//! It claims no more jobs than it has free slots. When a claim comes back
//! short the queue is drained: the loop arms its wake-up row (so the next
//! enqueue on this queue notifies), looks once more (an enqueue that
//! committed just before arming was not announced), then sleeps until a
//! notification, the fallback poll or shutdown. When it lingers first,
//! when it arms at once and when a paused queue is not armed at all is
//! decided by the state machine of `wake.rs` (its module doc says why);
//! this file does its I/O.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::wake::{self, Action, Event};
use super::{NodeEnv, QueueConfig, execute};
use crate::db;

pub(crate) struct Runner {
    pub env: Arc<NodeEnv>,
    /// Async-commit pool: claims and wake-up rows.
    pub fast: PgPool,
    pub queue: QueueConfig,
    pub wake: Arc<Notify>,
    pub stop: CancellationToken,
}

impl Runner {
    /// Whether the queue is paused (false when that cannot be read: the
    /// queue is then armed as usual).
    async fn paused(&self) -> bool {
        db::queues::is_paused(&self.fast, &self.queue.name)
            .await
            .unwrap_or_else(|e| {
                tracing::debug!(queue = %self.queue.name, error = %e, "reading the pause failed");
                false
            })
    }

    pub async fn run(self) {
        let slots = Arc::new(Semaphore::new(self.queue.concurrency));
        let mut executions = JoinSet::new();
        let mut state = wake::State::default();
        let mut action = state.action();
        // When the wake-up row was last armed: a notification that comes
        // sooner after it than a linger lasts means lingering pays.
        let mut armed_at = Instant::now();
        let name = &self.queue.name;
        loop {
            while executions.try_join_next().is_some() {}
            let event = match action {
                Action::Claim => {
                    let first = tokio::select! {
                        _ = self.stop.cancelled() => break,
                        permit = slots.clone().acquire_owned() => permit.expect("semaphore never closed"),
                    };
                    let mut permits = vec![first];
                    while let Ok(p) = slots.clone().try_acquire_owned() {
                        permits.push(p);
                    }
                    let want = permits.len();
                    let claimed = db::jobs::claim_available(
                        &self.fast,
                        name,
                        &self.env.kinds,
                        &self.env.timeouts,
                        want as i64,
                        self.env.node,
                    )
                    .await;
                    match claimed {
                        Ok(jobs) => {
                            crate::metrics::claimed(name, jobs.iter().map(|j| j.kind.as_str()));
                            let event = if jobs.len() == want {
                                Event::ClaimedFull
                            } else if jobs.is_empty() {
                                Event::ClaimedNone
                            } else {
                                Event::ClaimedFewer
                            };
                            for (job, permit) in jobs.into_iter().zip(permits.drain(..)) {
                                executions.spawn(execute::run(self.env.clone(), job, permit));
                            }
                            event
                        }
                        Err(e) if e.is_serialization_failure() => {
                            // A job this claim wanted was claimed and finished
                            // (moved out of jobs_live) by another node meanwhile:
                            // nothing is wrong, claim again at once.
                            tracing::debug!(queue = %name, "claim raced a finished job; retrying");
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!(queue = %name, error = %e, "claim failed; retrying");
                            drop(permits);
                            tokio::select! {
                                _ = self.stop.cancelled() => break,
                                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                            }
                            continue;
                        }
                    }
                }
                Action::Linger(delay) => {
                    tokio::select! {
                        _ = self.stop.cancelled() => break,
                        _ = tokio::time::sleep(delay) => Event::LingerOver,
                    }
                }
                Action::ReadPause => {
                    if self.paused().await {
                        Event::FoundPaused
                    } else {
                        Event::FoundNotPaused
                    }
                }
                Action::Arm => match db::wakeups::arm(&self.fast, self.env.node, name).await {
                    Ok(()) => {
                        armed_at = Instant::now();
                        Event::Armed
                    }
                    Err(e) => {
                        tracing::warn!(queue = %name, error = %e, "arming the wake-up row failed");
                        Event::ArmFailed
                    }
                },
                Action::Wait => {
                    tokio::select! {
                        _ = self.stop.cancelled() => break,
                        _ = self.wake.notified() => Event::Notified { since_armed: armed_at.elapsed() },
                        _ = tokio::time::sleep(self.env.config.poll_interval) => Event::PollTick,
                    }
                }
            };
            (state, action) = wake::next(state, event);
        }
        // Shutdown: no more claims. Running jobs finish, or are handed
        // back when the grace period fires `hard_stop`.
        while executions.join_next().await.is_some() {}
        if let Err(e) = db::wakeups::remove(&self.fast, self.env.node, name).await {
            tracing::debug!(error = %e, "could not remove the wake-up row");
        }
    }
}
