//! Every way to enqueue: one job, many, inside the caller's transaction,
//! with an idempotency key, and the web node's grouped single enqueues.

use std::collections::HashMap;

use sqlx::{Acquire, PgExecutor, Postgres};

use super::Client;
use super::idempotency::IdempotencyKey;
use crate::db;
use crate::error::{Error, Result};
use crate::job::{Enqueued, Job, JobId, NewJob};
use crate::task::Task;

/// What [`Client::submit`] did: the job as stored, and whether this call
/// created it (`false`: a live job held its `unique_key`, or the
/// idempotency key had already created it).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub job: Job,
    pub created: bool,
}

impl Client {
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

    /// Enqueues `job` and answers it as stored, as `POST /v1/jobs` does.
    /// With a `unique_key` held by a live job, answers that job. With an
    /// idempotency key that created a job in the last 24 hours in the same
    /// scope, answers that job, even if it has finished since, when the
    /// request is the same one ([`Error::IdempotencyKeyReused`] when it is
    /// not); the key and the job are committed together. The job carries a
    /// warning when no live worker serves its kind on its queue.
    pub async fn submit(
        &self,
        job: NewJob,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Submitted> {
        let Submitted { job, created } = self.submit_unwarned(job, idempotency).await?;
        let job = self.with_warnings(vec![job]).await?.remove(0);
        Ok(Submitted { job, created })
    }

    async fn submit_unwarned(
        &self,
        job: NewJob,
        idempotency: Option<&IdempotencyKey>,
    ) -> Result<Submitted> {
        let job = checked_args(&job)?;
        if let Some(key) = idempotency {
            key.check()?;
        }
        if let (Some(grouped), None, None, true) = (
            &self.grouped,
            idempotency,
            &job.unique_key,
            job.depends_on.is_empty(),
        ) {
            // Grouped with concurrent submits into one INSERT, which returns
            // the row (no second read).
            let job = grouped.enqueue(job).await?;
            return Ok(Submitted { job, created: true });
        }
        let enqueued = match idempotency {
            None => enqueue_in(&self.pool, &job).await?,
            Some(key) => {
                let fingerprint = key.fingerprint_of(&job)?;
                let (scope, key) = (key.scope.as_str(), key.key.as_str());
                loop {
                    if let Some(first) = db::idempotency::find(&self.pool, scope, key).await? {
                        if first.fingerprint.is_some_and(|f| f != fingerprint) {
                            return Err(Error::IdempotencyKeyReused);
                        }
                        let job = self.job(first.job_id).await?;
                        return Ok(Submitted {
                            job,
                            created: false,
                        });
                    }
                    let mut tx = self.pool.begin().await?;
                    let enqueued = enqueue_in(&mut *tx, &job).await?;
                    if db::idempotency::record(&mut *tx, scope, key, &fingerprint, enqueued.id)
                        .await?
                    {
                        tx.commit().await?;
                        break enqueued;
                    }
                    // A concurrent request with this key won: answer its job.
                    tx.rollback().await?;
                }
            }
        };
        Ok(Submitted {
            job: self.job(enqueued.id).await?,
            created: enqueued.created,
        })
    }

    /// Enqueues `jobs` in one statement: all or none, returned in input
    /// order. See [`enqueue_many_in`].
    pub async fn enqueue_many(&self, jobs: &[NewJob]) -> Result<Vec<Job>> {
        enqueue_many_in(&self.pool, jobs).await
    }

    /// Enqueues `jobs` in one transaction (all or none) and answers them as
    /// stored, in input order, as `POST /v1/jobs/batch` does. Jobs may carry
    /// a `unique_key` (two entries with one key are the same job). A refused
    /// entry fails the batch with its index in the message (`jobs[3]: ...`).
    /// Jobs whose kind no live worker serves on their queue carry a warning.
    pub async fn enqueue_batch(&self, jobs: &[NewJob]) -> Result<Vec<Job>> {
        let stored = self.enqueue_batch_unwarned(jobs).await?;
        self.with_warnings(stored).await
    }

    async fn enqueue_batch_unwarned(&self, jobs: &[NewJob]) -> Result<Vec<Job>> {
        if jobs.iter().all(|j| j.unique_key.is_none()) {
            match enqueue_many_in(&self.pool, jobs).await {
                // Refused: the one-by-one path below says which entry.
                Err(Error::InvalidJob(_)) => {}
                other => return other,
            }
        }
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(jobs.len());
        for (i, job) in jobs.iter().enumerate() {
            let enqueued = enqueue_in(&mut *tx, job).await.map_err(|e| match e {
                Error::InvalidJob(m) => Error::InvalidJob(format!("jobs[{i}]: {m}")),
                Error::Conflict(m) => Error::Conflict(format!("jobs[{i}]: {m}")),
                other => other,
            })?;
            ids.push(enqueued.id);
        }
        // One read for the whole batch, mapped back by id in input order.
        let found: HashMap<JobId, Job> = db::jobs::get_many(&mut *tx, &ids)
            .await?
            .into_iter()
            .map(|j| (j.id, j))
            .collect();
        let out = ids
            .iter()
            .map(|id| found.get(id).cloned().ok_or(Error::NotFound(*id)))
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(out)
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
/// ([`db::jobs::insert_many_with_ids`]), which makes the INSERT cheaper
/// than matching rows back; smaller ones save that extra round trip.
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
    for job in jobs {
        check_values(job)?;
    }
    let fixed;
    let traced = crate::trace::current_traceparent().is_some();
    let jobs = if jobs.iter().all(|j| {
        j.args.is_object()
            && crate::job::unreadable_json(&j.args).is_none()
            && (j.traceparent.is_some() || !traced)
    }) {
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

/// `job` with `null` args made `{}`; args that are not an object, text
/// with NUL bytes and a `run_at` outside RFC 3339's years refused.
fn checked_args(job: &NewJob) -> Result<NewJob> {
    check_values(job)?;
    let args = if job.args.is_null() {
        serde_json::json!({})
    } else {
        job.args.clone()
    };
    if !args.is_object() {
        return Err(Error::InvalidJob("args must be a JSON object".into()));
    }
    if let Some(why) = crate::job::unreadable_json(&args) {
        return Err(Error::InvalidJob(format!("args: {why}")));
    }
    Ok(NewJob {
        args,
        traceparent: job
            .traceparent
            .clone()
            .or_else(crate::trace::current_traceparent),
        ..job.clone()
    })
}

/// Values the database would refuse with its own words, refused in weir's.
pub(crate) fn check_values(job: &NewJob) -> Result<()> {
    let texts = [
        ("kind", Some(job.kind.as_str())),
        ("queue", job.queue.as_deref()),
        ("unique_key", job.unique_key.as_deref()),
        ("concurrency_key", job.concurrency_key.as_deref()),
    ];
    for (what, text) in texts {
        if text.is_some_and(|t| t.contains('\0')) {
            return Err(Error::InvalidJob(format!(
                "{what}: text values may not contain NUL bytes"
            )));
        }
    }
    if let Some(tp) = &job.traceparent
        && !crate::trace::is_valid_traceparent(tp)
    {
        return Err(Error::InvalidJob(format!(
            "traceparent: {tp:?} is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)"
        )));
    }
    if let Some(at) = job.run_at
        && !(0..=9999).contains(&chrono::Datelike::year(&at))
    {
        return Err(Error::InvalidJob(
            "run_at must be a time in the years 0000 to 9999".into(),
        ));
    }
    Ok(())
}
