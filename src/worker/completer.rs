//! Records the outcomes of attempts in batches.
//!
//! Handlers finish one by one; their outcomes queue here and are written
//! in one transaction per batch (one commit, one WAL flush), as soon as
//! the previous batch is done. At a low rate a batch holds one outcome and
//! is written at once; at a high rate batches grow by themselves.
//!
//! Every write is fenced by the claim token, and every outcome is matched
//! by its attempt (job id and claim token), never by the job id alone: an
//! outcome that arrives after the job was rescued and re-claimed changes
//! nothing, even when it shares a batch with the current attempt's.
//!
//! What happens when a batch cannot be written depends on why:
//! - the database cannot be reached: the batch is kept and retried until
//!   it is back, or until the shutdown grace period is over (then the
//!   outcomes are abandoned with a log line, and their jobs are rescued
//!   later);
//! - a transient conflict (serialization failure, deadlock, lock or
//!   statement timeout, lack of resources): the batch is retried a few
//!   times, then split as below;
//! - anything else: the batch is split in halves, each written on its
//!   own, until each outcome the database refuses is alone. The others
//!   are recorded first, as usual. Each refused outcome becomes a failed
//!   attempt of its own job ("result could not be stored: ..."): fatal
//!   when the value can never be stored (a data error such as a `\u0000`
//!   jsonb refuses, or a size limit), else retryable by the usual rules.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::db::jobs::{Failure, Success};
use crate::db::wakeups::STAGER;
use crate::error::{Error, Result};
use crate::job::{ClaimToken, JobId, JobState};

/// Most outcomes written in one transaction.
pub const MAX_BATCH: usize = 1000;
/// Tries of a batch refused for a transient reason before it is split.
const TRANSIENT_TRIES: u32 = 3;

/// The result of one attempt, waiting to be recorded.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded(Success),
    Failed(Failure),
    Cancelled(JobId, ClaimToken),
    /// Stopped at shutdown: back to `available`, attempt not spent.
    HandedBack(JobId, ClaimToken),
    /// The handler answered "not now": `scheduled` after the delay,
    /// attempt not spent.
    Snoozed(JobId, ClaimToken, Duration),
}

impl Outcome {
    /// The attempt this is the outcome of.
    pub fn attempt(&self) -> (JobId, ClaimToken) {
        match self {
            Outcome::Succeeded(s) => (s.id, s.token),
            Outcome::Failed(f) => (f.id, f.token),
            Outcome::Cancelled(id, token) | Outcome::HandedBack(id, token) => (*id, *token),
            Outcome::Snoozed(id, token, _) => (*id, *token),
        }
    }
}

/// What became of an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Written as it was.
    Recorded,
    /// Not written: its attempt no longer held the job (rescued,
    /// cancelled, handed back or re-claimed).
    Stale,
    /// The database refused it; recorded as a failed attempt instead.
    RecordedAsFailure,
    /// Not written at all (the database stayed unreachable until the end
    /// of the shutdown grace period, or refused even the failure): the
    /// job will be rescued and run again.
    Abandoned,
}

/// An outcome and who to tell once it is written (or given up on).
#[derive(Debug)]
pub struct Pending {
    pub outcome: Outcome,
    /// Backoff before the next attempt, should this outcome have to be
    /// recorded as a failed attempt.
    pub retry_in: Duration,
    /// Told (or dropped) when the outcome is settled. The execution frees
    /// its slot when the handler returns but keeps its place in the
    /// queue's bounded buffers until then, so that a queue never has more
    /// jobs `running` in the database than those allow.
    pub recorded: Option<oneshot::Sender<Settled>>,
}

impl Pending {
    fn settle(self, how: Settled) {
        if let Some(tx) = self.recorded {
            let _ = tx.send(how);
        }
    }
}

/// Sends outcomes to the completer task.
pub type OutcomeSender = mpsc::UnboundedSender<Pending>;

/// Runs until every sender is dropped and everything received is settled.
/// Once `give_up` fires, an unreachable database is tried once more per
/// batch, not waited for.
pub async fn run(
    pool: PgPool,
    mut rx: mpsc::UnboundedReceiver<Pending>,
    give_up: CancellationToken,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let depth = batch.len() as i64;
        settle(&pool, batch, &give_up).await;
        crate::metrics::outcome_buffer(-depth);
    }
}

/// Writes `batch`, splitting it around the outcomes the database refuses,
/// which are then recorded as failed attempts.
async fn settle(pool: &PgPool, batch: Vec<Pending>, give_up: &CancellationToken) {
    let mut work = VecDeque::from([batch]);
    let mut refused = Vec::new();
    while let Some(mut chunk) = work.pop_front() {
        match write_retrying(pool, &chunk, give_up).await {
            Ok(matched) => {
                let mut stale = 0;
                for p in chunk {
                    if matched.contains(&p.outcome.attempt()) {
                        p.settle(Settled::Recorded);
                    } else {
                        stale += 1;
                        p.settle(Settled::Stale);
                    }
                }
                if stale > 0 {
                    tracing::warn!(
                        stale,
                        "outcomes ignored: those attempts no longer held their jobs (rescued, cancelled or re-claimed)"
                    );
                }
            }
            Err(e) if e.is_connection_failure() => {
                // Only returned once the grace period is over.
                let left = chunk.len() + work.iter().map(Vec::len).sum::<usize>() + refused.len();
                tracing::error!(error = %e, outcomes = left,
                    "cannot record outcomes at shutdown; abandoned: the jobs will be rescued and run again");
                let all = chunk.into_iter().chain(work.drain(..).flatten());
                for p in all.chain(refused.drain(..).map(|(p, _)| p)) {
                    p.settle(Settled::Abandoned);
                }
                return;
            }
            Err(_) if chunk.len() > 1 => {
                let back = chunk.split_off(chunk.len() / 2);
                work.push_front(back);
                work.push_front(chunk);
            }
            Err(e) => refused.extend(chunk.pop().map(|p| (p, e))),
        }
    }
    for (p, e) in refused {
        record_as_failure(pool, p, e, give_up).await;
    }
}

/// Records `p`, which the database refused with `e`, as a failed attempt
/// of its job.
async fn record_as_failure(pool: &PgPool, p: Pending, e: Error, give_up: &CancellationToken) {
    let (id, token) = p.outcome.attempt();
    let what = match &p.outcome {
        Outcome::Succeeded(_) => "result",
        Outcome::Failed(_) => "error",
        Outcome::Cancelled(..) | Outcome::HandedBack(..) | Outcome::Snoozed(..) => "outcome",
    };
    let reason = match &e {
        // Data the database refuses is reported as an invalid job by the
        // shared error mapping; here it is the outcome that is invalid.
        Error::InvalidJob(m) => m.clone(),
        other => other.to_string(),
    };
    let was_fatal = matches!(&p.outcome, Outcome::Failed(f) if f.fatal);
    let failure = Failure {
        id,
        token,
        message: format!("{what} could not be stored: {reason}"),
        fatal: was_fatal || can_never_be_stored(&e),
        retry_in: p.retry_in,
        start_delay: match &p.outcome {
            Outcome::Succeeded(s) => s.start_delay,
            Outcome::Failed(f) => f.start_delay,
            Outcome::Cancelled(..) | Outcome::HandedBack(..) | Outcome::Snoozed(..) => {
                Duration::ZERO
            }
        },
    };
    tracing::warn!(job = %id, error = %failure.message, fatal = failure.fatal,
        "the database refused an outcome; recording the attempt as failed");
    let instead = [Pending {
        outcome: Outcome::Failed(failure),
        retry_in: p.retry_in,
        recorded: None,
    }];
    match write_retrying(pool, &instead, give_up).await {
        Ok(matched) if matched.contains(&(id, token)) => p.settle(Settled::RecordedAsFailure),
        Ok(_) => p.settle(Settled::Stale),
        Err(e) => {
            tracing::error!(job = %id, error = %e,
                "the attempt's outcome could not be recorded, not even as a failure; the job will be rescued");
            p.settle(Settled::Abandoned);
        }
    }
}

/// Writes `chunk` in one transaction: retried while the database cannot
/// be reached (until `give_up`), and a few times on a transient conflict.
/// Returns the attempts that still held their jobs.
async fn write_retrying(
    pool: &PgPool,
    chunk: &[Pending],
    give_up: &CancellationToken,
) -> Result<HashSet<(JobId, ClaimToken)>> {
    let what = format!("recording {} outcomes", chunk.len());
    let transient = AtomicU32::new(0);
    let retryable = |e: &Error| {
        if e.is_connection_failure() {
            return true;
        }
        is_transient(e) && transient.fetch_add(1, Ordering::Relaxed) + 1 < TRANSIENT_TRIES
    };
    db::retry_with_backoff(&what, give_up, None, retryable, || record(pool, chunk)).await
}

/// The SQLSTATE of a database error.
fn sqlstate(e: &Error) -> Option<String> {
    match e {
        Error::Database(d) => d
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}

/// Errors about the moment, not the outcome: trying again may work.
fn is_transient(e: &Error) -> bool {
    sqlstate(e).is_some_and(|c| {
        matches!(c.as_str(), "40001" | "40P01" | "55P03" | "57014") || c.starts_with("53")
    })
}

/// Errors about the value itself: data the database cannot hold (class
/// 22, e.g. a `\u0000` in jsonb), a size limit (class 54), JSON that
/// cannot be built. Writing it again can never work.
fn can_never_be_stored(e: &Error) -> bool {
    matches!(e, Error::InvalidJob(_) | Error::Json(_))
        || sqlstate(e).is_some_and(|c| c.starts_with("22") || c.starts_with("54"))
}

/// Writes one batch in one transaction.
async fn record(pool: &PgPool, batch: &[Pending]) -> Result<HashSet<(JobId, ClaimToken)>> {
    let mut outcomes = Outcomes::default();
    for p in batch {
        match &p.outcome {
            Outcome::Succeeded(s) => outcomes.successes.push(s.clone()),
            Outcome::Failed(f) => outcomes.failures.push(f.clone()),
            Outcome::Cancelled(id, token) => outcomes.cancels.push((*id, *token)),
            Outcome::HandedBack(id, token) => outcomes.hand_backs.push((*id, *token)),
            Outcome::Snoozed(id, token, d) => outcomes.snoozes.push((*id, *token, *d)),
        }
    }
    let result = write(pool, &outcomes).await;
    if let Err(Error::Database(e)) = &result
        && is_missing_partition(e)
    {
        // Maintenance has not created today's partition of finished jobs
        // (it was down for days): create it, then retry.
        tracing::warn!("no partition for finished jobs; creating it");
        db::jobs::ensure_finished_partitions(pool, 2).await?;
        return write(pool, &outcomes).await;
    }
    result
}

#[derive(Default)]
struct Outcomes {
    successes: Vec<Success>,
    failures: Vec<Failure>,
    cancels: Vec<(JobId, ClaimToken)>,
    hand_backs: Vec<(JobId, ClaimToken)>,
    snoozes: Vec<(JobId, ClaimToken, Duration)>,
}

async fn write(pool: &PgPool, o: &Outcomes) -> Result<HashSet<(JobId, ClaimToken)>> {
    let mut tx = pool.begin().await?;
    let mut matched = HashSet::new();
    if !o.successes.is_empty() {
        matched.extend(db::jobs::complete_if_running(&mut *tx, &o.successes).await?);
    }
    if !o.failures.is_empty() {
        let done = db::jobs::fail_if_running(&mut *tx, &o.failures).await?;
        if done.iter().any(|(.., s)| *s == JobState::Retryable) {
            // The stager may be asleep until a later due time.
            db::wakeups::notify_queues(&mut *tx, &[STAGER.to_string()]).await?;
        }
        matched.extend(done.into_iter().map(|(id, token, _)| (id, token)));
    }
    if !o.cancels.is_empty() {
        matched.extend(db::jobs::cancel_if_running(&mut *tx, &o.cancels).await?);
    }
    if !o.hand_backs.is_empty() {
        let (mut queues, done) = db::jobs::hand_back_if_running(&mut *tx, &o.hand_backs).await?;
        matched.extend(done);
        queues.sort();
        queues.dedup();
        db::wakeups::notify_queues(&mut *tx, &queues).await?;
    }
    if !o.snoozes.is_empty() {
        matched.extend(db::jobs::snooze_if_running(&mut *tx, &o.snoozes).await?);
        // The stager may be asleep until a later due time.
        db::wakeups::notify_queues(&mut *tx, &[STAGER.to_string()]).await?;
    }
    tx.commit().await?;
    Ok(matched)
}

fn is_missing_partition(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        d.code().as_deref() == Some("23514") && d.message().contains("no partition")
    })
}
