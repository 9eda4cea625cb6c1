//! One attempt of one job: runs the handler in its own task (so a panic is
//! caught), enforces the timeout, obeys the end of the shutdown grace
//! period and the supervisor's stop requests (cancel, or the job was taken
//! away), and sends the outcome to the completer.
//!
//! Each execution is listed in the node's [`super::supervisor::Executions`]
//! from its claim to its end, with its claim token and stop signal: a job
//! claimed ahead that still waits for a slot sees cancels and rescues too.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, oneshot};
use tokio::task::JoinError;
use tracing::Instrument;

use super::NodeEnv;
use super::completer::{Outcome, Pending};
use super::queue::Lane;
use super::supervisor::{StopReason, StopSignal};
use crate::db::jobs::{ClaimedJob, Failure, Success};
use crate::job::{ClaimToken, JobId};
use crate::task::{JobContext, JobError};

/// Largest result a handler may return, in bytes of JSON: a larger one
/// fails the job (retrying would redo the work for the same result)
/// instead of being stored, read back by every client and listed.
pub const MAX_RESULT_BYTES: usize = 1024 * 1024;

/// Runs one claimed job: waits for a slot of its queue (at once, unless
/// it was claimed ahead), runs the attempt, frees the slot as soon as the
/// handler returns, then waits for the outcome to be recorded while
/// holding `held`, its place in the queue's bounded buffers (so a queue
/// never has more jobs `running` in the database than those allow).
///
/// A job that gets no slot never starts: it is handed back at shutdown or
/// after `hold` (its attempt not spent), or recorded `cancelled` when a
/// cancel was requested meanwhile.
pub(crate) async fn run(
    env: Arc<NodeEnv>,
    lane: Arc<Lane>,
    job: ClaimedJob,
    held: OwnedSemaphorePermit,
    claim_sent: Instant,
    hold: Duration,
) {
    let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, queue = %job.queue, attempt = job.attempt);
    crate::trace::set_parent(&span, job.traceparent.as_deref());
    let (id, token) = (job.id, job.claim_token);
    let retry_in = env.config.backoff.delay(job.attempt);
    let last_attempt = job.attempt >= job.max_attempts;
    let signal = env.executions.insert(id, token);
    let (slot, waited) = match lane.slots.clone().try_acquire_owned() {
        Ok(slot) => (Some(slot), false),
        Err(_) if hold.is_zero() => (None, false),
        Err(_) => (
            tokio::select! {
                biased;
                _ = lane.stop.cancelled() => None,
                _ = signal.token.cancelled() => None,
                slot = lane.slots.clone().acquire_owned() => Some(slot.expect("semaphore never closed")),
                _ = tokio::time::sleep(hold) => None,
            },
            true,
        ),
    };
    if slot.is_none() && signal.reason().is_none() && !lane.stop.is_cancelled() {
        // The queue holds more than its slots start: stop claiming ahead
        // (before the loop can see this job gone) until a claim fills the
        // free slots again.
        lane.ahead_off.store(true, Ordering::SeqCst);
    }
    lane.waiting.fetch_sub(1, Ordering::SeqCst);
    let outcome = match slot {
        Some(slot) => {
            lane.started.fetch_add(1, Ordering::Relaxed);
            lane.nudge();
            env.running.fetch_add(1, Ordering::Relaxed);
            let (queue, kind) = (job.queue.clone(), job.kind.clone());
            let started = Instant::now();
            crate::metrics::started(
                &queue,
                (chrono::Utc::now() - job.run_at)
                    .to_std()
                    .unwrap_or_default(),
            );
            // The claim stamped `started_at` on the database clock between
            // `claim_sent` and its answer: a job that waited for a slot
            // moves it forward by the time since the claim was sent (never
            // before the handler's start, at most a round trip after).
            let start_delay = if waited {
                started.saturating_duration_since(claim_sent)
            } else {
                Duration::ZERO
            };
            let outcome = attempt(&env, job, signal, start_delay)
                .instrument(span)
                .await;
            env.running.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
            lane.nudge();
            if let Some(outcome) = &outcome {
                record_metrics(&queue, &kind, last_attempt, outcome, started.elapsed());
            }
            outcome
        }
        None => {
            lane.nudge();
            never_started(id, token, &signal)
        }
    };
    env.executions.remove(id, token);
    // The completer lives until every execution has sent its outcome. The
    // job counts as running in the database until its outcome is written:
    // `held` stays taken until then.
    if let Some(outcome) = outcome {
        let (recorded, written) = oneshot::channel();
        let pending = Pending {
            outcome,
            retry_in,
            recorded: Some(recorded),
        };
        crate::metrics::outcome_buffer(1);
        if env.outcomes.send(pending).is_ok() {
            let _ = written.await;
        }
    }
    drop(held);
    lane.nudge();
}

/// The outcome of a job claimed ahead that never got a slot.
fn never_started(id: JobId, token: ClaimToken, signal: &StopSignal) -> Option<Outcome> {
    match signal.reason() {
        Some(StopReason::Lost) => None,
        Some(StopReason::CancelRequested) => {
            tracing::info!(job = %id, "cancelled before it started");
            Some(Outcome::Cancelled(id, token))
        }
        None => {
            tracing::debug!(job = %id, "claimed ahead, never started; handing it back");
            Some(Outcome::HandedBack(id, token))
        }
    }
}

/// Runs the attempt; `None` when it must record nothing (the supervisor
/// found that the job is no longer this attempt's).
async fn attempt(
    env: &NodeEnv,
    job: ClaimedJob,
    signal: StopSignal,
    start_delay: Duration,
) -> Option<Outcome> {
    let ctx = JobContext {
        id: job.id,
        kind: job.kind.clone(),
        queue: job.queue.clone(),
        attempt: job.attempt,
        max_attempts: job.max_attempts,
        token: job.claim_token,
        cancel: signal.token.clone(),
        board: env.board.clone(),
        pool: env.pool.clone(),
    };
    let fail = |message: String, fatal: bool| {
        Outcome::Failed(Failure {
            id: job.id,
            token: job.claim_token,
            message,
            fatal,
            retry_in: env.config.backoff.delay(job.attempt),
            start_delay,
        })
    };
    let Some(handler) = env.registry.call(&job.kind, ctx, job.args.clone()) else {
        // Claims filter on served kinds, so this is a bug, not bad input.
        return Some(fail(format!("no handler for kind {}", job.kind), true));
    };
    tracing::debug!("started");
    let timeout = Duration::from_secs(job.timeout_seconds.max(1) as u64);
    let mut task = tokio::spawn(handler.in_current_span());
    let from_handler = |joined: Result<Result<serde_json::Value, JobError>, JoinError>| match joined
    {
        Ok(Ok(result)) if result.to_string().len() > MAX_RESULT_BYTES => fail(
            format!("the handler's result is over the limit of {MAX_RESULT_BYTES} bytes of JSON"),
            true,
        ),
        Ok(Ok(result)) if crate::job::unreadable_json(&result).is_some() => fail(
            format!(
                "the handler's result cannot be stored: {}",
                crate::job::unreadable_json(&result).unwrap_or_default()
            ),
            true,
        ),
        Ok(Ok(result)) => Outcome::Succeeded(Success {
            id: job.id,
            token: job.claim_token,
            result,
            progress: env.board.take(job.id),
            start_delay,
        }),
        Ok(Err(JobError::Retry(message))) => fail(message, false),
        Ok(Err(JobError::Fatal(message))) => fail(message, true),
        Ok(Err(JobError::Cancelled)) => Outcome::Cancelled(job.id, job.claim_token),
        Ok(Err(JobError::Snooze(delay))) => Outcome::Snoozed(job.id, job.claim_token, delay),
        Err(e) => fail(format!("handler panicked: {}", panic_message(e)), false),
    };
    let outcome = tokio::select! {
        joined = &mut task => from_handler(joined),
        _ = tokio::time::sleep(timeout) => {
            task.abort();
            fail(format!("timed out after {} s", timeout.as_secs()), false)
        }
        _ = env.hard_stop.cancelled() => {
            task.abort();
            tracing::info!("shutdown grace period over; handing the job back");
            Outcome::HandedBack(job.id, job.claim_token)
        }
        _ = signal.token.cancelled() => {
            // Told to stop by the supervisor: the handler gets the cancel grace
            // to wind down, then it is aborted.
            let reason = signal.reason().unwrap_or(StopReason::Lost);
            let joined = tokio::time::timeout(env.config.cancel_grace, &mut task).await;
            if joined.is_err() {
                task.abort();
                tracing::warn!(?reason, grace = ?env.config.cancel_grace,
                    "handler ignored the stop request; aborted");
            }
            match (reason, joined) {
                (StopReason::Lost, _) => {
                    env.board.take(job.id);
                    tracing::info!("attempt stopped; the job is no longer ours, nothing recorded");
                    return None;
                }
                // A handler that finished its work anyway keeps its result.
                (StopReason::CancelRequested, Ok(joined @ Ok(Ok(_)))) => from_handler(joined),
                (StopReason::CancelRequested, _) => Outcome::Cancelled(job.id, job.claim_token),
            }
        }
    };
    match &outcome {
        Outcome::Succeeded(_) => tracing::debug!("succeeded"),
        Outcome::Failed(f) => tracing::info!(error = %f.message, fatal = f.fatal, "attempt failed"),
        Outcome::Cancelled(..) => tracing::info!("cancelled"),
        Outcome::HandedBack(..) => {}
        Outcome::Snoozed(_, _, d) => tracing::debug!(delay = ?d, "snoozed"),
    }
    Some(outcome)
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into()),
        Err(e) => e.to_string(),
    }
}

fn record_metrics(
    queue: &str,
    kind: &str,
    last_attempt: bool,
    outcome: &Outcome,
    elapsed: Duration,
) {
    let name = match outcome {
        Outcome::Succeeded(_) => "succeeded",
        Outcome::Failed(f) if f.fatal || last_attempt => "failed",
        Outcome::Failed(_) => "retried",
        Outcome::Cancelled(..) => "cancelled",
        Outcome::HandedBack(..) => "handed_back",
        Outcome::Snoozed(..) => "snoozed",
    };
    crate::metrics::finished(queue, kind, name, elapsed);
}
