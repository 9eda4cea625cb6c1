//! The supervision of this node's running attempts: about once a second,
//! one read over the ids and claim tokens of every execution tells whether a
//! cancel was requested and whether each attempt still holds its job.
//!
//! - Cancel requested: the handler's context is cancelled (it sees
//!   `ctx.is_cancelled()`); the execution records `cancelled` when the
//!   handler stops, or aborts it after the cancel grace and records
//!   `cancelled` all the same.
//! - No longer running with our claim token (rescued, re-claimed, or the
//!   claim was lost in a database crash): the handler is told to stop and
//!   aborted after the grace; nothing is recorded, since the job is no
//!   longer this attempt's.
//!
//! It runs in its own task, independent of handlers, on the async-commit
//! pool (it only reads).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::db::jobs::Watched;
use crate::job::{ClaimToken, JobId};

/// Why an execution was told to stop by the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// A cancel was requested: record `cancelled`.
    CancelRequested,
    /// The attempt no longer holds the job: record nothing.
    Lost,
}

/// The stop signal of one execution: the handler's cancellation token and
/// the reason, set once before the token is cancelled.
#[derive(Clone, Default)]
pub struct StopSignal {
    pub token: CancellationToken,
    reason: Arc<OnceLock<StopReason>>,
}

impl StopSignal {
    /// Tells the handler to stop; the first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    /// The reason, once stopped.
    pub fn reason(&self) -> Option<StopReason> {
        self.reason.get().copied()
    }
}

/// The executions running on this node, by job id.
#[derive(Default)]
pub struct Executions {
    by_job: Mutex<HashMap<JobId, (ClaimToken, StopSignal)>>,
}

impl Executions {
    /// Registers an attempt; the returned signal stops it. An older
    /// attempt of the same job still running here (the job was rescued
    /// and this node claimed it again) is told to stop at once.
    pub fn insert(&self, id: JobId, token: ClaimToken) -> StopSignal {
        let signal = StopSignal::default();
        let replaced = self
            .by_job
            .lock()
            .expect("executions poisoned")
            .insert(id, (token, signal.clone()));
        if let Some((old, old_signal)) = replaced
            && old != token
        {
            old_signal.stop(StopReason::Lost);
        }
        signal
    }

    /// Forgets an attempt (it ended), unless a newer attempt of the same
    /// job replaced it.
    pub fn remove(&self, id: JobId, token: ClaimToken) {
        let mut map = self.by_job.lock().expect("executions poisoned");
        if map.get(&id).is_some_and(|(t, _)| *t == token) {
            map.remove(&id);
        }
    }

    fn snapshot(&self) -> Vec<(JobId, ClaimToken)> {
        self.by_job
            .lock()
            .expect("executions poisoned")
            .iter()
            .filter(|(_, (_, s))| s.reason().is_none())
            .map(|(id, (t, _))| (*id, *t))
            .collect()
    }

    fn stop(&self, id: JobId, token: ClaimToken, reason: StopReason) {
        let map = self.by_job.lock().expect("executions poisoned");
        if let Some((t, signal)) = map.get(&id)
            && *t == token
        {
            signal.stop(reason);
        }
    }
}

/// Checks every running attempt of this node every `interval` until `stop`.
pub async fn run(
    pool: PgPool,
    executions: Arc<Executions>,
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
        let running = executions.snapshot();
        if running.is_empty() {
            continue;
        }
        let tokens: HashMap<JobId, ClaimToken> = running.iter().copied().collect();
        match db::jobs::watch_running(&pool, &running).await {
            Ok(seen) => {
                for (id, watched) in seen {
                    let reason = match watched {
                        Watched::Held => continue,
                        Watched::CancelRequested => StopReason::CancelRequested,
                        Watched::Lost => StopReason::Lost,
                    };
                    if let Some(token) = tokens.get(&id) {
                        match reason {
                            StopReason::CancelRequested => {
                                tracing::info!(job = %id, "cancel requested; telling the handler to stop")
                            }
                            StopReason::Lost => tracing::warn!(
                                job = %id,
                                "attempt no longer holds the job (rescued or re-claimed); stopping it"
                            ),
                        }
                        executions.stop(id, *token, reason);
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "supervising running jobs failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_new_attempt_of_the_same_job_stops_the_old_one() {
        let executions = Executions::default();
        let id = JobId(Uuid::new_v4());
        let (old, new) = (ClaimToken(Uuid::new_v4()), ClaimToken(Uuid::new_v4()));
        let old_signal = executions.insert(id, old);
        let new_signal = executions.insert(id, new);
        assert!(old_signal.token.is_cancelled());
        assert_eq!(old_signal.reason(), Some(StopReason::Lost));
        assert!(!new_signal.token.is_cancelled());

        // The old attempt ending does not forget the new one.
        executions.remove(id, old);
        assert_eq!(executions.snapshot(), vec![(id, new)]);
        executions.remove(id, new);
        assert!(executions.snapshot().is_empty());
    }

    #[test]
    fn the_first_stop_reason_wins() {
        let signal = StopSignal::default();
        signal.stop(StopReason::CancelRequested);
        signal.stop(StopReason::Lost);
        assert_eq!(signal.reason(), Some(StopReason::CancelRequested));
    }
}
