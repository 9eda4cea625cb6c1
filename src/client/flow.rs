//! Flow control through the client: queue limits, "why isn't this job
//! running?", and the warning an enqueue answer carries when no live
//! worker serves the job's kind.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Client, QueueStats};
use crate::db;
use crate::error::{Error, Result};
use crate::flow::{Explanation, QueueLimits};
use crate::job::{Job, JobId};

/// How long a node counts as alive after its last heartbeat, as
/// `weir.queue_stats` and `weir.explain_job` judge it.
pub const LIVE_NODE_WINDOW: Duration = Duration::from_secs(30);

/// How long "a live worker serves this kind here" is believed without
/// asking again: enqueues of served kinds (nearly all) then cost no extra
/// statement, and a typo is still caught on every enqueue.
const SERVED_FOR: Duration = Duration::from_secs(5);

/// Queue and kind pairs seen served, and when.
#[derive(Default)]
pub(super) struct ServedKinds(Mutex<HashMap<(String, String), Instant>>);

/// The warning of an enqueue answer for a kind no live worker serves.
pub fn unserved_warning(queue: &str, kind: &str) -> String {
    format!(
        "no live worker serves kind '{kind}' on queue '{queue}': the job waits until one does \
         (a typo in the kind?)"
    )
}

impl Client {
    /// Sets every limit of `queue` at once (`None` removes one) and answers
    /// the queue's stats. Claims committed after it honour the new limits.
    pub async fn set_queue_limits(&self, queue: &str, limits: &QueueLimits) -> Result<QueueStats> {
        if !crate::job::is_valid_queue_name(queue) {
            return Err(Error::InvalidArgument(
                "queue must be 1 to 128 characters of letters, digits, '_', '.', ':' or '-'".into(),
            ));
        }
        limits.check()?;
        db::queues::set_limits(&self.pool, queue, limits).await?;
        self.queue(queue).await
    }

    /// Why the job is not running (yet); [`Error::NotFound`] for an unknown
    /// id.
    pub async fn explain(&self, id: JobId) -> Result<Explanation> {
        let value = db::jobs::explain(&self.pool, id)
            .await?
            .ok_or(Error::NotFound(id))?;
        Ok(serde_json::from_value(value)?)
    }

    /// The warnings for jobs just enqueued: one per job whose kind no live
    /// worker serves on its queue, else none.
    pub async fn enqueue_warnings(&self, jobs: &[Job]) -> Result<Vec<Vec<String>>> {
        let now = Instant::now();
        let mut ask: Vec<(&str, &str)> = Vec::new();
        {
            let served = self.served.0.lock().expect("not poisoned");
            for j in jobs {
                let fresh = served
                    .get(&(j.queue.clone(), j.kind.clone()))
                    .is_some_and(|at| now.duration_since(*at) < SERVED_FOR);
                if !fresh && !ask.contains(&(j.queue.as_str(), j.kind.as_str())) {
                    ask.push((j.queue.as_str(), j.kind.as_str()));
                }
            }
        }
        if ask.is_empty() {
            return Ok(vec![Vec::new(); jobs.len()]);
        }
        let queues: Vec<&str> = ask.iter().map(|(q, _)| *q).collect();
        let kinds: Vec<&str> = ask.iter().map(|(_, k)| *k).collect();
        let unserved = db::nodes::unserved(&self.pool, &queues, &kinds, LIVE_NODE_WINDOW).await?;
        {
            let mut served = self.served.0.lock().expect("not poisoned");
            for (q, k) in &ask {
                if !unserved.iter().any(|(uq, uk)| uq == q && uk == k) {
                    served.insert((q.to_string(), k.to_string()), now);
                }
            }
        }
        Ok(jobs
            .iter()
            .map(|j| {
                if unserved.iter().any(|(q, k)| *q == j.queue && *k == j.kind) {
                    vec![unserved_warning(&j.queue, &j.kind)]
                } else {
                    Vec::new()
                }
            })
            .collect())
    }

    /// `jobs` with the warnings of an enqueue answer filled in.
    pub(super) async fn with_warnings(&self, mut jobs: Vec<Job>) -> Result<Vec<Job>> {
        let warnings = self.enqueue_warnings(&jobs).await?;
        for (job, w) in jobs.iter_mut().zip(warnings) {
            job.warnings = w;
        }
        Ok(jobs)
    }
}
