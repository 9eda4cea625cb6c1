//! The claim loop of one queue on one node.
//!
//! It claims no more jobs than it has free slots. When a claim comes back
//! short the queue is drained: the loop arms its waiter row (so the next
//! enqueue on this queue notifies), looks once more (an enqueue that
//! committed just before arming was not announced), then sleeps until a
//! notification, the fallback poll or shutdown. A queue whose wake-ups
//! keep finding nothing lingers longer before re-arming ([`rearm_delay`]).
//! A queue whose lingers find nothing (jobs come one at a time, further
//! apart than a linger) arms at once instead, until a notification comes
//! sooner after arming than a linger lasts: one look fewer between a job
//! and the next one's wake-up, which counts when the server is slow.
//! A queue found paused after a notification that found nothing is not
//! armed again until a notification (`weir.resume_queue` sends one) or
//! the fallback poll: its producers send no NOTIFY meanwhile.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{NodeEnv, QueueConfig, execute};
use crate::db;

/// How long a queue that just ran out of work waits before it looks once
/// more and only then arms its waiter. Under a steady stream of enqueues
/// the second look usually finds work, so a busy queue never re-arms and
/// producers send no NOTIFY (each notifying commit takes a cluster-wide
/// lock through its WAL flush); an idle queue arms this much later, which
/// only delays jobs that arrive within this window after a drain.
pub const REARM_DELAY: Duration = Duration::from_millis(5);

/// The longest linger. A queue whose notifications keep finding nothing
/// (other nodes take the jobs first; a paused queue is not re-armed at
/// all) doubles its linger after
/// each such wake-up, up to this: it re-arms ~20 times a second instead of
/// ~200, and producers send that many fewer NOTIFYs. A wake-up that finds
/// work, or a fallback poll, starts over at [`REARM_DELAY`].
pub const MAX_REARM_DELAY: Duration = Duration::from_millis(50);

/// The linger after `empty_wakes` notifications in a row found nothing.
pub fn rearm_delay(empty_wakes: u32) -> Duration {
    REARM_DELAY
        .saturating_mul(1 << empty_wakes.min(8))
        .min(MAX_REARM_DELAY)
}

pub(crate) struct Runner {
    pub env: Arc<NodeEnv>,
    /// Async-commit pool: claims and waiter rows.
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
        let mut armed = false;
        let mut lingered = false;
        let mut maybe_more = true;
        // Notifications in a row that found no work, and whether the last
        // wake-up was a notification that has found none yet.
        let mut empty_wakes = 0u32;
        let mut notified = false;
        // Whether lingering pays off here: its look found work, or a
        // notification came sooner after arming than a linger lasts. When
        // it does not (jobs arrive one at a time, further apart than the
        // linger), a drained queue arms at once: one look fewer between a
        // job and the waiter being armed again for the next one.
        let mut linger_pays = true;
        let mut armed_at = std::time::Instant::now();
        let name = &self.queue.name;
        loop {
            while executions.try_join_next().is_some() {}
            if !maybe_more {
                if lingered && !armed && empty_wakes == 0 {
                    // The look after a linger found nothing.
                    linger_pays = false;
                }
                if !armed && !lingered {
                    if notified {
                        empty_wakes = empty_wakes.saturating_add(1);
                    }
                    notified = false;
                    if linger_pays || empty_wakes > 0 {
                        lingered = true;
                        maybe_more = true;
                        tokio::select! {
                            _ = self.stop.cancelled() => break,
                            _ = tokio::time::sleep(rearm_delay(empty_wakes)) => {}
                        }
                        continue;
                    }
                }
                if !armed && empty_wakes > 0 && self.paused().await {
                    // A paused queue is not armed, so its producers send
                    // no NOTIFY; weir.resume_queue notifies its listeners
                    // whether armed or not.
                    tokio::select! {
                        _ = self.stop.cancelled() => break,
                        _ = self.wake.notified() => notified = true,
                        _ = tokio::time::sleep(self.env.config.poll_interval) => {}
                    }
                    lingered = false;
                    maybe_more = true;
                    continue;
                }
                if !armed {
                    match db::wakeups::arm(&self.fast, self.env.node, name).await {
                        Ok(()) => {
                            armed = true;
                            armed_at = std::time::Instant::now();
                            maybe_more = true;
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!(queue = %name, error = %e, "arming the waiter failed")
                        }
                    }
                }
                tokio::select! {
                    _ = self.stop.cancelled() => break,
                    _ = self.wake.notified() => {
                        notified = true;
                        if armed_at.elapsed() < REARM_DELAY {
                            // A linger would have found this job unannounced.
                            linger_pays = true;
                        }
                    }
                    _ = tokio::time::sleep(self.env.config.poll_interval) => empty_wakes = 0,
                }
                // Whatever woke us, the waiter row may be disarmed now.
                armed = false;
                lingered = false;
                maybe_more = true;
            }

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
                    maybe_more = jobs.len() == want;
                    if !jobs.is_empty() {
                        if lingered && !armed {
                            // The look after a linger found work.
                            linger_pays = true;
                        }
                        // Ran out after finding work: linger before arming.
                        lingered = false;
                        notified = false;
                        empty_wakes = 0;
                    }
                    for (job, permit) in jobs.into_iter().zip(permits.drain(..)) {
                        executions.spawn(execute::run(self.env.clone(), job, permit));
                    }
                }
                Err(e) if e.is_serialization_failure() => {
                    // A job this claim wanted was claimed and finished
                    // (moved out of jobs_live) by another node meanwhile:
                    // nothing is wrong, claim again at once.
                    tracing::debug!(queue = %name, "claim raced a finished job; retrying");
                }
                Err(e) => {
                    tracing::warn!(queue = %name, error = %e, "claim failed; retrying");
                    drop(permits);
                    tokio::select! {
                        _ = self.stop.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            }
        }
        // Shutdown: no more claims. Running jobs finish, or are handed
        // back when the grace period fires `hard_stop`.
        while executions.join_next().await.is_some() {}
        if let Err(e) = db::wakeups::remove(&self.fast, self.env.node, name).await {
            tracing::debug!(error = %e, "could not remove the waiter row");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linger_doubles_per_empty_wake_up_up_to_the_cap() {
        assert_eq!(rearm_delay(0), REARM_DELAY);
        assert_eq!(rearm_delay(1), Duration::from_millis(10));
        assert_eq!(rearm_delay(3), Duration::from_millis(40));
        assert_eq!(rearm_delay(4), MAX_REARM_DELAY);
        assert_eq!(rearm_delay(u32::MAX), MAX_REARM_DELAY);
    }
}
