//! Fan-in: a group of N no-op jobs and one callback depending on all of
//! them (a chord), drained by one real worker node. What it shows: the
//! time from the last member's finish to the callback's start (database
//! clock; the callback is released by the very statement that records the
//! last member, so this is the worker's claim of it), and the drain rate
//! of members that have a dependent, beside the burn-down's plain jobs.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{KIND, Options, Probe, QUEUE, Scratch, Section, round, worker_config};
use crate::db;
use crate::error::{Error, Result};
use crate::worker::{Registry, Worker};

pub async fn run(scratch: &Scratch, o: &Options) -> Result<Section> {
    let mut conn = scratch.connect().await?;
    db::bench::reset_jobs(&mut conn).await?;
    let n = o.fan_in_members;
    db::bench::insert_backlog(&mut conn, KIND, QUEUE, n).await?;
    let t = Instant::now();
    let callback = db::bench::enqueue_callback_of_all(&mut conn, KIND, QUEUE).await?;
    let wire_secs = t.elapsed().as_secs_f64();
    db::bench::vacuum_analyze_live(&mut conn).await?;

    let probe = Probe::default();
    let mut registry = Registry::new();
    registry.register(probe.clone());
    let pool = scratch.pool(o.pool_size).await?;
    let worker = Worker::new(
        pool.clone(),
        worker_config(
            o.concurrency.last().copied().unwrap_or(1_000),
            crate::worker::DEFAULT_POLL_INTERVAL,
        ),
    )
    .with_registry(registry);
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let handle = tokio::spawn(worker.run(shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(120) + Duration::from_millis(2) * n as u32;
    let result = async {
        loop {
            if db::bench::live_jobs_empty(&mut conn).await? {
                return Ok::<Instant, Error>(Instant::now());
            }
            if handle.is_finished() {
                return Err(Error::Config("fan-in: the worker stopped early".into()));
            }
            if Instant::now() > deadline {
                return Err(Error::Config("fan-in: timed out".into()));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    .await;
    shutdown.cancel();
    let _ = handle.await;
    pool.close().await;
    let end = result?;
    let first = probe.first_start().unwrap_or(started);
    let secs = (end - first).as_secs_f64();
    let (delay_ms, succeeded) = db::bench::callback_delay_ms(&mut conn, callback).await?;
    let rate = (n + 1) as f64 / secs;
    Ok(Section {
        key: "fan_in",
        rows: vec![
            ("members + callback".into(), format!("{n} + 1")),
            (
                "callback enqueued".into(),
                format!("{:.0} ms (waits on {n} jobs)", wire_secs * 1e3),
            ),
            (
                "last member finished -> callback started".into(),
                format!("{delay_ms:.1} ms"),
            ),
            ("callback succeeded".into(), succeeded.to_string()),
            (
                "jobs/s (members with a dependent)".into(),
                format!("{rate:.0}"),
            ),
        ],
        json: json!({
            "members": n,
            "callback_enqueue_ms": round(wire_secs * 1e3, 1),
            "release_to_start_ms": round(delay_ms, 2),
            "callback_succeeded": succeeded,
            "seconds": round(secs, 3),
            "jobs_per_sec": round(rate, 0),
        }),
    })
}
