//! One attempt of one job: runs the handler in its own task (so a panic is
//! caught), enforces the timeout, obeys the end of the shutdown grace
//! period and the supervisor's stop requests (cancel, or the job was taken
//! away), and sends the outcome to the completer.
//!
//! Each execution is listed in the node's [`super::supervisor::Executions`]
//! while it runs, with its claim token and stop signal.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, oneshot};
use tokio::task::JoinError;
use tracing::Instrument;

use super::NodeEnv;
use super::completer::{Outcome, Pending};
use super::supervisor::{StopReason, StopSignal};
use crate::db::jobs::{ClaimedJob, Failure, Success};
use crate::task::{JobContext, JobError};

/// Largest result a handler may return, in bytes of JSON: a larger one
/// fails the job (retrying would redo the work for the same result)
/// instead of being stored, read back by every client and listed.
pub const MAX_RESULT_BYTES: usize = 1024 * 1024;

pub(crate) async fn run(env: Arc<NodeEnv>, job: ClaimedJob, permit: OwnedSemaphorePermit) {
    let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, queue = %job.queue, attempt = job.attempt);
    env.running.fetch_add(1, Ordering::Relaxed);
    let (queue, kind) = (job.queue.clone(), job.kind.clone());
    let started = std::time::Instant::now();
    let (id, token) = (job.id, job.claim_token);
    let retry_in = env.config.backoff.delay(job.attempt);
    let signal = env.executions.insert(id, token);
    let outcome = attempt(&env, job, signal).instrument(span).await;
    env.executions.remove(id, token);
    env.running.fetch_sub(1, Ordering::Relaxed);
    // The completer lives until every execution has sent its outcome. The
    // slot stays taken until the outcome is written: until then the job
    // still counts as running in the database.
    if let Some(outcome) = outcome {
        record_metrics(&queue, &kind, &outcome, started.elapsed());
        let (recorded, written) = oneshot::channel();
        let pending = Pending {
            outcome,
            retry_in,
            recorded: Some(recorded),
        };
        if env.outcomes.send(pending).is_ok() {
            let _ = written.await;
        }
    }
    drop(permit);
}

/// Runs the attempt; `None` when it must record nothing (the supervisor
/// found that the job is no longer this attempt's).
async fn attempt(env: &NodeEnv, job: ClaimedJob, signal: StopSignal) -> Option<Outcome> {
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
        }),
        Ok(Err(JobError::Retry(message))) => fail(message, false),
        Ok(Err(JobError::Fatal(message))) => fail(message, true),
        Ok(Err(JobError::Cancelled)) => Outcome::Cancelled(job.id, job.claim_token),
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

fn record_metrics(queue: &str, kind: &str, outcome: &Outcome, elapsed: Duration) {
    let name = match outcome {
        Outcome::Succeeded(_) => "succeeded",
        Outcome::Failed(f) if f.fatal => "failed",
        Outcome::Failed(_) => "errored",
        Outcome::Cancelled(..) => "cancelled",
        Outcome::HandedBack(..) => "handed_back",
    };
    let labels = [("queue", queue), ("kind", kind)];
    crate::metrics::observe_run(&labels, elapsed);
    crate::metrics::inc(
        "weir_jobs_finished_total",
        &[labels[0], labels[1], ("outcome", name)],
    );
}
