//! Following jobs: change notifications for waiting requests, event streams and
//! [`crate::Client::wait`].
//!
//! One LISTEN connection (channel `weir_job_events`) per web node, and per
//! [`crate::Client`] that has waited, serves every follower there. A follower
//! registers the job in `weir.followed_jobs` (so that changes to it are
//! announced at all), then reads the job; when a notification for it
//! arrives, it reads it again. No follower holds a connection while it
//! waits. Notifications are hints: a follower also re-reads every
//! [`SAFETY_RECHECK`] (or the followers' own interval), and after a listener
//! reconnect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db;
use crate::db::followed_jobs::JOB_EVENTS_CHANNEL;
use crate::error::{Error, Result};
use crate::job::{Job, JobId, NodeId};

/// Longest a follower goes without re-reading its job, in case a
/// notification was lost.
pub const SAFETY_RECHECK: Duration = Duration::from_secs(2);

struct Entry {
    tx: watch::Sender<u64>,
    subscribers: usize,
}

/// Locks that order the writes of followed-job rows of one job (by a stripe of
/// its id): the row of a job that is subscribed again while its last
/// subscriber's removal is on its way is never deleted after it was
/// added.
const WRITE_STRIPES: usize = 16;

/// The followed jobs of one process (a web node, or a [`crate::Client`]): one LISTEN connection fanned out in memory to every [`Follow`].
pub struct Followers {
    pool: PgPool,
    node: NodeId,
    entries: Mutex<HashMap<JobId, Entry>>,
    writes: [tokio::sync::Mutex<()>; WRITE_STRIPES],
    /// Longest a subscription waits without a notification.
    recheck: Duration,
}

impl Followers {
    /// Connects the listener and returns once LISTEN is active (waiting
    /// for a database that cannot be reached, until `shutdown`). The
    /// listener stops at `shutdown`.
    pub async fn start(pool: PgPool, shutdown: CancellationToken) -> Result<Arc<Self>> {
        // A database that is restarting while the web node starts is
        // waited for, as the listener below does once it runs.
        db::retry_while_unreachable("starting the job events listener", &shutdown, None, || {
            Self::connect(pool.clone(), shutdown.clone(), SAFETY_RECHECK)
        })
        .await
    }

    /// Connects the listener once (an error if the database cannot be
    /// reached) and returns once LISTEN is active; subscriptions re-read
    /// at least every `recheck`. The listener stops at `stop`.
    pub async fn connect(
        pool: PgPool,
        stop: CancellationToken,
        recheck: Duration,
    ) -> Result<Arc<Self>> {
        let node = NodeId(Uuid::new_v4());
        let name = db::followed_jobs::listener_application_name(node);
        let listener = db::listen_as(&pool, JOB_EVENTS_CHANNEL, &name).await?;
        Ok(Self::spawn(pool, node, listener, stop, recheck))
    }

    /// Runs the listener of the followers `node` (whose connection is named after
    /// it: while it is connected, the rescuer keeps their rows in `weir.followed_jobs`).
    fn spawn(
        pool: PgPool,
        node: NodeId,
        mut listener: sqlx::postgres::PgListener,
        shutdown: CancellationToken,
        recheck: Duration,
    ) -> Arc<Self> {
        let events = Arc::new(Followers::new(pool, node, recheck));
        let me = events.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    msg = listener.try_recv() => match msg {
                        Ok(Some(n)) => {
                            if let Ok(id) = n.payload().parse::<JobId>() {
                                me.bump(id);
                            }
                        }
                        // Reconnected (notifications may be lost; while the
                        // connection was down the rescuer may have removed
                        // the followed-job rows), or failed: the rows are written
                        // again and every follower re-reads.
                        Ok(None) => {
                            me.refollow_all().await;
                            me.bump_all();
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "job events listener failed; reconnecting");
                            me.bump_all();
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                }
            }
            let _ = me.unfollow_all().await;
        });
        events
    }

    /// Removes every followed-job row of these followers (their listener
    /// should be stopped first, or followers may add more).
    pub async fn unfollow_all(&self) -> Result<()> {
        db::followed_jobs::remove_node(&self.pool, self.node).await
    }

    fn new(pool: PgPool, node: NodeId, recheck: Duration) -> Self {
        Followers {
            pool,
            node,
            entries: Mutex::new(HashMap::new()),
            writes: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            recheck,
        }
    }

    fn write_lock(&self, id: JobId) -> &tokio::sync::Mutex<()> {
        &self.writes[(id.0.as_u128() % WRITE_STRIPES as u128) as usize]
    }

    fn is_subscribed(&self, id: JobId) -> bool {
        self.entries
            .lock()
            .expect("events poisoned")
            .contains_key(&id)
    }

    fn bump(&self, id: JobId) {
        if let Some(e) = self.entries.lock().expect("events poisoned").get(&id) {
            e.tx.send_modify(|v| *v += 1);
        }
    }

    /// Writes the followed-job row of every subscribed job again.
    async fn refollow_all(&self) {
        let ids: Vec<JobId> = self
            .entries
            .lock()
            .expect("events poisoned")
            .keys()
            .copied()
            .collect();
        for id in ids {
            let _order = self.write_lock(id).lock().await;
            if !self.is_subscribed(id) {
                continue;
            }
            if let Err(e) = db::followed_jobs::add(&self.pool, id, self.node).await {
                tracing::debug!(error = %e, "writing a followed-job row again failed");
            }
        }
    }

    fn bump_all(&self) {
        for e in self.entries.lock().expect("events poisoned").values() {
            e.tx.send_modify(|v| *v += 1);
        }
    }

    /// Subscribes to changes of `id`. The followed-job row is committed before
    /// this returns, so a read made afterwards cannot miss a later change.
    pub async fn subscribe(self: &Arc<Self>, id: JobId) -> Result<FollowedJob> {
        let (rx, first) = {
            let mut entries = self.entries.lock().expect("events poisoned");
            match entries.get_mut(&id) {
                Some(e) => {
                    e.subscribers += 1;
                    (e.tx.subscribe(), false)
                }
                None => {
                    let (tx, rx) = watch::channel(0);
                    entries.insert(id, Entry { tx, subscribers: 1 });
                    (rx, true)
                }
            }
        };
        let sub = FollowedJob {
            events: self.clone(),
            id,
            rx,
        };
        if first {
            let _order = self.write_lock(id).lock().await;
            db::followed_jobs::add(&self.pool, id, self.node).await?;
        }
        Ok(sub)
    }

    /// Follows `id` through these followers's notifications; the followed-job row is
    /// committed before this returns.
    pub async fn follow(self: &Arc<Self>, id: JobId) -> Result<Follow> {
        let sub = self.subscribe(id).await?;
        Ok(Follow {
            sub: Some(sub),
            ..Follow::polling(self.pool.clone(), id)
        })
    }

    fn unsubscribe(self: &Arc<Self>, id: JobId) {
        let last = {
            let mut entries = self.entries.lock().expect("events poisoned");
            match entries.get_mut(&id) {
                Some(e) if e.subscribers > 1 => {
                    e.subscribers -= 1;
                    false
                }
                Some(_) => {
                    entries.remove(&id);
                    true
                }
                None => false,
            }
        };
        if last {
            let me = self.clone();
            tokio::spawn(async move {
                // A new subscriber may have come meanwhile: its row stays.
                // One that comes after this look adds the row again once
                // this removal is done (it waits for the same lock).
                let _order = me.write_lock(id).lock().await;
                if me.is_subscribed(id) {
                    return;
                }
                if let Err(e) = db::followed_jobs::remove(&me.pool, id, me.node).await {
                    tracing::debug!(error = %e, "removing a followed-job row failed");
                }
            });
        }
    }
}

/// Interest in one job; dropping it ends the interest.
pub struct FollowedJob {
    events: Arc<Followers>,
    id: JobId,
    rx: watch::Receiver<u64>,
}

impl FollowedJob {
    /// Completes when the job may have changed: a notification arrived,
    /// the listener reconnected, or the followers' re-check interval (capped
    /// by `max`) passed.
    pub async fn changed(&mut self, max: Duration) {
        let recheck = self.events.recheck;
        let _ = tokio::time::timeout(max.min(recheck), self.rx.changed()).await;
    }
}

/// One job followed: each [`Follow::changed`] returns it once it differs
/// from the version the previous call returned. Holds the job's followed-job row (if
/// it follows through [`Followers`]) until dropped, so following a job for a long
/// time writes its followed-job row once.
pub struct Follow {
    pool: PgPool,
    id: JobId,
    sub: Option<FollowedJob>,
    last: Option<Job>,
    /// without [`Followers`]: the next pause between reads.
    poll: Duration,
}

/// Pauses between reads of a job followed without [`Followers`]: from the first
/// to the longest, doubling while the job does not change.
const POLL_FIRST: Duration = Duration::from_millis(10);
const POLL_LONGEST: Duration = Duration::from_millis(500);

impl Follow {
    /// Follows `id` by reading it every 10 ms to 500 ms (for a client
    /// whose LISTEN connection could not be opened;
    /// [`Followers::follow`] is woken by notifications instead).
    pub fn polling(pool: PgPool, id: JobId) -> Self {
        Follow {
            pool,
            id,
            sub: None,
            last: None,
            poll: POLL_FIRST,
        }
    }

    /// The job as soon as it differs from the version the previous call
    /// returned (the first call returns it at once), or as it is when
    /// `timeout` passes. [`Error::NotFound`] if it does not exist.
    pub async fn changed(&mut self, timeout: Duration) -> Result<Job> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.last.is_some() {
                self.pause(deadline).await;
            }
            let job = db::jobs::get(&self.pool, self.id)
                .await?
                .ok_or(Error::NotFound(self.id))?;
            let new = self.last.as_ref() != Some(&job);
            if new || tokio::time::Instant::now() >= deadline {
                if new {
                    self.poll = POLL_FIRST;
                }
                self.last = Some(job.clone());
                return Ok(job);
            }
        }
    }

    /// The job once it is terminal, or as it is when `timeout` passes.
    pub async fn finished(&mut self, timeout: Duration) -> Result<Job> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let job = self.changed(left).await?;
            if job.state.is_terminal() || tokio::time::Instant::now() >= deadline {
                return Ok(job);
            }
        }
    }

    async fn pause(&mut self, deadline: tokio::time::Instant) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match &mut self.sub {
            Some(sub) => sub.changed(left).await,
            None => {
                tokio::time::sleep(self.poll.min(left)).await;
                self.poll = (self.poll * 2).min(POLL_LONGEST);
            }
        }
    }
}

impl Drop for FollowedJob {
    fn drop(&mut self) {
        self.events.unsubscribe(self.id);
    }
}

impl Followers {
    /// Followers with no listener (for building the spec, and for tests that
    /// never wait).
    pub fn detached(pool: PgPool) -> Arc<Self> {
        Arc::new(Followers::new(pool, NodeId(Uuid::new_v4()), SAFETY_RECHECK))
    }
}
