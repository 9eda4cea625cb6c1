//! The worker API: what a worker in any language does through the REST API
//! (or a Rust program that runs its own loop): register, claim (waiting
//! for work, woken by NOTIFY), heartbeat, report progress, complete, fail,
//! snooze, unregister. Every report is fenced by the attempt's claim token
//! and answers `false` when the token is stale.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::Client;
use crate::db;
use crate::db::wakeups::JOBS_AVAILABLE_CHANNEL;
use crate::error::Result;
use crate::job::{ClaimToken, JobId, NodeId};

pub use crate::db::worker_api::ExternalClaim;

/// Signals of `weir_jobs_available` per queue, from one LISTEN connection
/// opened by the first claim that waits.
pub(super) struct QueueSignals {
    queues: Mutex<HashMap<String, watch::Sender<u64>>>,
}

impl QueueSignals {
    async fn start(pool: PgPool, stop: CancellationToken) -> Result<Arc<Self>> {
        let mut listener = db::listen(&pool, JOBS_AVAILABLE_CHANNEL).await?;
        let signals = Arc::new(QueueSignals {
            queues: Mutex::new(HashMap::new()),
        });
        let me = signals.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    msg = listener.try_recv() => match msg {
                        Ok(Some(n)) => me.bump(Some(n.payload())),
                        // Reconnected: notifications may have been lost.
                        Ok(None) => me.bump(None),
                        Err(e) => {
                            tracing::warn!(error = %e, "claim wake-up listener failed; reconnecting");
                            me.bump(None);
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                }
            }
        });
        Ok(signals)
    }

    /// Wakes the claims waiting on `queue` (all of them with `None`).
    fn bump(&self, queue: Option<&str>) {
        let mut queues = self.queues.lock().expect("queue signals poisoned");
        queues.retain(|_, tx| tx.receiver_count() > 0);
        for (name, tx) in queues.iter() {
            if queue.is_none_or(|q| q == name) {
                tx.send_modify(|v| *v += 1);
            }
        }
    }

    fn subscribe(&self, queue: &str) -> watch::Receiver<u64> {
        let mut queues = self.queues.lock().expect("queue signals poisoned");
        queues
            .entry(queue.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }
}

impl Client {
    /// Registers a worker node named `name` (a host or process label)
    /// serving `queues` and `kinds`. It must heartbeat more often than the
    /// dead-after interval (30 s by default), or its jobs are rescued.
    pub async fn register_worker(
        &self,
        name: &str,
        queues: &[String],
        kinds: &[String],
    ) -> Result<NodeId> {
        db::worker_api::register(&self.pool, name, queues, kinds).await
    }

    /// Stamps `node`'s heartbeat and answers its running jobs whose cancel
    /// was requested. [`crate::Error::UnknownNode`] when the node was
    /// declared dead or unregistered: register again.
    pub async fn worker_heartbeat(&self, node: NodeId) -> Result<Vec<JobId>> {
        db::worker_api::heartbeat(&self.pool, node).await
    }

    /// Claims up to `max` available jobs of `queue` whose kind is in
    /// `kinds`. When there are none, waits up to `wait` for some, woken by
    /// the queue's NOTIFY (one LISTEN connection per client, opened by the
    /// first claim that waits), trying again at least every re-check
    /// interval ([`Client::with_recheck_interval`], 2 s by default).
    pub async fn claim(
        &self,
        node: NodeId,
        queue: &str,
        kinds: &[String],
        max: i32,
        wait: Duration,
    ) -> Result<Vec<ExternalClaim>> {
        let until = tokio::time::Instant::now() + wait;
        let claim = || db::worker_api::claim(&self.pool, node, queue, kinds, max);
        let jobs = claim().await?;
        if !jobs.is_empty() || wait.is_zero() {
            return Ok(jobs);
        }
        let signals = self
            .queue_signals
            .get_or_try_init(|| QueueSignals::start(self.pool.clone(), self.waits.stop.clone()))
            .await;
        let mut woken = match signals {
            Ok(signals) => Some(signals.subscribe(queue)),
            Err(e) => {
                tracing::debug!(error = %e, "no claim wake-up listener; polling");
                None
            }
        };
        loop {
            // Armed before the claim, so an enqueue committed after the
            // claim's snapshot is announced.
            db::wakeups::arm(&self.pool, node, queue).await?;
            let jobs = claim().await?;
            let now = tokio::time::Instant::now();
            if !jobs.is_empty() || now >= until {
                return Ok(jobs);
            }
            let pause = (until - now).min(match woken {
                Some(_) => self.waits.recheck,
                None => Duration::from_millis(500),
            });
            match &mut woken {
                Some(rx) => {
                    let _ = tokio::time::timeout(pause, rx.changed()).await;
                }
                None => tokio::time::sleep(pause).await,
            }
        }
    }

    /// Records a successful attempt with its `result`; `false` (and
    /// nothing changed) when the claim token is stale.
    pub async fn complete_job(
        &self,
        id: JobId,
        token: ClaimToken,
        result: &serde_json::Value,
    ) -> Result<bool> {
        if let Some(why) = crate::job::unreadable_json(result) {
            return Err(crate::Error::InvalidArgument(format!("result: {why}")));
        }
        db::worker_api::complete(&self.pool, id, token, result).await
    }

    /// Records many successful attempts in one statement (one commit), for
    /// workers that run jobs in batches; answers the ids recorded (the
    /// others' claim tokens were stale, and nothing changed for them).
    pub async fn complete_jobs(
        &self,
        reports: &[(JobId, ClaimToken, serde_json::Value)],
    ) -> Result<Vec<JobId>> {
        if let Some(why) = reports
            .iter()
            .find_map(|(_, _, r)| crate::job::unreadable_json(r))
        {
            return Err(crate::Error::InvalidArgument(format!("result: {why}")));
        }
        db::worker_api::complete_many(&self.pool, reports).await
    }

    /// Records a failed attempt: retried after a backoff while attempts are
    /// left (unless `retryable` is false), else failed; cancelled when a
    /// cancel was requested. `false` when the claim token is stale.
    pub async fn fail_job(
        &self,
        id: JobId,
        token: ClaimToken,
        message: &str,
        retryable: bool,
    ) -> Result<bool> {
        db::worker_api::fail(&self.pool, id, token, message, retryable).await
    }

    /// "Not now": the job is scheduled again in `delay` and the attempt is
    /// not spent. `false` when the claim token is stale.
    pub async fn snooze_job(&self, id: JobId, token: ClaimToken, delay: Duration) -> Result<bool> {
        db::worker_api::snooze(&self.pool, id, token, delay).await
    }

    /// Stores a running job's progress; `false` when the claim token is
    /// stale.
    pub async fn report_progress(
        &self,
        id: JobId,
        token: ClaimToken,
        done: Option<i64>,
        total: Option<i64>,
        message: Option<&str>,
    ) -> Result<bool> {
        db::worker_api::progress(&self.pool, id, token, done, total, message).await
    }

    /// Removes a worker node; its running jobs go back to the queue without
    /// spending their attempt. Answers how many it held.
    pub async fn unregister_worker(&self, node: NodeId) -> Result<i32> {
        db::worker_api::unregister(&self.pool, node).await
    }
}
