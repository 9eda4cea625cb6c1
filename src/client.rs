//! The client: enqueue (alone or inside the caller's transaction), read a
//! job, wait for it.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Acquire, PgExecutor, PgPool, Postgres};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::error::{Error, Result};
use crate::events::{Follow, JobEvents, SAFETY_RECHECK};
use crate::job::{Enqueued, Job, JobId, NewJob};
use crate::task::Task;

/// A handle for producing jobs and reading them back. Clones share one
/// pool and, once any of them has waited, one LISTEN connection. Make one
/// per process and clone it, as with the pool: each `Client` that waits
/// opens a LISTEN connection of its own, outside the pool.
#[derive(Clone)]
pub struct Client {
    pool: PgPool,
    waits: Arc<Waits>,
}

/// What [`Client::wait`] needs: the job events hub, started by the first
/// wait, and its listener's stop, cancelled when the last clone is dropped.
struct Waits {
    events: OnceCell<Arc<JobEvents>>,
    recheck: Duration,
    stop: CancellationToken,
}

impl Waits {
    fn new(recheck: Duration) -> Arc<Self> {
        Arc::new(Waits {
            events: OnceCell::new(),
            recheck,
            stop: CancellationToken::new(),
        })
    }
}

impl Drop for Waits {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Client {
    pub fn new(pool: PgPool) -> Self {
        Client {
            pool,
            waits: Waits::new(SAFETY_RECHECK),
        }
    }

    /// Sets the longest [`Client::wait`] goes without re-reading its job
    /// when no notification comes (default 2 s): notifications are hints,
    /// and one may be lost while the listener reconnects.
    pub fn with_recheck_interval(self, recheck: Duration) -> Self {
        Client {
            pool: self.pool,
            waits: Waits::new(recheck),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Enqueues a job of task `T` with `args` and the defaults.
    pub async fn enqueue<T: Task>(&self, args: &T::Args) -> Result<JobId> {
        let job = NewJob::new(T::KIND, serde_json::to_value(args)?);
        Ok(self.enqueue_job(&job).await?.id)
    }

    /// Enqueues `job`; with a `unique_key` held by a live job, answers that
    /// job with `created: false`.
    pub async fn enqueue_job(&self, job: &NewJob) -> Result<Enqueued> {
        enqueue_in(&self.pool, job).await
    }

    /// Enqueues `jobs` in one statement: all or none, returned in input
    /// order. See [`enqueue_many_in`].
    pub async fn enqueue_many(&self, jobs: &[NewJob]) -> Result<Vec<Job>> {
        enqueue_many_in(&self.pool, jobs).await
    }

    /// Reads a job.
    pub async fn job(&self, id: JobId) -> Result<Job> {
        db::jobs::get(&self.pool, id)
            .await?
            .ok_or(Error::NotFound(id))
    }

    /// Stops the LISTEN connection the client's waits share (if one was
    /// opened) and removes its job watches now, instead of in the
    /// background when the last clone is dropped: for a process about to
    /// exit. Waits of remaining clones then re-read their jobs only at the
    /// re-check interval.
    pub async fn close(self) -> Result<()> {
        self.waits.stop.cancel();
        match self.waits.events.get() {
            Some(events) => events.remove_watches().await,
            None => Ok(()),
        }
    }

    /// Waits until the job is terminal or `timeout` passes, and returns it
    /// as it is then. Woken by the job's change notifications (channel
    /// `weir_job_events`) on one LISTEN connection per client, opened by
    /// the first wait, and re-reads the job at least every re-check
    /// interval ([`Client::with_recheck_interval`]). When that connection
    /// cannot be opened, the wait polls instead (10 ms to 500 ms).
    pub async fn wait(&self, id: JobId, timeout: Duration) -> Result<Job> {
        self.follow(id).await?.finished(timeout).await
    }

    /// Follows a job's changes (progress, state, result), woken as
    /// [`Client::wait`] is: each [`Follow::changed`] returns the job once
    /// it differs from the version the previous call returned. Its watch
    /// is kept until the `Follow` is dropped.
    ///
    /// ```no_run
    /// # async fn demo(client: weir::Client, id: weir::JobId) -> weir::Result<()> {
    /// let mut follow = client.follow(id).await?;
    /// loop {
    ///     let job = follow.changed(std::time::Duration::from_secs(60)).await?;
    ///     println!("{:?} {:?}", job.state, job.progress);
    ///     if job.state.is_terminal() {
    ///         break;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn follow(&self, id: JobId) -> Result<Follow> {
        let events = self
            .waits
            .events
            .get_or_try_init(|| {
                JobEvents::connect(
                    self.pool.clone(),
                    self.waits.stop.clone(),
                    self.waits.recheck,
                )
            })
            .await;
        match events {
            Ok(hub) => hub.follow(id).await,
            Err(e) => {
                tracing::debug!(error = %e, "no job events listener; polling");
                Ok(Follow::polling(self.pool.clone(), id))
            }
        }
    }
}

/// Enqueues `job` through any executor: pass `&mut *tx` to enqueue inside
/// your own transaction, so the job exists if and only if it commits.
///
/// ```no_run
/// # async fn demo(pool: sqlx::PgPool) -> weir::Result<()> {
/// let mut tx = pool.begin().await?;
/// // ... your own writes ...
/// weir::enqueue_in(&mut *tx, &weir::NewJob::new("email.send", serde_json::json!({"to": "a@b.c"}))).await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub async fn enqueue_in(db: impl PgExecutor<'_>, job: &NewJob) -> Result<Enqueued> {
    db::jobs::insert(db, &checked_args(job)?).await
}

/// Batches at least this large fetch their ids first and insert with them
/// ([`db::jobs::insert_many_with_ids`]); smaller ones save that round trip.
/// Each batch committed on its own, 400 alternated batches, median, the
/// one-statement path against ids first: 8 jobs 0.42 / 0.41 ms, 32 jobs
/// 0.76 / 0.66 ms, 256 jobs 3.39 / 2.20 ms.
/// (The web node's grouped single enqueues keep the one-statement path:
/// with ids first they did 17.0-17.2k req/s against 17.9-21.6k.)
const IDS_FIRST_FROM: usize = 32;

/// Enqueues `jobs` in one `INSERT` and returns them as stored, in input
/// order: all are enqueued or none. Much cheaper than one [`enqueue_in`]
/// per job (one commit on a pool). Pass a pool, or `&mut *tx` to enqueue
/// inside your own transaction. Jobs with a `unique_key` are refused
/// (enqueue those one at a time).
pub async fn enqueue_many_in<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    jobs: &[NewJob],
) -> Result<Vec<Job>> {
    let fixed;
    let jobs = if jobs.iter().all(|j| j.args.is_object()) {
        jobs
    } else {
        fixed = jobs.iter().map(checked_args).collect::<Result<Vec<_>>>()?;
        &fixed[..]
    };
    let mut conn = db.acquire().await?;
    if jobs.len() < IDS_FIRST_FROM {
        return db::jobs::insert_many(&mut *conn, jobs).await;
    }
    let ids = db::jobs::new_ids(&mut *conn, jobs.len()).await?;
    db::jobs::insert_many_with_ids(&mut *conn, &ids, jobs).await
}

/// `job` with `null` args made `{}`; args that are not an object refused.
fn checked_args(job: &NewJob) -> Result<NewJob> {
    let args = if job.args.is_null() {
        serde_json::json!({})
    } else {
        job.args.clone()
    };
    if !args.is_object() {
        return Err(Error::InvalidJob("args must be a JSON object".into()));
    }
    Ok(NewJob {
        args,
        ..job.clone()
    })
}
