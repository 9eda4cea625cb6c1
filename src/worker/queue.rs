//! The claim loop of one queue on one node.
//!
//! No slot waits on a commit: a slot frees as soon as its handler returns
//! (the outcome waits for its batch in the completer), and the loop claims
//! ahead of the free slots (see [`super::prefetch`]), so a freed slot
//! starts its next job without a round trip. What bounds it all is
//! `Lane::held`: a job takes a place there at its claim and leaves it
//! once its outcome is written, so a queue never has more jobs `running`
//! in the database than its slots, [`super::Prefetch::max`] and
//! [`OUTCOME_BUFFER`]; when those places are taken (outcomes are written
//! slower than handlers finish) claiming pauses.
//!
//! The loop claims when a slot is free with no job waiting for it, or when
//! the jobs claimed ahead ran down to half of what it keeps ahead: one
//! claim per batch, not one per job. When a claim comes back
//! short the queue is drained: the loop arms its wake-up row (so the next
//! enqueue on this queue notifies), looks once more (an enqueue that
//! committed just before arming was not announced), then sleeps until a
//! notification, the fallback poll or shutdown. When it lingers first,
//! when it arms at once and when a paused queue is not armed at all is
//! decided by the state machine of `wake.rs` (its module doc says why);
//! this file does its I/O.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::prefetch::RateMeter;
use super::wake::{self, Action, Event};
use super::{NodeEnv, QueueConfig, execute};
use crate::db;

/// Places per queue for outcomes waiting to be written, beyond its slots
/// and its jobs claimed ahead.
pub const OUTCOME_BUFFER: usize = super::completer::MAX_BATCH;

/// What a queue's claim loop and its executions share.
pub(crate) struct Lane {
    /// One permit per slot, held while a handler runs.
    pub slots: Arc<Semaphore>,
    /// One permit per job from its claim until its outcome is written.
    pub held: Arc<Semaphore>,
    /// Jobs claimed and not yet started (or given up).
    pub waiting: AtomicUsize,
    /// Handlers started so far (the rate that sizes claiming ahead).
    pub started: AtomicU64,
    /// Jobs to keep claimed ahead, as last computed by the loop.
    ahead: AtomicUsize,
    /// Set when jobs claimed ahead had to be handed back (the queue is
    /// drained, or its slots are stuck): claim for free slots only, until
    /// a claim fills them.
    pub ahead_off: AtomicBool,
    /// The loop is waiting for [`Lane::claimable`] to become true.
    parked: AtomicBool,
    wake: Notify,
    /// Shutdown: jobs not started are handed back.
    pub stop: CancellationToken,
}

impl Lane {
    fn new(slots: usize, held: usize, stop: CancellationToken) -> Self {
        Lane {
            slots: Arc::new(Semaphore::new(slots)),
            held: Arc::new(Semaphore::new(held)),
            waiting: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            ahead: AtomicUsize::new(0),
            ahead_off: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            wake: Notify::new(),
            stop,
        }
    }

    /// How many jobs to claim now, if it is time to claim: a slot is free
    /// with nothing waiting for it, or what waits ran down to half of what
    /// is kept ahead.
    fn claimable(&self) -> Option<usize> {
        let ahead = if self.ahead_off.load(Ordering::SeqCst) {
            0
        } else {
            self.ahead.load(Ordering::SeqCst)
        };
        let free = self.slots.available_permits();
        let waiting = self.waiting.load(Ordering::SeqCst);
        let want = (free + ahead)
            .saturating_sub(waiting)
            .min(self.held.available_permits());
        (want > 0 && (free > waiting || want >= ahead.div_ceil(2))).then_some(want)
    }

    /// Wakes the parked loop once there is something to claim for.
    pub fn nudge(&self) {
        if self.parked.load(Ordering::SeqCst)
            && self.claimable().is_some()
            && self.parked.swap(false, Ordering::SeqCst)
        {
            self.wake.notify_one();
        }
    }

    /// Waits until it is time to claim (`None`: shutdown); how many.
    async fn want(&self, meter: &mut RateMeter, prefetch: &super::Prefetch) -> Option<usize> {
        loop {
            let rate = meter.observe(
                self.started.load(Ordering::Relaxed),
                Instant::now(),
                prefetch.window,
            );
            self.ahead.store(prefetch.ahead(rate), Ordering::SeqCst);
            self.parked.store(true, Ordering::SeqCst);
            if let Some(want) = self.claimable() {
                self.parked.store(false, Ordering::SeqCst);
                return Some(want);
            }
            tokio::select! {
                _ = self.stop.cancelled() => return None,
                _ = self.wake.notified() => {}
            }
        }
    }
}

/// How soon a queue held back by one of its limits claims again: at
/// first soon (room frees as its own jobs finish), then, while claims
/// there take nothing, twice as late each time, up to the longest.
const AT_LIMIT_RECHECK: Duration = Duration::from_millis(5);
const AT_LIMIT_RECHECK_MAX: Duration = Duration::from_millis(250);

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
        let prefetch = self.env.config.prefetch;
        let concurrency = self.queue.concurrency;
        let lane = Arc::new(Lane::new(
            concurrency,
            concurrency + prefetch.max + OUTCOME_BUFFER,
            self.stop.clone(),
        ));
        let mut meter = RateMeter::new(Instant::now());
        let mut executions = JoinSet::new();
        let mut state = wake::State::default();
        let mut action = state.action();
        // When the wake-up row was last armed: a notification that comes
        // sooner after it than a linger lasts means lingering pays.
        let mut armed_at = Instant::now();
        let name = &self.queue.name;
        let mut at_limit_wait = AT_LIMIT_RECHECK;
        loop {
            while executions.try_join_next().is_some() {}
            let event = match action {
                Action::Claim => {
                    let Some(want) = lane.want(&mut meter, &prefetch).await else {
                        break;
                    };
                    // Slots that nothing claimed earlier waits for: jobs
                    // beyond them are claimed ahead.
                    let room = lane
                        .slots
                        .available_permits()
                        .saturating_sub(lane.waiting.load(Ordering::SeqCst));
                    let mut permits = Vec::with_capacity(want);
                    while permits.len() < want {
                        match lane.held.clone().try_acquire_owned() {
                            Ok(p) => permits.push(p),
                            Err(_) => break,
                        }
                    }
                    let want = permits.len();
                    let sent = Instant::now();
                    let claimed = db::jobs::claim(
                        &self.fast,
                        name,
                        &self.env.kinds,
                        &self.env.timeouts,
                        want as i64,
                        self.env.node,
                    )
                    .await;
                    match claimed {
                        Ok(db::jobs::Claim { jobs, at_limit }) => {
                            crate::metrics::claimed(name, jobs.iter().map(|j| j.kind.as_str()));
                            let full = jobs.len() == want;
                            let took = jobs.len();
                            let event = if full {
                                Event::ClaimedFull
                            } else if jobs.is_empty() {
                                Event::ClaimedNone
                            } else {
                                Event::ClaimedFewer
                            };
                            // A full claim means more work waits: claim ahead
                            // again. A short one means the queue is drained:
                            // what found no free slot goes back at once, for
                            // other nodes to take.
                            lane.ahead_off.store(!full, Ordering::SeqCst);
                            lane.waiting.fetch_add(jobs.len(), Ordering::SeqCst);
                            for (i, (job, permit)) in
                                jobs.into_iter().zip(permits.drain(..)).enumerate()
                            {
                                let hold = if full || i < room {
                                    prefetch.hold
                                } else {
                                    Duration::ZERO
                                };
                                executions.spawn(execute::run(
                                    self.env.clone(),
                                    lane.clone(),
                                    job,
                                    permit,
                                    sent,
                                    hold,
                                ));
                            }
                            if at_limit && !full {
                                // Held back by a limit, not drained: room frees
                                // as jobs finish here or on other nodes, which
                                // nobody announces. Look again shortly.
                                at_limit_wait = if took == 0 {
                                    (at_limit_wait * 2).min(AT_LIMIT_RECHECK_MAX)
                                } else {
                                    AT_LIMIT_RECHECK
                                };
                                tokio::select! {
                                    _ = self.stop.cancelled() => break,
                                    _ = tokio::time::sleep(at_limit_wait.min(self.env.config.poll_interval)) => {}
                                }
                                continue;
                            }
                            at_limit_wait = AT_LIMIT_RECHECK;
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
