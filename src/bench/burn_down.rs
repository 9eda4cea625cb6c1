//! Burn-down: N no-op jobs inserted in bulk, then one real worker node
//! drains them, once per concurrency asked for (1, 10, 100 and 1,000 by
//! default). Jobs/s from the first handler start to the moment the last
//! completion is committed (durable) and visible; WAL bytes and commits
//! per job; the process's peak resident memory while it ran.
//!
//! The per-key scenario is one such drain with every job keyed (100 keys
//! in turn) and the queue limited to one running job per key: the
//! limited claim path of flow control, with its fairness across keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::stats::proc_status_kb;
use super::{KIND, Options, Probe, QUEUE, Scratch, Section, round, worker_config};
use crate::db;
use crate::error::{Error, Result};
use crate::worker::WorkerConfig;
use crate::worker::{Registry, Worker};

/// One burn-down per concurrency of `o.concurrency`, in that order; the
/// section's top-level figures are the last one's.
pub async fn run(scratch: &Scratch, o: &Options) -> Result<Section> {
    let mut rows = Vec::new();
    let mut levels = Vec::new();
    for (i, &concurrency) in o.concurrency.iter().enumerate() {
        if i > 0 {
            // As between scenarios: none is measured while the server
            // writes out the previous one's pages (false: the role may not).
            let mut conn = scratch.connect().await?;
            db::bench::checkpoint(&mut conn).await?;
        }
        let level = one(scratch, o, concurrency, false).await?;
        let j = &level;
        rows.push((
            format!("concurrency {concurrency}"),
            format!(
                "{:.0} jobs/s, {:.2} s, {:.0} WAL B/job, {:.4} commits/job, peak RSS {:.1} MB",
                j["jobs_per_sec"].as_f64().unwrap_or(0.0),
                j["seconds"].as_f64().unwrap_or(0.0),
                j["wal_bytes_per_job"].as_f64().unwrap_or(0.0),
                j["commits_per_job"].as_f64().unwrap_or(0.0),
                j["peak_rss_mb"].as_f64().unwrap_or(0.0),
            ),
        ));
        levels.push(level);
    }
    let mut json = levels.last().cloned().unwrap_or_else(|| json!({}));
    rows.insert(
        0,
        (
            "jobs (succeeded)".into(),
            format!("{} ({}) per run", o.jobs, json["succeeded"]),
        ),
    );
    json["levels"] = Value::Array(levels);
    Ok(Section {
        key: "burn_down",
        rows,
        json,
    })
}

/// Keys of the per-key scenario.
pub const PER_KEY_KEYS: i64 = 100;

/// The per-key scenario: [`PER_KEY_KEYS`] keys at `max_running_per_key =
/// 1`, at the last concurrency asked for.
pub async fn run_per_key(scratch: &Scratch, o: &Options) -> Result<Section> {
    let concurrency = o.concurrency.last().copied().unwrap_or(10);
    let j = one(scratch, o, concurrency, true).await?;
    Ok(Section {
        key: "per_key",
        rows: vec![
            (
                "jobs (succeeded)".into(),
                format!("{} ({})", o.jobs, j["succeeded"]),
            ),
            (
                "keys".into(),
                format!("{PER_KEY_KEYS}, max_running_per_key = 1, concurrency {concurrency}"),
            ),
            (
                "jobs/s".into(),
                format!("{:.0}", j["jobs_per_sec"].as_f64().unwrap_or(0.0)),
            ),
        ],
        json: j,
    })
}

/// One burn-down of `o.jobs` at `concurrency` (keyed and limited to one
/// running job per key when `per_key`).
async fn one(scratch: &Scratch, o: &Options, concurrency: usize, per_key: bool) -> Result<Value> {
    let mut conn = scratch.connect().await?;
    db::bench::reset_jobs(&mut conn).await?;
    let t = Instant::now();
    if per_key {
        db::bench::insert_keyed_backlog(&mut conn, KIND, QUEUE, o.jobs, PER_KEY_KEYS).await?;
    } else {
        db::bench::insert_backlog(&mut conn, KIND, QUEUE, o.jobs).await?;
    }
    let limits = crate::flow::QueueLimits {
        max_running_per_key: per_key.then_some(1),
        ..Default::default()
    };
    db::queues::set_limits(&mut conn, QUEUE, &limits).await?;
    let insert_secs = t.elapsed().as_secs_f64();
    db::bench::vacuum_analyze_live(&mut conn).await?;

    let wal_before = db::bench::wal_position(&mut conn).await?;
    let commits_before = db::bench::commits(&mut conn).await?;
    let config = worker_config(concurrency, crate::worker::DEFAULT_POLL_INTERVAL);
    let n = o.jobs as u64;
    let d = drain(scratch, &mut conn, vec![config], o.pool_size, n).await?;

    // Other backends report their commit counts within about a second of
    // going idle (the worker's have exited by now).
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let wal_after = db::bench::wal_position(&mut conn).await?;
    let commits_after = db::bench::commits(&mut conn).await?;
    let succeeded = db::bench::count_in_state(&mut conn, "succeeded").await?;
    let hwm_kb = proc_status_kb("VmHWM").unwrap_or(0);
    Ok(json!({
        "concurrency": concurrency,
        "jobs": n,
        "succeeded": succeeded,
        "seconds": round(d.secs, 3),
        "startup_ms": round(d.startup_ms, 1),
        "jobs_per_sec": round(d.rate, 0),
        "insert_seconds": round(insert_secs, 3),
        "wal_bytes_per_job": round((wal_after - wal_before) as f64 / n as f64, 1),
        "commits_per_job": round((commits_after - commits_before) as f64 / n as f64, 5),
        "peak_rss_mb": round(d.peak_rss_kb as f64 / 1024.0, 1),
        "process_hwm_mb": round(hwm_kb as f64 / 1024.0, 1),
        "peak_connections": d.peak_connections,
    }))
}

/// What one drain measured.
pub(crate) struct Drained {
    /// From the first handler start to the last completion committed.
    pub secs: f64,
    pub rate: f64,
    pub startup_ms: f64,
    pub peak_rss_kb: u64,
    /// Most client connections open on the database at once while the
    /// workers ran, the benchmark's own left out.
    pub peak_connections: i64,
}

/// Runs one worker node per config (each with its own pool of
/// `pool_size`) on a shared no-op task until `n` handlers ran and no live
/// job is left. `conn` is the scenario's own connection (left out of the
/// connection count).
pub(crate) async fn drain(
    scratch: &Scratch,
    conn: &mut sqlx::PgConnection,
    configs: Vec<WorkerConfig>,
    pool_size: u32,
    n: u64,
) -> Result<Drained> {
    let probe = Probe::default();
    let shutdown = CancellationToken::new();
    let mut pools = Vec::new();
    let mut handles = Vec::new();
    let sampler = ConnectionSampler::start(scratch).await?;
    let rss = RssSampler::start();
    let started = Instant::now();
    for config in configs {
        let mut registry = Registry::new();
        registry.register(probe.clone());
        let pool = scratch.pool(pool_size).await?;
        let worker = Worker::new(pool.clone(), config).with_registry(registry);
        handles.push(tokio::spawn(worker.run(shutdown.clone())));
        pools.push(pool);
    }

    // Generous bound: 2 minutes plus 2 ms per job.
    let limit = Duration::from_secs(120) + Duration::from_millis(2) * n as u32;
    let deadline = Instant::now() + limit;
    let result = async {
        // Bounded by `deadline`.
        while probe.runs() < n {
            if handles.iter().any(|h| h.is_finished()) {
                return Err(Error::Config("a worker stopped early".into()));
            }
            if Instant::now() > deadline {
                return Err(Error::Config(
                    "burn-down: timed out waiting for the handlers".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        loop {
            if db::bench::live_jobs_empty(&mut *conn).await? {
                return Ok::<Instant, Error>(Instant::now());
            }
            if Instant::now() > deadline {
                return Err(Error::Config(
                    "burn-down: timed out waiting for the last completion".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    .await;
    let peak_connections = sampler.stop().await;
    shutdown.cancel();
    for h in handles {
        let _ = h.await;
    }
    for p in pools {
        p.close().await;
    }
    let peak_rss_kb = rss.stop();
    let end = result?;
    let first = probe.first_start().unwrap_or(started);
    let secs = (end - first).as_secs_f64();
    Ok(Drained {
        secs,
        rate: n as f64 / secs,
        startup_ms: (first - started).as_secs_f64() * 1e3,
        peak_rss_kb,
        // The scenario's own connection.
        peak_connections: (peak_connections - 1).max(0),
    })
}

/// Counts client connections on the scratch database every 20 ms, from a
/// connection of its own (not counted), and keeps the maximum.
struct ConnectionSampler {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<i64>,
}

impl ConnectionSampler {
    async fn start(scratch: &Scratch) -> Result<Self> {
        let mut conn = scratch.connect().await?;
        let stop = CancellationToken::new();
        let s = stop.clone();
        let task = tokio::spawn(async move {
            let mut peak = 0;
            loop {
                if let Ok(n) = db::bench::connections(&mut conn).await {
                    peak = peak.max(n);
                }
                tokio::select! {
                    _ = s.cancelled() => return peak,
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        });
        Ok(ConnectionSampler { stop, task })
    }

    async fn stop(self) -> i64 {
        self.stop.cancel();
        self.task.await.unwrap_or(0)
    }
}

/// Samples this process's VmRSS every 20 ms and keeps the maximum.
struct RssSampler {
    peak: Arc<AtomicU64>,
    stop: CancellationToken,
}

impl RssSampler {
    fn start() -> Self {
        let peak = Arc::new(AtomicU64::new(proc_status_kb("VmRSS").unwrap_or(0)));
        let stop = CancellationToken::new();
        let (p, s) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                if let Some(kb) = proc_status_kb("VmRSS") {
                    p.fetch_max(kb, Ordering::Relaxed);
                }
                tokio::select! {
                    _ = s.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        });
        RssSampler { peak, stop }
    }

    /// Stops sampling; the peak in kB.
    fn stop(self) -> u64 {
        self.stop.cancel();
        if let Some(kb) = proc_status_kb("VmRSS") {
            self.peak.fetch_max(kb, Ordering::Relaxed);
        }
        self.peak.load(Ordering::Relaxed)
    }
}
