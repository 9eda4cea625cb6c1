//! Groups concurrent single enqueues into one multi-row `INSERT`.
//!
//! Every [`crate::Client::submit`] without a `unique_key` or an idempotency
//! key goes through here on a client made with
//! [`crate::Client::with_grouped_enqueues`] (the web node's: every
//! `POST /v1/jobs`). A request hands its job to [`Coalescer::enqueue`]
//! and waits for its own answer. One task gathers the jobs: it takes the
//! first one waiting, waits for one of [`FLUSHERS`] free statement slots,
//! then takes every other job that arrived meanwhile (at most
//! [`MAX_BATCH`]) and inserts them all in one statement, so in one commit.
//!
//! Nothing waits on a timer: a request alone is inserted at once. Under
//! load, the requests that arrive while the slots are busy form the next
//! batch, and a commit (the scarce resource, a WAL flush) serves many
//! requests instead of one.
//!
//! One bad job never fails the others: when a batch's statement is refused
//! by the database, each job of the batch is inserted on its own and gets
//! its own answer. When the database cannot be reached, every job of the
//! batch gets that error (nothing was inserted).

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::db;
use crate::error::Error;
use crate::job::{Job, NewJob};

/// Statements in flight at once.
pub const FLUSHERS: usize = 4;
/// Most jobs in one statement.
pub const MAX_BATCH: usize = 500;
/// Most bytes of args in one statement (a job's args may be up to the
/// body limit, 1 MiB by default: 500 of those would be one 500 MiB
/// statement). A single larger job still goes alone.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Jobs waiting for a batch before `enqueue` itself waits (backpressure).
const QUEUE_CAPACITY: usize = 8192;

struct Pending {
    job: NewJob,
    /// Size of the job's args as JSON text.
    bytes: usize,
    reply: oneshot::Sender<Result<Job, Error>>,
}

/// The handle requests enqueue through. Gathering stops when it is dropped.
pub struct Coalescer {
    tx: mpsc::Sender<Pending>,
}

impl Coalescer {
    /// Starts the gathering task on the current runtime.
    pub fn start(pool: PgPool) -> Coalescer {
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(gather(pool, rx));
        Coalescer { tx }
    }

    /// Enqueues `job` (which has no `unique_key`) and returns it as stored.
    pub async fn enqueue(&self, job: NewJob) -> Result<Job, Error> {
        debug_assert!(job.unique_key.is_none());
        let (reply, answer) = oneshot::channel();
        let stopped = || Error::Unavailable("the client is stopping".into());
        let bytes = json_len(&job.args);
        self.tx
            .send(Pending { job, bytes, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn gather(pool: PgPool, mut rx: mpsc::Receiver<Pending>) {
    let slots = Arc::new(Semaphore::new(FLUSHERS));
    // A job taken from the channel that did not fit the previous batch.
    let mut next: Option<Pending> = None;
    loop {
        let first = match next.take() {
            Some(p) => p,
            None => match rx.recv().await {
                Some(p) => p,
                None => return,
            },
        };
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        // Whatever arrived while waiting for a slot joins this batch, up to
        // MAX_BATCH jobs or MAX_BATCH_BYTES of args; the job that would
        // overflow it starts the next one.
        let mut bytes = first.bytes;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(p) if bytes + p.bytes > MAX_BATCH_BYTES => {
                    next = Some(p);
                    break;
                }
                Ok(p) => {
                    bytes += p.bytes;
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            flush(&pool, batch).await;
            drop(slot);
        });
    }
}

async fn flush(pool: &PgPool, batch: Vec<Pending>) {
    let (jobs, replies): (Vec<NewJob>, Vec<_>) =
        batch.into_iter().map(|p| (p.job, p.reply)).unzip();
    match db::jobs::insert_many(pool, &jobs).await {
        Ok(stored) if stored.len() == replies.len() => {
            for (reply, job) in replies.into_iter().zip(stored) {
                let _ = reply.send(Ok(job));
            }
        }
        Ok(_) => {
            for reply in replies {
                let _ = reply.send(Err(missing()));
            }
        }
        Err(e) if jobs.len() > 1 && !e.is_connection_failure() => {
            tracing::debug!(jobs = jobs.len(), error = %e, "a grouped INSERT was refused; inserting its jobs one by one");
            // One of them was refused; nothing was inserted. Each on its own,
            // so each request gets its own answer.
            for (reply, job) in replies.into_iter().zip(jobs) {
                let one = db::jobs::insert_many(pool, std::slice::from_ref(&job))
                    .await
                    .and_then(|mut v| v.pop().ok_or_else(missing));
                let _ = reply.send(one);
            }
        }
        Err(e) if replies.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
        Err(e) => {
            // Nothing was inserted and the database cannot be reached: every
            // request of the batch gets that answer.
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(Error::Unavailable(message.clone())));
            }
        }
    }
}

fn missing() -> Error {
    Error::Config("an inserted job was not returned".into())
}

/// The length of `value` as JSON text, counted without building it.
fn json_len(value: &serde_json::Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a Value to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_len_is_the_length_of_the_text() {
        let v = serde_json::json!({"a": [1, "x\u{0}é"], "b": null});
        assert_eq!(super::json_len(&v), serde_json::to_vec(&v).unwrap().len());
    }
}
