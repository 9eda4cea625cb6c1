//! Records the outcomes of attempts in batches.
//!
//! Handlers finish one by one; their outcomes queue here and are written
//! in one transaction per batch (one commit, one WAL flush), as soon as
//! the previous batch is done. At a low rate a batch holds one outcome and
//! is written at once; at a high rate batches grow by themselves.
//!
//! An outcome is kept until it is recorded: when the database is down the
//! batch is retried until it is back. Every write is fenced by the claim
//! token, so an outcome that arrives after the job was rescued and
//! re-claimed changes nothing.

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::db;
use crate::db::jobs::{Failure, Success};
use crate::db::wakeups::STAGER;
use crate::error::{Error, Result};
use crate::job::{ClaimToken, JobId, JobState};

/// Most outcomes written in one transaction.
pub const MAX_BATCH: usize = 1000;

/// The result of one attempt, waiting to be recorded.
#[derive(Debug)]
pub enum Outcome {
    Succeeded(Success),
    Failed(Failure),
    Cancelled(JobId, ClaimToken),
    /// Stopped at shutdown: back to `available`, attempt not spent.
    HandedBack(JobId, ClaimToken),
}

/// An outcome and who to tell once it is written (or given up on).
#[derive(Debug)]
pub struct Pending {
    pub outcome: Outcome,
    /// Fired (or dropped) when the outcome's batch is done. The execution
    /// keeps its slot until then, so that a queue never has more jobs
    /// `running` in the database than it has slots.
    pub recorded: Option<oneshot::Sender<()>>,
}

/// Sends outcomes to the completer task.
pub type OutcomeSender = mpsc::UnboundedSender<Pending>;

/// Runs until every sender is dropped and everything received is recorded
/// (or, once `give_up` fires, until the database refuses one more time).
pub async fn run(
    pool: PgPool,
    mut rx: mpsc::UnboundedReceiver<Pending>,
    give_up: tokio_util::sync::CancellationToken,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut acks = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(p) = next.take() {
            batch.push(p.outcome);
            acks.extend(p.recorded);
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        // Every error is retried, not only an unreachable database (a
        // serialization failure, a statement timeout...): an outcome is
        // kept until it is recorded, or given up on at shutdown.
        let what = format!("recording {} outcomes", batch.len());
        let retryable = |_: &Error| true;
        let recorded =
            db::retry_with_backoff(&what, &give_up, None, retryable, || record(&pool, &batch))
                .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, outcomes = batch.len(),
                "cannot record outcomes at shutdown; the jobs will be rescued and run again");
        }
        batch.clear();
        for ack in acks.drain(..) {
            let _ = ack.send(());
        }
    }
}

/// Writes one batch in one transaction.
async fn record(pool: &PgPool, batch: &[Outcome]) -> Result<()> {
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    let mut cancels = Vec::new();
    let mut hand_backs = Vec::new();
    for outcome in batch {
        match outcome {
            Outcome::Succeeded(s) => successes.push(s.clone()),
            Outcome::Failed(f) => failures.push(f.clone()),
            Outcome::Cancelled(id, token) => cancels.push((*id, *token)),
            Outcome::HandedBack(id, token) => hand_backs.push((*id, *token)),
        }
    }
    let result = write(pool, &successes, &failures, &cancels, &hand_backs).await;
    if let Err(Error::Database(e)) = &result
        && is_missing_partition(e)
    {
        // Maintenance has not created today's partition of finished jobs
        // (it was down for days): create it, then retry.
        tracing::warn!("no partition for finished jobs; creating it");
        db::jobs::ensure_finished_partitions(pool, 2).await?;
        return write(pool, &successes, &failures, &cancels, &hand_backs).await;
    }
    result
}

async fn write(
    pool: &PgPool,
    successes: &[Success],
    failures: &[Failure],
    cancels: &[(JobId, ClaimToken)],
    hand_backs: &[(JobId, ClaimToken)],
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let mut stale = 0;
    if !successes.is_empty() {
        let done = db::jobs::complete_if_running(&mut *tx, successes).await?;
        stale += successes.len() - done.len();
    }
    if !failures.is_empty() {
        let done = db::jobs::fail_if_running(&mut *tx, failures).await?;
        stale += failures.len() - done.len();
        if done.iter().any(|(_, s)| *s == JobState::Retryable) {
            // The stager may be asleep until a later due time.
            db::wakeups::notify_queues(&mut *tx, &[STAGER.to_string()]).await?;
        }
    }
    if !cancels.is_empty() {
        let done = db::jobs::cancel_if_running(&mut *tx, cancels).await?;
        stale += cancels.len() - done.len();
    }
    if !hand_backs.is_empty() {
        let (mut queues, matched) = db::jobs::hand_back_if_running(&mut *tx, hand_backs).await?;
        stale += hand_backs.len() - matched;
        queues.sort();
        queues.dedup();
        db::wakeups::notify_queues(&mut *tx, &queues).await?;
    }
    tx.commit().await?;
    if stale > 0 {
        tracing::warn!(
            stale,
            "outcomes ignored: those attempts no longer held their jobs (rescued, cancelled or re-claimed)"
        );
    }
    Ok(())
}

fn is_missing_partition(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        d.code().as_deref() == Some("23514") && d.message().contains("no partition")
    })
}
