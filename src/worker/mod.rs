//! The worker node: claims jobs, runs their handlers, records outcomes.
//!
//! Parts, each its own task so that a slow handler never delays them:
//! - [`listener`]: the one LISTEN connection, fanned out to the queues;
//! - [`queue`]: one claim loop per served queue, which claims ahead of its
//!   free slots ([`prefetch`]) and spawns executions;
//! - [`execute`]: one attempt of one job (waits for a slot, then timeout,
//!   panic, shutdown); its slot frees when the handler returns;
//! - [`completer`]: records outcomes in batches, fenced by claim token;
//! - [`heartbeat`]: node liveness and batched progress writes;
//! - [`supervisor`]: checks this node's running attempts for cancel requests
//!   and for jobs taken away (rescued, re-claimed), and stops them;
//! - the maintenance services ([`crate::maintenance`]) when elected.

pub mod completer;
pub mod execute;
pub mod heartbeat;
pub mod listener;
pub mod prefetch;
pub mod queue;
pub mod registry;
pub mod supervisor;
mod wake;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicI32;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::backoff::Backoff;
use crate::db;
use crate::error::{Error, Result};
use crate::job::NodeId;
use crate::maintenance::{self, MaintenanceConfig};
use crate::task::{ProgressBoard, Task};
pub use prefetch::Prefetch;
pub use registry::Registry;

/// Most connections of a node's async-commit pool (claims, wake-ups,
/// heartbeats, supervision): a node serving many queues shares them
/// instead of opening one per queue.
pub const MAX_CLAIM_CONNECTIONS: u32 = 8;
/// Default fallback poll: how long an idle queue waits for a notification
/// before it looks for work anyway.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Default interval of node heartbeats.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// Default time running jobs get to finish after a shutdown signal.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// Time after the shutdown grace period for the last writes (the jobs
/// handed back, resigning, deregistering); whatever is still unwritten
/// then is abandoned.
pub const SHUTDOWN_FINAL_WRITES: Duration = Duration::from_secs(5);
/// Default attempt timeout when neither the job nor its task sets one.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Default interval at which progress reports are written.
pub const DEFAULT_PROGRESS_INTERVAL: Duration = Duration::from_millis(250);
/// Default interval of the supervision of running attempts (cancel
/// requests, jobs taken away).
pub const DEFAULT_SUPERVISION_INTERVAL: Duration = Duration::from_secs(1);
/// Default time a handler told to stop (cancel, or job taken away) gets
/// before it is aborted.
pub const DEFAULT_CANCEL_GRACE: Duration = Duration::from_secs(5);

/// A queue served by this node and how many of its jobs run at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    pub name: String,
    pub concurrency: usize,
}

/// Parses `default=10,mail=2` (a bare name means concurrency 10).
///
/// ```
/// let q = weir::worker::parse_queues("default=10, mail=2").unwrap();
/// assert_eq!(q[1].name, "mail");
/// assert_eq!(q[1].concurrency, 2);
/// assert!(weir::worker::parse_queues("mail=0").is_err());
/// ```
pub fn parse_queues(spec: &str) -> Result<Vec<QueueConfig>> {
    let mut queues: Vec<QueueConfig> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, concurrency) = match part.split_once('=') {
            Some((name, n)) => {
                let n: usize = n.trim().parse().map_err(|_| {
                    Error::Config(format!(
                        "queue {part:?}: concurrency must be a positive integer"
                    ))
                })?;
                (name.trim(), n)
            }
            None => (part, 10),
        };
        if !crate::job::is_valid_queue_name(name) {
            return Err(Error::Config(format!(
                "queue name {name:?}: use 1 to 128 letters, digits, '_', '.', ':' or '-'"
            )));
        }
        if concurrency == 0 || concurrency > 10_000 {
            return Err(Error::Config(format!(
                "queue {name:?}: concurrency must be between 1 and 10000"
            )));
        }
        if queues.iter().any(|q| q.name == name) {
            return Err(Error::Config(format!("queue {name:?} is listed twice")));
        }
        queues.push(QueueConfig {
            name: name.to_string(),
            concurrency,
        });
    }
    if queues.is_empty() {
        return Err(Error::Config("no queues given (e.g. default=10)".into()));
    }
    Ok(queues)
}

/// How a worker node behaves. Every field has a documented default.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Queues served, with concurrency each. Default: `default=10`.
    pub queues: Vec<QueueConfig>,
    /// Fallback poll of an idle queue (covers lost notifications). Default 2 s.
    pub poll_interval: Duration,
    /// Node heartbeat interval. Default 5 s.
    pub heartbeat_interval: Duration,
    /// Time running jobs get to finish after shutdown is signalled; then
    /// they are aborted and handed back. It also bounds the whole
    /// shutdown: outcomes that cannot be written by its end (plus
    /// [`SHUTDOWN_FINAL_WRITES`]), as while the database is down, are
    /// abandoned and their jobs rescued later. Default 30 s.
    pub shutdown_grace: Duration,
    /// Attempt timeout when neither job nor task sets one. Default 30 min.
    pub job_timeout: Duration,
    /// Retry backoff. Default: from 1 s, doubling, capped at 1 h, jittered.
    pub backoff: Backoff,
    /// How often progress reports are written. Default 250 ms.
    pub progress_interval: Duration,
    /// How often running attempts are checked for cancel requests and for
    /// jobs taken away. Default 1 s.
    pub supervision_interval: Duration,
    /// Time a handler told to stop gets before it is aborted. Default 5 s.
    pub cancel_grace: Duration,
    /// Run the maintenance services (stager, ...) when elected leader.
    /// Default true.
    pub maintenance: Option<MaintenanceConfig>,
    /// How far each queue claims ahead of its free slots (see
    /// [`Prefetch`]).
    pub prefetch: Prefetch,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            queues: vec![QueueConfig {
                name: crate::job::DEFAULT_QUEUE.into(),
                concurrency: 10,
            }],
            poll_interval: DEFAULT_POLL_INTERVAL,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            job_timeout: DEFAULT_JOB_TIMEOUT,
            backoff: Backoff::default(),
            progress_interval: DEFAULT_PROGRESS_INTERVAL,
            supervision_interval: DEFAULT_SUPERVISION_INTERVAL,
            cancel_grace: DEFAULT_CANCEL_GRACE,
            maintenance: Some(MaintenanceConfig::default()),
            prefetch: Prefetch::default(),
        }
    }
}

/// What every execution of this node shares.
pub(crate) struct NodeEnv {
    pub node: NodeId,
    pub registry: Registry,
    pub kinds: Vec<String>,
    pub timeouts: Vec<i32>,
    pub config: WorkerConfig,
    pub board: Arc<ProgressBoard>,
    pub outcomes: completer::OutcomeSender,
    /// Fired when the shutdown grace period is over: executions abort
    /// their handlers and hand the jobs back.
    pub hard_stop: CancellationToken,
    /// Attempts in progress on this node.
    pub running: Arc<AtomicI32>,
    /// The same attempts with their claim tokens and stop signals, for
    /// the supervisor.
    pub executions: Arc<supervisor::Executions>,
    /// For what a handler reads on demand ([`JobContext::parents`]).
    pub pool: PgPool,
}

/// A worker node, built from a pool, a config and registered tasks.
///
/// ```no_run
/// # async fn demo(pool: sqlx::PgPool) -> weir::Result<()> {
/// use weir::{Worker, WorkerConfig};
/// let shutdown = tokio_util::sync::CancellationToken::new();
/// let mut worker = Worker::new(pool, WorkerConfig::default());
/// worker.register(weir::demo::ProcessItem);
/// worker.run(shutdown).await
/// # }
/// ```
pub struct Worker {
    pool: PgPool,
    config: WorkerConfig,
    registry: Registry,
    node: NodeId,
    schedules: Vec<crate::client::NewSchedule>,
}

impl Worker {
    pub fn new(pool: PgPool, config: WorkerConfig) -> Self {
        Worker {
            pool,
            config,
            registry: Registry::new(),
            node: NodeId(Uuid::new_v4()),
            schedules: Vec::new(),
        }
    }

    /// Serves jobs of `task`'s kind.
    pub fn register<T: Task>(&mut self, task: T) -> &mut Self {
        self.registry.register(task);
        self
    }

    /// Serves every task of `registry` too.
    pub fn with_registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Declares a cron schedule, set (created or replaced) when the worker
    /// starts; its next tick is kept when nothing about its timing changed.
    pub fn schedule(&mut self, schedule: crate::client::NewSchedule) -> &mut Self {
        self.schedules.push(schedule);
        self
    }

    /// This node's id (as listed in `weir.nodes`).
    pub fn node_id(&self) -> NodeId {
        self.node
    }

    /// Runs until `shutdown` is cancelled, then stops claiming, lets running
    /// jobs finish for the grace period, hands the rest back, records every
    /// outcome and deregisters. The grace period counts from the signal
    /// and bounds it all: returns at most [`SHUTDOWN_FINAL_WRITES`] (and a
    /// second to deregister) after it, even when the database is down.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let Worker {
            pool,
            config,
            registry,
            node,
            schedules,
        } = self;
        if registry.is_empty() {
            return Err(Error::Config("the worker has no tasks registered".into()));
        }
        for s in &schedules {
            db::retry_while_unreachable("setting a schedule", &shutdown, None, || {
                crate::client::set_schedule_in(&pool, s)
            })
            .await?;
        }
        let kinds = registry.kinds();
        let timeouts = registry.timeouts(config.job_timeout);
        let fast = db::async_commit_pool(
            &pool,
            (config.queues.len() as u32 + 2).min(MAX_CLAIM_CONNECTIONS),
        );

        let queue_spec: BTreeMap<&str, usize> = config
            .queues
            .iter()
            .map(|q| (q.name.as_str(), q.concurrency))
            .collect();
        let registration = heartbeat::Registration {
            node,
            host: hostname(),
            pid: std::process::id() as i32,
            queues: serde_json::to_value(&queue_spec)?,
            kinds: kinds.clone(),
        };
        // A database that is restarting while the node starts is waited
        // for, as it is once the node runs.
        db::retry_while_unreachable("registering the node", &shutdown, None, || {
            registration.register(&pool)
        })
        .await?;

        let names = config
            .queues
            .iter()
            .map(|q| q.name.clone())
            .chain([db::wakeups::STAGER.to_string()]);
        let wakeups = Arc::new(listener::Wakeups::new(names));
        // Background tasks stop on `background`, after the queues drained.
        let background = CancellationToken::new();
        let listener =
            db::retry_while_unreachable("starting the listener", &shutdown, None, || {
                listener::start(&pool, wakeups.clone(), background.clone())
            })
            .await?;

        let (tx, rx) = mpsc::unbounded_channel();
        let give_up = CancellationToken::new();
        let completer = tokio::spawn(completer::run(pool.clone(), rx, give_up.clone()));

        let env = Arc::new(NodeEnv {
            node,
            registry,
            kinds,
            timeouts,
            config: config.clone(),
            board: Arc::new(ProgressBoard::default()),
            outcomes: tx,
            hard_stop: CancellationToken::new(),
            running: Default::default(),
            executions: Default::default(),
            pool: pool.clone(),
        });
        let heartbeat = tokio::spawn(heartbeat::run(
            fast.clone(),
            pool.clone(),
            registration,
            env.running.clone(),
            config.heartbeat_interval,
            background.clone(),
        ));
        let supervisor = tokio::spawn(supervisor::run(
            fast.clone(),
            env.executions.clone(),
            config.supervision_interval,
            background.clone(),
        ));
        let progress = tokio::spawn(heartbeat::flush_progress(
            fast.clone(),
            env.board.clone(),
            config.progress_interval,
            background.clone(),
        ));
        let maintenance = config.maintenance.clone().map(|m| {
            tokio::spawn(maintenance::run(
                pool.clone(),
                node,
                m,
                wakeups.get(db::wakeups::STAGER),
                background.clone(),
            ))
        });

        tracing::info!(%node, queues = ?queue_spec, kinds = ?env.kinds, "worker started");
        let runners: Vec<_> = config
            .queues
            .iter()
            .map(|q| {
                tokio::spawn(
                    queue::Runner {
                        env: env.clone(),
                        fast: fast.clone(),
                        queue: q.clone(),
                        wake: wakeups.get(&q.name),
                        stop: shutdown.clone(),
                    }
                    .run(),
                )
            })
            .collect();

        shutdown.cancelled().await;
        let grace = config.shutdown_grace;
        let deadline = tokio::time::Instant::now() + grace;
        tracing::info!(
            ?grace,
            "shutting down: no new claims; waiting for running jobs"
        );
        // At the end of the grace period handlers are aborted and their jobs
        // handed back, and an unreachable database is no longer waited for.
        let timer = tokio::spawn({
            let (hard_stop, give_up) = (env.hard_stop.clone(), give_up.clone());
            async move {
                tokio::time::sleep_until(deadline).await;
                hard_stop.cancel();
                give_up.cancel();
            }
        });
        let stuck: Vec<_> = runners
            .iter()
            .map(|r| r.abort_handle())
            .chain([completer.abort_handle()])
            .collect();
        // The completer finishes once every execution has sent its outcome.
        drop(env);
        let drained = tokio::time::timeout_at(deadline + SHUTDOWN_FINAL_WRITES, async {
            for r in runners {
                let _ = r.await;
            }
            let _ = completer.await;
        })
        .await;
        if drained.is_err() {
            tracing::error!(
                "outcomes still unwritten at the end of the shutdown grace period; abandoned: \
                 their jobs will be rescued and run again"
            );
            for task in stuck {
                task.abort();
            }
        }
        timer.abort();
        background.cancel();
        let end = (deadline + SHUTDOWN_FINAL_WRITES)
            .max(tokio::time::Instant::now() + Duration::from_secs(1));
        let tasks: Vec<_> = [&listener, &heartbeat, &progress, &supervisor]
            .into_iter()
            .chain(maintenance.as_ref())
            .map(|t| t.abort_handle())
            .collect();
        let stopped = tokio::time::timeout_at(end, async {
            let _ = tokio::join!(listener, heartbeat, progress, supervisor);
            if let Some(m) = maintenance {
                let _ = m.await;
            }
            if let Err(e) = db::nodes::deregister(&pool, node).await {
                tracing::warn!(error = %e, "could not deregister the node");
            }
            fast.close().await;
        })
        .await;
        if stopped.is_err() {
            tracing::warn!("could not deregister the node in time; it will be removed as dead");
            for task in tasks {
                task.abort();
            }
        }
        tracing::info!("worker stopped");
        Ok(())
    }
}

/// The machine's host name, for `weir.nodes`.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
