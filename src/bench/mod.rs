//! `weir bench`: the benchmark, against a real PostgreSQL server.
//!
//! Every run creates its own scratch database on the server of the given
//! URL, migrates it, runs the chosen scenarios one after the other and
//! drops it, so it never touches real data. Each scenario is one file:
//!
//! - [`ceiling`]: the bare SQL loop (claim 100 with `SKIP LOCKED`, complete
//!   the 100 in one `UPDATE ... FROM unnest`, 4 connections) on weir's own
//!   table: what this machine can do right now;
//! - [`burn_down`]: one real [`crate::Worker`] with a no-op task drains a
//!   backlog of N jobs, at concurrency 1, 10, 100 and 1,000; jobs/s (and
//!   its ratio to the ceiling), WAL bytes and commits per job, peak RSS;
//!   `per-key` is one such drain with 100 concurrency keys at
//!   `max_running_per_key = 1` (the limited claim path);
//! - [`scale`]: how cost grows with the work: finished jobs in the table,
//!   many queues, many nodes (jobs/s, connections);
//! - [`latency`]: an idle worker, single committed `weir.enqueue` calls
//!   ~20 ms apart; enqueue-to-start and enqueue-to-finished, with NOTIFY
//!   and poll-only;
//! - [`enqueue`]: single-row enqueues from 1 and 32 producers against the
//!   same INSERT with the wake-up trigger disabled, and bulk loads against
//!   a bare insert of the same rows;
//! - [`http`]: `POST /v1/jobs` from 64 keep-alive connections;
//! - [`external`]: the burn-down's backlog drained through the REST worker
//!   API (claims and completions in batches of 100), beside the built-in
//!   worker's burn-down of the same run;
//! - [`fan_in`]: a group of N no-op jobs and one callback depending on all
//!   of them; the time from the last member's finish to the callback's
//!   start.
//!
//! Numbers come out as a table and as one JSON object ([`Report::json`]).
//! It is a benchmark, not a test: nothing here asserts a timing.

pub mod burn_down;
pub mod ceiling;
pub mod enqueue;
pub mod env;
pub mod external;
pub mod fan_in;
pub mod http;
pub mod latency;
mod probe;
pub mod scale;
mod stats;

use std::fmt::Write as _;
use std::str::FromStr;
use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::db;
use crate::error::{Error, Result};
use crate::worker::{QueueConfig, WorkerConfig};

pub use probe::Probe;

/// The queue every scenario uses.
pub const QUEUE: &str = "bench";
/// The no-op kind of the benchmark's jobs.
pub const KIND: &str = "bench.noop";

/// One scenario of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Ceiling,
    BurnDown,
    PerKey,
    Latency,
    Enqueue,
    Http,
    External,
    Scale,
    FanIn,
}

impl Scenario {
    /// Every scenario, in the order a full run executes them.
    pub const ALL: [Scenario; 9] = [
        Scenario::Ceiling,
        Scenario::BurnDown,
        Scenario::Scale,
        Scenario::PerKey,
        Scenario::FanIn,
        Scenario::External,
        Scenario::Latency,
        Scenario::Enqueue,
        Scenario::Http,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ceiling => "ceiling",
            Scenario::BurnDown => "burn-down",
            Scenario::PerKey => "per-key",
            Scenario::Latency => "latency",
            Scenario::Enqueue => "enqueue",
            Scenario::Http => "http",
            Scenario::External => "external",
            Scenario::Scale => "scale",
            Scenario::FanIn => "fan-in",
        }
    }
}

impl FromStr for Scenario {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().replace('_', "-");
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown scenario {s:?}: use ceiling, burn-down, per-key, fan-in, scale, external, latency, enqueue, http or all"
                ))
            })
    }
}

/// Parses `burn-down,latency` (or `all`) into scenarios, in run order.
///
/// ```
/// use weir::bench::{parse_scenarios, Scenario};
/// assert_eq!(parse_scenarios("latency, burn-down").unwrap(),
///            vec![Scenario::BurnDown, Scenario::Latency]);
/// assert_eq!(parse_scenarios("all").unwrap().len(), 9);
/// assert!(parse_scenarios("fast").is_err());
/// ```
pub fn parse_scenarios(spec: &str) -> Result<Vec<Scenario>> {
    let mut chosen = Vec::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        if part.trim() == "all" {
            return Ok(Scenario::ALL.to_vec());
        }
        chosen.push(part.parse::<Scenario>()?);
    }
    if chosen.is_empty() {
        return Err(Error::Config("no scenario given".into()));
    }
    Ok(Scenario::ALL
        .into_iter()
        .filter(|s| chosen.contains(s))
        .collect())
}

/// What to run and at which size. [`Options::quick`] is a small run for CI.
#[derive(Debug, Clone)]
pub struct Options {
    /// Server to run on; only its address and credentials are used (the
    /// benchmark works in its own scratch database there).
    pub database_url: String,
    pub scenarios: Vec<Scenario>,
    /// Backlog of the burn-down and the ceiling. Default 200,000.
    pub jobs: i64,
    /// Members of the fan-in's group. Default 10,000.
    pub fan_in_members: i64,
    /// Concurrencies of the burn-down worker's queue, one burn-down each.
    /// Default 1, 10, 100 and 1,000.
    pub concurrency: Vec<usize>,
    /// Connections of the worker's main (durable) pool. Default 4.
    pub pool_size: u32,
    /// Jobs of each drain of the scale scenario. Default 50,000.
    pub scale_jobs: i64,
    /// Succeeded jobs in the table for the scale scenario's history case.
    /// Default 1,000,000.
    pub finished_jobs: i64,
    /// Queues of the scale scenario's many-queues case. Default 1,000.
    pub scale_queues: usize,
    /// Worker nodes of the scale scenario's many-nodes case. Default 20.
    pub scale_nodes: usize,
    /// Connections of the ceiling loop. Default 4.
    pub ceiling_connections: usize,
    /// Jobs claimed per statement by the ceiling loop. Default 100.
    pub ceiling_batch: i64,
    /// Single enqueues of the latency scenario. Default 1,000.
    pub latency_jobs: usize,
    /// Time between two of them. Default 20 ms.
    pub latency_interval: Duration,
    /// Fallback poll of the latency worker (what poll-only mode waits
    /// for). Default: the worker default, 2 s.
    pub poll_interval: Duration,
    /// Length of each single-row enqueue measurement. Default 1.5 s.
    pub enqueue_duration: Duration,
    /// Rounds of the enqueue measurements (single-row and bulk); each round
    /// measures every variant once, in turn, and each figure is the median
    /// over the rounds (ratios: of each round's own ratio), so a slow
    /// moment of the machine does not land on one variant only. Default 5.
    pub enqueue_rounds: usize,
    /// Concurrent producers of the many-producer enqueue figure. Default 32.
    pub producers: usize,
    /// Jobs of each bulk load. Default 100,000.
    pub bulk_jobs: usize,
    /// Rows per bulk statement. Default 5,000.
    pub bulk_batch: usize,
    /// A running web node to load (`http://127.0.0.1:8000`); without it
    /// the http scenario is skipped.
    pub http_url: Option<String>,
    /// Connections of the HTTP load generator. Default 64.
    pub http_connections: usize,
    /// Length of the HTTP measurement. Default 5 s.
    pub http_duration: Duration,
}

impl Options {
    /// Full-size defaults on `database_url`.
    pub fn new(database_url: impl Into<String>) -> Self {
        Options {
            database_url: database_url.into(),
            scenarios: Scenario::ALL.to_vec(),
            jobs: 200_000,
            fan_in_members: 10_000,
            concurrency: vec![1, 10, 100, 1_000],
            pool_size: 4,
            scale_jobs: 50_000,
            finished_jobs: 1_000_000,
            scale_queues: 1_000,
            scale_nodes: 20,
            ceiling_connections: 4,
            ceiling_batch: 100,
            latency_jobs: 1_000,
            latency_interval: Duration::from_millis(20),
            poll_interval: crate::worker::DEFAULT_POLL_INTERVAL,
            enqueue_duration: Duration::from_millis(1500),
            enqueue_rounds: 5,
            producers: 32,
            bulk_jobs: 100_000,
            bulk_batch: 5_000,
            http_url: None,
            http_connections: 64,
            http_duration: Duration::from_secs(5),
        }
    }

    /// A run of a few seconds that exercises every code path (CI).
    pub fn quick(database_url: impl Into<String>) -> Self {
        Options {
            jobs: 2_000,
            scale_jobs: 2_000,
            finished_jobs: 10_000,
            scale_queues: 100,
            scale_nodes: 4,
            fan_in_members: 500,
            latency_jobs: 20,
            latency_interval: Duration::from_millis(5),
            poll_interval: Duration::from_millis(200),
            enqueue_duration: Duration::from_millis(300),
            enqueue_rounds: 1,
            producers: 4,
            bulk_jobs: 2_000,
            bulk_batch: 500,
            http_duration: Duration::from_millis(500),
            ..Options::new(database_url)
        }
    }
}

/// The results of one scenario: rows for the table and an object for the
/// JSON report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Key in the JSON report (`burn_down`, `latency`, ...).
    pub key: &'static str,
    pub rows: Vec<(String, String)>,
    pub json: Value,
}

/// Everything one run measured, and where.
#[derive(Debug, Clone)]
pub struct Report {
    pub environment: env::Environment,
    pub sections: Vec<Section>,
}

impl Report {
    /// One JSON object: `environment`, then one key per scenario
    /// (`burn_down.jobs_per_sec`, `latency.start_p50_ms`, ...).
    pub fn json(&self) -> Value {
        let mut root = Map::new();
        root.insert("environment".into(), self.environment.json());
        for s in &self.sections {
            root.insert(s.key.into(), s.json.clone());
        }
        Value::Object(root)
    }

    /// The human-readable table.
    pub fn table(&self) -> String {
        let mut out = self.environment.table();
        for s in &self.sections {
            let _ = writeln!(out, "\n[{}]", s.key);
            let width = s.rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in &s.rows {
                let _ = writeln!(out, "  {k:<width$}  {v}");
            }
        }
        out
    }
}

/// The scratch database of one run.
pub struct Scratch {
    server: PgConnectOptions,
    name: String,
}

impl Scratch {
    /// Connect options of the scratch database.
    pub fn options(&self) -> PgConnectOptions {
        self.server.clone().database(&self.name)
    }

    /// One connection to the scratch database.
    pub async fn connect(&self) -> Result<PgConnection> {
        Ok(self.options().connect().await?)
    }

    /// A pool of `size` connections, durable commits.
    pub async fn pool(&self, size: u32) -> Result<PgPool> {
        Ok(PgPoolOptions::new()
            .max_connections(size)
            .min_connections(size.min(4))
            .connect_with(self.options())
            .await?)
    }

    /// A pool of `size` connections whose commits do not wait for the WAL
    /// flush (as weir's claims).
    pub async fn async_commit_pool(&self, size: u32) -> Result<PgPool> {
        Ok(PgPoolOptions::new()
            .max_connections(size)
            .connect_with(self.options().options([("synchronous_commit", "off")]))
            .await?)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The worker config every scenario uses: one queue, no maintenance.
pub(crate) fn worker_config(concurrency: usize, poll_interval: Duration) -> WorkerConfig {
    WorkerConfig {
        queues: vec![QueueConfig {
            name: QUEUE.into(),
            concurrency,
        }],
        poll_interval,
        maintenance: None,
        ..WorkerConfig::default()
    }
}

/// A worker node of the scenarios that need one idle and listening.
pub(crate) struct IdleWorker {
    /// Its pool (durable commits).
    pool: PgPool,
    shutdown: tokio_util::sync::CancellationToken,
    handle: tokio::task::JoinHandle<Result<()>>,
}

impl IdleWorker {
    /// Starts a worker serving `registry` on the bench queue, and waits
    /// (at most 30 s) until it has armed its waiter once: idle and
    /// listening (in poll-only mode, idle and polling).
    /// `scenario` names the scenario in the error.
    pub async fn start(
        scratch: &Scratch,
        o: &Options,
        conn: &mut PgConnection,
        registry: crate::worker::Registry,
        scenario: &str,
    ) -> Result<Self> {
        let pool = scratch.pool(o.pool_size).await?;
        let worker = crate::worker::Worker::new(pool.clone(), worker_config(10, o.poll_interval))
            .with_registry(registry);
        let node = worker.node_id();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let handle = tokio::spawn(worker.run(shutdown.clone()));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !db::bench::wakeup_registered(&mut *conn, node.0, QUEUE).await? {
            if std::time::Instant::now() > deadline || handle.is_finished() {
                shutdown.cancel();
                return Err(Error::Config(format!(
                    "{scenario}: the worker never became idle"
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(IdleWorker {
            pool,
            shutdown,
            handle,
        })
    }

    /// Stops the worker and closes its pool.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.handle.await;
        self.pool.close().await;
    }
}

/// Runs the chosen scenarios in a scratch database on the server of
/// `options.database_url`, which is dropped afterwards (also on error).
pub async fn run(options: &Options) -> Result<Report> {
    let server = PgConnectOptions::from_str(&options.database_url)?;
    let mut admin = PgConnection::connect_with(&server.clone().database("postgres")).await?;
    let name = format!(
        "weir_bench_{}_{:04x}",
        std::process::id(),
        fastrand::u16(..)
    );
    db::bench::create_database(&mut admin, &name).await?;
    let scratch = Scratch { server, name };
    let result = run_in(&scratch, options).await;
    let dropped = db::bench::drop_database(&mut admin, &scratch.name).await;
    let _ = admin.close().await;
    let report = result?;
    dropped?;
    Ok(report)
}

async fn run_in(scratch: &Scratch, o: &Options) -> Result<Report> {
    {
        let pool = scratch.pool(1).await?;
        db::migrate(&pool).await?;
        pool.close().await;
    }
    let mut conn = scratch.connect().await?;
    // Each scenario starts with no dirty pages left by the one before (a
    // burn-down leaves ~200 MB to write), so none is measured while the
    // server writes out another's work. This first one also finds out
    // whether the role may.
    let checkpoints = db::bench::checkpoint(&mut conn).await?;
    if !checkpoints {
        tracing::warn!(
            "this role may not CHECKPOINT (needs superuser or pg_checkpoint): \
             a scenario may run while the previous one's writes are flushed"
        );
    }
    let environment = env::Environment::collect(&mut conn, o, checkpoints).await?;
    let mut sections = Vec::new();
    for (i, s) in o.scenarios.iter().enumerate() {
        if checkpoints && i > 0 {
            db::bench::checkpoint(&mut conn).await?;
        }
        tracing::info!(scenario = s.name(), "running");
        let section = match s {
            Scenario::Ceiling => ceiling::run(scratch, o).await?,
            Scenario::BurnDown => burn_down::run(scratch, o).await?,
            Scenario::PerKey => burn_down::run_per_key(scratch, o).await?,
            Scenario::Latency => latency::run(scratch, o).await?,
            Scenario::Enqueue => enqueue::run(scratch, o).await?,
            Scenario::Http => http::run(scratch, o).await?,
            Scenario::External => external::run(scratch, o).await?,
            Scenario::Scale => scale::run(scratch, o).await?,
            Scenario::FanIn => fan_in::run(scratch, o).await?,
        };
        sections.push(section);
    }
    relate_external_to_burn_down(&mut sections);
    relate_burn_down_to_ceiling(&mut sections);
    Ok(Report {
        environment,
        sections,
    })
}

/// Adds the external worker's rate as a fraction of the built-in worker's
/// burn-down of the same run, when both ran.
fn relate_external_to_burn_down(sections: &mut [Section]) {
    let rate = |key: &str, sections: &[Section]| {
        sections
            .iter()
            .find(|s| s.key == key)
            .and_then(|s| s.json["jobs_per_sec"].as_f64())
    };
    let (Some(built_in), Some(external)) =
        (rate("burn_down", sections), rate("external", sections))
    else {
        return;
    };
    if built_in <= 0.0 {
        return;
    }
    let ratio = round(external / built_in, 2);
    if let Some(s) = sections.iter_mut().find(|s| s.key == "external") {
        s.rows
            .push(("of the built-in burn-down".into(), format!("{ratio:.2}x")));
        s.json["ratio_to_burn_down"] = serde_json::json!(ratio);
    }
}

/// Adds each burn-down's rate as a fraction of the same run's ceiling,
/// when both ran.
fn relate_burn_down_to_ceiling(sections: &mut [Section]) {
    let Some(ceiling) = sections
        .iter()
        .find(|s| s.key == "ceiling")
        .and_then(|s| s.json["jobs_per_sec"].as_f64())
        .filter(|c| *c > 0.0)
    else {
        return;
    };
    let Some(s) = sections.iter_mut().find(|s| s.key == "burn_down") else {
        return;
    };
    let mut ratios = Vec::new();
    if let Some(levels) = s.json["levels"].as_array_mut() {
        for level in levels {
            let ratio = round(level["jobs_per_sec"].as_f64().unwrap_or(0.0) / ceiling, 2);
            level["ratio_to_ceiling"] = serde_json::json!(ratio);
            ratios.push(format!("{ratio:.2}x at {}", level["concurrency"]));
        }
    }
    let top = round(s.json["jobs_per_sec"].as_f64().unwrap_or(0.0) / ceiling, 2);
    s.json["ratio_to_ceiling"] = serde_json::json!(top);
    s.rows.push(("of the ceiling".into(), ratios.join(", ")));
}

/// Rounds for display and JSON: 3 significant decimals at most.
pub(crate) fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}
