//! The ceiling: the bare SQL loop with no job logic on weir's own table
//! and indexes. Each of `ceiling_connections` tasks claims
//! `ceiling_batch` jobs with `SKIP LOCKED` (asynchronous commit, as weir's
//! claims) and completes them in one `UPDATE ... FROM unnest` (durable
//! commit, as weir's outcomes), until the backlog is gone.

use std::time::Instant;

use serde_json::json;

use super::{KIND, Options, QUEUE, Scratch, Section, round};
use crate::db;
use crate::error::Result;

pub async fn run(scratch: &Scratch, o: &Options) -> Result<Section> {
    let mut conn = scratch.connect().await?;
    db::bench::reset_jobs(&mut conn).await?;
    db::bench::insert_backlog(&mut conn, KIND, QUEUE, o.jobs).await?;
    db::bench::vacuum_analyze_live(&mut conn).await?;

    let n = o.ceiling_connections.max(1) as u32;
    let claims = scratch.async_commit_pool(n).await?;
    let completions = scratch.pool(n).await?;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (claims, completions) = (claims.clone(), completions.clone());
        let batch = o.ceiling_batch;
        tasks.spawn(async move {
            let mut done = 0u64;
            // Bounded: every round claims at least one job of a finite
            // backlog, or stops.
            loop {
                let ids = match db::bench::ceiling_claim(&claims, QUEUE, batch).await {
                    Ok(ids) => ids,
                    // A row this claim wanted was claimed and completed
                    // (moved to the finished partition) by another
                    // connection meanwhile: claim again.
                    Err(e) if e.is_serialization_failure() => continue,
                    Err(e) => return Err(e),
                };
                if ids.is_empty() {
                    return Ok::<u64, crate::Error>(done);
                }
                done += db::bench::ceiling_complete(&completions, &ids).await?;
            }
        });
    }
    let mut done = 0;
    while let Some(r) = tasks.join_next().await {
        done += r.map_err(|e| crate::Error::Config(format!("ceiling task: {e}")))??;
    }
    let secs = start.elapsed().as_secs_f64();
    claims.close().await;
    completions.close().await;
    let rate = done as f64 / secs;
    Ok(Section {
        key: "ceiling",
        rows: vec![
            ("jobs".into(), done.to_string()),
            ("jobs/s".into(), format!("{rate:.0}")),
            (
                "shape".into(),
                format!(
                    "{n} connections, claim {} + complete in one UPDATE",
                    o.ceiling_batch
                ),
            ),
        ],
        json: json!({
            "jobs": done,
            "seconds": round(secs, 3),
            "jobs_per_sec": round(rate, 0),
            "connections": n,
            "batch": o.ceiling_batch,
        }),
    })
}
