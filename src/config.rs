//! Configuration from flags, then the environment, then `.env`.
//!
//! Every setting is a clap argument with an environment variable and a
//! default; `.env.example` lists them all.

use std::time::Duration;

use clap::Args;

use crate::backoff::Backoff;
use crate::error::Result;
use crate::maintenance::MaintenanceConfig;
use crate::worker::{WorkerConfig, parse_queues};

/// Default database: the local server, database `weir`.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/weir";

/// Database connection settings.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// PostgreSQL URL.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
    /// Connections in this process's main pool.
    #[arg(long, env = "WEIR_DB_POOL_SIZE", default_value_t = 10)]
    pub pool_size: u32,
    /// Default max_attempts of jobs enqueued by this process (sets the
    /// session setting weir.default_max_attempts). Unset: the database's
    /// default (20 unless changed with ALTER DATABASE ... SET).
    #[arg(long, env = "WEIR_MAX_ATTEMPTS", value_parser = clap::value_parser!(i32).range(1..))]
    pub default_max_attempts: Option<i32>,
}

impl DbArgs {
    /// Connects the main pool.
    pub async fn connect(&self) -> Result<sqlx::PgPool> {
        crate::db::connect(
            &self.database_url,
            self.pool_size,
            self.default_max_attempts,
        )
        .await
    }

    /// A [`crate::Client`] on a new main pool.
    pub async fn client(&self) -> Result<crate::Client> {
        Ok(crate::Client::new(self.connect().await?))
    }
}

/// Worker node settings.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Queues to serve with their concurrency, e.g. default=10,mail=2.
    #[arg(long, env = "WEIR_QUEUES", default_value = "default=10")]
    pub queues: String,
    /// Fallback poll of an idle queue, in milliseconds (covers lost
    /// notifications).
    #[arg(long, env = "WEIR_POLL_INTERVAL_MS", default_value_t = 2000)]
    pub poll_interval_ms: u64,
    /// Node heartbeat interval, in seconds.
    #[arg(long, env = "WEIR_HEARTBEAT_SECS", default_value_t = 5)]
    pub heartbeat_secs: u64,
    /// Seconds running jobs get to finish after SIGINT/SIGTERM before they
    /// are aborted and handed back.
    #[arg(long, env = "WEIR_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// Attempt timeout, in seconds, when neither job nor task sets one.
    #[arg(long, env = "WEIR_JOB_TIMEOUT_SECS", default_value_t = 1800)]
    pub job_timeout_secs: u64,
    /// Delay after the first failed attempt, in milliseconds (doubles per
    /// attempt, jittered).
    #[arg(long, env = "WEIR_BACKOFF_BASE_MS", default_value_t = 1000)]
    pub backoff_base_ms: u64,
    /// Ceiling of the retry delay, in seconds.
    #[arg(long, env = "WEIR_BACKOFF_MAX_SECS", default_value_t = 3600)]
    pub backoff_max_secs: u64,
    /// Address on which the worker node serves `/metrics` and `/healthz`,
    /// e.g. 127.0.0.1:9465 (off when unset). `weir dev` serves them on the
    /// web node's address.
    #[arg(long, env = "WEIR_WORKER_BIND")]
    pub worker_bind: Option<String>,
    /// Never run the maintenance services (stager, ...) on this node.
    #[arg(long, env = "WEIR_NO_MAINTENANCE", default_value_t = false)]
    pub no_maintenance: bool,
    /// Interval, in milliseconds, at which running jobs are checked for
    /// cancel requests and for having been taken away (rescued).
    #[arg(long, env = "WEIR_SUPERVISION_INTERVAL_MS", default_value_t = 1000)]
    pub supervision_interval_ms: u64,
    /// Seconds a handler told to stop (cancel) gets before it is aborted.
    #[arg(long, env = "WEIR_CANCEL_GRACE_SECS", default_value_t = 5)]
    pub cancel_grace_secs: u64,
    /// Maintenance: a node whose last heartbeat is older than this many
    /// seconds is dead and its running jobs are rescued.
    #[arg(long, env = "WEIR_NODE_DEAD_AFTER_SECS", default_value_t = 30)]
    pub node_dead_after_secs: u64,
    /// Maintenance: seconds past its deadline before a running job is
    /// rescued as timed out.
    #[arg(long, env = "WEIR_DEADLINE_GRACE_SECS", default_value_t = 10)]
    pub deadline_grace_secs: u64,
    /// Maintenance: interval of the rescuer, in seconds.
    #[arg(long, env = "WEIR_RESCUE_INTERVAL_SECS", default_value_t = 5)]
    pub rescue_interval_secs: u64,
    /// Maintenance: the leader's lease, in seconds (a dead leader is
    /// replaced within about this long).
    #[arg(long, env = "WEIR_LEADER_TTL_SECS", default_value_t = 10)]
    pub leader_ttl_secs: u64,
    /// Maintenance: days finished jobs are kept before their day
    /// partition is dropped.
    #[arg(long, env = "WEIR_RETENTION_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..))]
    pub retention_days: u64,
    /// Maintenance: interval of the pruner, in seconds.
    #[arg(long, env = "WEIR_PRUNE_INTERVAL_SECS", default_value_t = 3600)]
    pub prune_interval_secs: u64,
}

impl WorkerArgs {
    pub fn to_config(&self) -> Result<WorkerConfig> {
        let defaults = WorkerConfig::default();
        let backoff = Backoff {
            base: Duration::from_millis(self.backoff_base_ms),
            max: Duration::from_secs(self.backoff_max_secs),
        };
        let heartbeat_interval = Duration::from_secs(self.heartbeat_secs.max(1));
        let dead_after = Duration::from_secs(self.node_dead_after_secs);
        if dead_after < heartbeat_interval * 2 {
            return Err(crate::Error::Config(format!(
                "WEIR_NODE_DEAD_AFTER_SECS ({}) must be at least twice WEIR_HEARTBEAT_SECS ({})",
                self.node_dead_after_secs, self.heartbeat_secs
            )));
        }
        let maintenance = (!self.no_maintenance).then(|| {
            let mut m = MaintenanceConfig {
                leader_ttl: Duration::from_secs(self.leader_ttl_secs.max(1)),
                ..MaintenanceConfig::default()
            };
            m.rescuer.dead_after = dead_after;
            m.rescuer.deadline_grace = Duration::from_secs(self.deadline_grace_secs);
            m.rescuer.interval = Duration::from_secs(self.rescue_interval_secs.max(1));
            m.rescuer.backoff = backoff;
            m.pruner.retention = Duration::from_secs(self.retention_days * 24 * 3600);
            m.pruner.interval = Duration::from_secs(self.prune_interval_secs.max(1));
            m
        });
        Ok(WorkerConfig {
            queues: parse_queues(&self.queues)?,
            poll_interval: Duration::from_millis(self.poll_interval_ms.max(10)),
            heartbeat_interval,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            job_timeout: Duration::from_secs(self.job_timeout_secs.max(1)),
            backoff,
            supervision_interval: Duration::from_millis(self.supervision_interval_ms.max(10)),
            cancel_grace: Duration::from_secs(self.cancel_grace_secs),
            maintenance,
            ..defaults
        })
    }
}

/// Web node settings.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// Address to listen on.
    #[arg(long, env = "WEIR_BIND", default_value = "127.0.0.1:8000")]
    pub bind: String,
    /// Comma-separated bearer tokens; when set, every /v1 call needs one.
    #[arg(long, env = "WEIR_API_TOKENS", hide_env_values = true)]
    pub api_tokens: Option<String>,
    /// Longest ?wait on GET /v1/jobs/{id}, in seconds.
    #[arg(long, env = "WEIR_WAIT_CAP_SECS", default_value_t = 60)]
    pub wait_cap_secs: u64,
    /// Largest request body, in bytes.
    #[arg(long, env = "WEIR_BODY_LIMIT_BYTES", default_value_t = 1024 * 1024)]
    pub body_limit_bytes: usize,
    /// Requests following a job at once (?wait, event streams) per web
    /// node; past it they answer 503 with Retry-After.
    #[arg(long, env = "WEIR_MAX_FOLLOWERS", default_value_t = 1000)]
    pub max_followers: usize,
    /// Seconds after which an event stream ends (clients reconnect).
    #[arg(long, env = "WEIR_STREAM_LIFETIME_SECS", default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..))]
    pub stream_lifetime_secs: u64,
    /// Largest page of GET /v1/jobs, in bytes of JSON (a page always holds
    /// one job).
    #[arg(long, env = "WEIR_LIST_MAX_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub list_max_bytes: usize,
    /// statement_timeout of the web node's statements, in milliseconds
    /// (0: none).
    #[arg(long, env = "WEIR_STATEMENT_TIMEOUT_MS", default_value_t = 30_000)]
    pub statement_timeout_ms: u64,
}

impl ApiArgs {
    pub fn to_config(&self) -> crate::api::ApiConfig {
        crate::api::ApiConfig {
            wait_cap: Duration::from_secs(self.wait_cap_secs),
            body_limit: self.body_limit_bytes,
            tokens: self
                .api_tokens
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            max_followers: self.max_followers,
            stream_lifetime: Duration::from_secs(self.stream_lifetime_secs),
            list_max_bytes: self.list_max_bytes,
            statement_timeout: Duration::from_millis(self.statement_timeout_ms),
            ..crate::api::ApiConfig::default()
        }
    }
}
