//! One attempt of one job: runs the handler in its own task (so a panic is
//! caught), enforces the timeout, obeys the end of the shutdown grace
//! period, and sends the outcome to the completer.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::NodeEnv;
use super::completer::Outcome;
use crate::db::jobs::{ClaimedJob, Failure, Success};
use crate::task::{JobContext, JobError};

pub(crate) async fn run(env: Arc<NodeEnv>, job: ClaimedJob, permit: OwnedSemaphorePermit) {
    let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, queue = %job.queue, attempt = job.attempt);
    env.running.fetch_add(1, Ordering::Relaxed);
    let outcome = attempt(&env, job).instrument(span).await;
    env.running.fetch_sub(1, Ordering::Relaxed);
    // The completer lives until every execution has sent its outcome. The
    // slot goes with it and is freed once the outcome is recorded: until
    // then the job is still `running` in the table, and a node never holds
    // more running jobs than it has slots.
    let _ = env.outcomes.send((outcome, permit));
}

async fn attempt(env: &NodeEnv, job: ClaimedJob) -> Outcome {
    let ctx = JobContext {
        id: job.id,
        kind: job.kind.clone(),
        queue: job.queue.clone(),
        attempt: job.attempt,
        max_attempts: job.max_attempts,
        token: job.claim_token,
        cancel: CancellationToken::new(),
        board: env.board.clone(),
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
        return fail(format!("no handler for kind {}", job.kind), true);
    };
    tracing::debug!("started");
    let timeout = Duration::from_secs(job.timeout_seconds.max(1) as u64);
    let mut task = tokio::spawn(handler.in_current_span());
    let outcome = tokio::select! {
        joined = &mut task => match joined {
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
        },
        _ = tokio::time::sleep(timeout) => {
            task.abort();
            fail(format!("timed out after {} s", timeout.as_secs()), false)
        }
        _ = env.hard_stop.cancelled() => {
            task.abort();
            tracing::info!("shutdown grace period over; handing the job back");
            Outcome::HandedBack(job.id, job.claim_token)
        }
    };
    match &outcome {
        Outcome::Succeeded(_) => tracing::debug!("succeeded"),
        Outcome::Failed(f) => tracing::info!(error = %f.message, fatal = f.fatal, "attempt failed"),
        Outcome::Cancelled(..) => tracing::info!("cancelled"),
        Outcome::HandedBack(..) => {}
    }
    outcome
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
