//! How cost grows as the work grows. Every drain here is of
//! `scale_jobs` no-op jobs by workers at concurrency 10 (the default
//! `WEIR_QUEUES=default=10`), each node with a durable pool of 2:
//!
//! - one queue with all the jobs, one node: the baseline;
//! - the same with `finished_jobs` succeeded jobs already in the table
//!   (the history a busy installation keeps);
//! - `scale_queues` queues with an equal share each, one node serving
//!   them all;
//! - `scale_nodes` worker nodes (in this process, each with its own
//!   pools, as separate processes would have) on one queue: jobs/s and
//!   the most PostgreSQL connections open at once.

use std::time::Instant;

use serde_json::json;

use super::burn_down::drain;
use super::{KIND, Options, QUEUE, Scratch, Section, round, worker_config};
use crate::db;
use crate::error::Result;
use crate::worker::QueueConfig;

/// Prefix of the many-queues case's queue names.
const SPREAD_PREFIX: &str = "bench.q";
/// Concurrency of every queue here.
const CONCURRENCY: usize = 10;
/// Durable pool of each node here.
const POOL: u32 = 2;

pub async fn run(scratch: &Scratch, o: &Options) -> Result<Section> {
    let mut conn = scratch.connect().await?;
    let n = o.scale_jobs.max(1);
    let config = || worker_config(CONCURRENCY, crate::worker::DEFAULT_POLL_INTERVAL);

    db::bench::reset_jobs(&mut conn).await?;
    db::bench::insert_backlog(&mut conn, KIND, QUEUE, n).await?;
    db::bench::vacuum_analyze_live(&mut conn).await?;
    let base = drain(scratch, &mut conn, vec![config()], POOL, n as u64).await?;

    let queues = o.scale_queues.max(1) as i64;
    let per_queue = (n / queues).max(1);
    db::bench::reset_jobs(&mut conn).await?;
    db::bench::insert_spread(&mut conn, KIND, SPREAD_PREFIX, queues, per_queue).await?;
    db::bench::vacuum_analyze_live(&mut conn).await?;
    let mut many = config();
    many.queues = (0..queues)
        .map(|q| QueueConfig {
            name: format!("{SPREAD_PREFIX}{q}"),
            concurrency: CONCURRENCY,
        })
        .collect();
    let spread = drain(
        scratch,
        &mut conn,
        vec![many],
        POOL,
        (queues * per_queue) as u64,
    )
    .await?;

    let nodes = o.scale_nodes.max(1);
    db::bench::reset_jobs(&mut conn).await?;
    db::bench::insert_backlog(&mut conn, KIND, QUEUE, n).await?;
    db::bench::vacuum_analyze_live(&mut conn).await?;
    let configs = (0..nodes).map(|_| config()).collect();
    let many_nodes = drain(scratch, &mut conn, configs, POOL, n as u64).await?;

    db::bench::reset_jobs(&mut conn).await?;
    let t = Instant::now();
    db::bench::insert_finished(&mut conn, KIND, QUEUE, o.finished_jobs).await?;
    db::bench::insert_backlog(&mut conn, KIND, QUEUE, n).await?;
    db::bench::vacuum_analyze_jobs(&mut conn).await?;
    let load_secs = t.elapsed().as_secs_f64();
    let history = drain(scratch, &mut conn, vec![config()], POOL, n as u64).await?;
    db::bench::reset_jobs(&mut conn).await?;

    let ratio = |x: f64| round(x / base.rate, 2);
    Ok(Section {
        key: "scale",
        rows: vec![
            (
                "one queue, one node".into(),
                format!(
                    "{:.0} jobs/s ({n} jobs, concurrency {CONCURRENCY}), {} connections",
                    base.rate, base.peak_connections
                ),
            ),
            (
                format!("{} finished jobs in the table", o.finished_jobs),
                format!(
                    "{:.0} jobs/s, {:.2}x (loaded in {load_secs:.1} s)",
                    history.rate,
                    ratio(history.rate)
                ),
            ),
            (
                format!("{queues} queues, {per_queue} jobs each, one node"),
                format!(
                    "{:.0} jobs/s, {:.2}x, {} connections",
                    spread.rate,
                    ratio(spread.rate),
                    spread.peak_connections
                ),
            ),
            (
                format!("{nodes} nodes, one queue"),
                format!(
                    "{:.0} jobs/s, {:.2}x, {} connections at most",
                    many_nodes.rate,
                    ratio(many_nodes.rate),
                    many_nodes.peak_connections
                ),
            ),
        ],
        json: json!({
            "jobs": n,
            "concurrency": CONCURRENCY,
            "one_queue_jobs_per_sec": round(base.rate, 0),
            "one_queue_connections": base.peak_connections,
            "finished_jobs": o.finished_jobs,
            "finished_load_seconds": round(load_secs, 1),
            "with_finished_jobs_per_sec": round(history.rate, 0),
            "with_finished_ratio": ratio(history.rate),
            "queues": queues,
            "queues_jobs_per_sec": round(spread.rate, 0),
            "queues_ratio": ratio(spread.rate),
            "queues_connections": spread.peak_connections,
            "nodes": nodes,
            "nodes_jobs_per_sec": round(many_nodes.rate, 0),
            "nodes_ratio": ratio(many_nodes.rate),
            "nodes_connections": many_nodes.peak_connections,
        }),
    })
}
