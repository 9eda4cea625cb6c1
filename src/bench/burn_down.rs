//! Burn-down: N no-op jobs inserted in bulk, then one real worker node
//! drains them. Jobs/s from the first handler start to the moment the
//! last completion is committed (durable) and visible; WAL bytes and
//! commits per job; the process's peak resident memory while it ran.
//!
//! The per-key scenario is the same drain with every job keyed (100 keys
//! in turn) and the queue limited to one running job per key: the
//! serialised claim path of flow control, with its fairness across keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::stats::proc_status_kb;
use super::{KIND, Options, Probe, QUEUE, Scratch, Section, round, worker_config};
use crate::db;
use crate::error::{Error, Result};
use crate::worker::{Registry, Worker};

/// Keys of the per-key scenario.
pub const PER_KEY_KEYS: i64 = 100;

pub async fn run(scratch: &Scratch, o: &Options) -> Result<Section> {
    drain(scratch, o, false).await
}

/// The per-key scenario: [`PER_KEY_KEYS`] keys at `max_running_per_key = 1`.
pub async fn run_per_key(scratch: &Scratch, o: &Options) -> Result<Section> {
    drain(scratch, o, true).await
}

async fn drain(scratch: &Scratch, o: &Options, per_key: bool) -> Result<Section> {
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

    let probe = Probe::default();
    let mut registry = Registry::new();
    registry.register(probe.clone());
    let pool = scratch.pool(o.pool_size).await?;
    let worker = Worker::new(
        pool.clone(),
        worker_config(o.concurrency, crate::worker::DEFAULT_POLL_INTERVAL),
    )
    .with_registry(registry);
    let shutdown = CancellationToken::new();
    let rss = RssSampler::start();
    let started = Instant::now();
    let handle = tokio::spawn(worker.run(shutdown.clone()));

    // Generous bound: 2 minutes plus 2 ms per job.
    let limit = Duration::from_secs(120) + Duration::from_millis(2) * o.jobs as u32;
    let n = o.jobs as u64;
    let deadline = Instant::now() + limit;
    let result = async {
        // Bounded by `deadline`.
        while probe.runs() < n {
            if handle.is_finished() {
                return Err(Error::Config("the worker stopped early".into()));
            }
            if Instant::now() > deadline {
                return Err(Error::Config(
                    "burn-down: timed out waiting for the handlers".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        loop {
            if db::bench::live_jobs_empty(&mut conn).await? {
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
    shutdown.cancel();
    let _ = handle.await;
    pool.close().await;
    let peak_rss_kb = rss.stop();
    let end = result?;
    let first = probe.first_start().unwrap_or(started);
    let secs = (end - first).as_secs_f64();
    let startup_ms = (first - started).as_secs_f64() * 1e3;

    // Other backends report their commit counts within about a second of
    // going idle (the worker's have exited by now).
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let wal_after = db::bench::wal_position(&mut conn).await?;
    let commits_after = db::bench::commits(&mut conn).await?;
    let succeeded = db::bench::count_in_state(&mut conn, "succeeded").await?;

    let rate = n as f64 / secs;
    let wal_per_job = (wal_after - wal_before) as f64 / n as f64;
    let commits_per_job = (commits_after - commits_before) as f64 / n as f64;
    let hwm_kb = proc_status_kb("VmHWM").unwrap_or(0);
    let mut rows = vec![("jobs (succeeded)".into(), format!("{n} ({succeeded})"))];
    if per_key {
        rows.push((
            "keys".into(),
            format!("{PER_KEY_KEYS}, max_running_per_key = 1"),
        ));
    }
    rows.extend([
        ("bulk insert".into(), format!("{insert_secs:.2} s")),
        ("jobs/s".into(), format!("{rate:.0}")),
        (
            "drain time".into(),
            format!("{secs:.2} s (startup {startup_ms:.0} ms before)"),
        ),
        ("WAL bytes/job".into(), format!("{wal_per_job:.0}")),
        ("commits/job".into(), format!("{commits_per_job:.4}")),
        (
            "worker peak RSS".into(),
            format!(
                "{:.1} MB sampled (process VmHWM {:.1} MB)",
                peak_rss_kb as f64 / 1024.0,
                hwm_kb as f64 / 1024.0
            ),
        ),
    ]);
    Ok(Section {
        key: if per_key { "per_key" } else { "burn_down" },
        rows,
        json: json!({
            "jobs": n,
            "succeeded": succeeded,
            "seconds": round(secs, 3),
            "jobs_per_sec": round(rate, 0),
            "insert_seconds": round(insert_secs, 3),
            "wal_bytes_per_job": round(wal_per_job, 1),
            "commits_per_job": round(commits_per_job, 5),
            "peak_rss_mb": round(peak_rss_kb as f64 / 1024.0, 1),
            "process_hwm_mb": round(hwm_kb as f64 / 1024.0, 1),
            "concurrency": o.concurrency,
        }),
    })
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
