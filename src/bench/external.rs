//! External worker: the burn-down's backlog drained through the REST
//! worker API, as a worker in another language would: one process, a few
//! keep-alive connections, each claiming 100 jobs at a time
//! (`POST /v1/workers/{node}/claim`) and recording their (no-op) results
//! in one request (`POST /v1/jobs/complete`). Jobs/s from the first claim
//! to the last recorded success, and its ratio to the built-in worker's
//! burn-down when that ran in the same run.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::BufReader;
use tokio::net::TcpStream;

use super::http::{loopback_addr, post_json, web_node};
use super::{KIND, Options, QUEUE, Scratch, Section, round};
use crate::db;
use crate::error::{Error, Result};

/// Jobs claimed (and completed) per request.
pub const BATCH: usize = 100;
/// Keep-alive connections, each a claim-then-complete loop.
pub const CONNECTIONS: usize = 4;

pub async fn run(scratch: &Scratch, o: &Options) -> Result<Section> {
    let mut conn = scratch.connect().await?;
    db::bench::reset_jobs(&mut conn).await?;
    db::bench::insert_backlog(&mut conn, KIND, QUEUE, o.jobs).await?;
    db::bench::vacuum_analyze_live(&mut conn).await?;

    let stop = tokio_util::sync::CancellationToken::new();
    let _stop_on_return = stop.clone().drop_guard();
    let url = web_node(scratch, (CONNECTIONS * 2) as u32, &stop).await?;
    let addr = loopback_addr(&url)?;

    let mut stream = connect(&addr).await?;
    let (status, body) = post_json(
        &mut stream,
        &addr,
        "/v1/workers",
        &json!({"name": "bench-external", "queues": [QUEUE], "kinds": [KIND]}),
    )
    .await?;
    let node = parse(status, &body)?["id"]
        .as_str()
        .ok_or_else(|| Error::Config("register answered no id".into()))?
        .to_string();

    // Generous bound: 2 minutes plus 5 ms per job.
    let deadline =
        Instant::now() + Duration::from_secs(120) + Duration::from_millis(5) * o.jobs as u32;
    let started = Instant::now();
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (addr, node) = (addr.clone(), node.clone());
        loops.spawn(async move { drain(&addr, &node, deadline).await });
    }
    let mut done = 0u64;
    while let Some(r) = loops.join_next().await {
        done += r.map_err(|e| Error::Config(format!("external loop: {e}")))??;
    }
    let secs = started.elapsed().as_secs_f64();
    if done != o.jobs as u64 {
        return Err(Error::Config(format!(
            "external: {done} of {} jobs recorded",
            o.jobs
        )));
    }
    let rate = done as f64 / secs;
    Ok(Section {
        key: "external",
        rows: vec![
            (
                "worker".into(),
                format!("REST worker API, {CONNECTIONS} connections, batches of {BATCH}"),
            ),
            ("jobs".into(), done.to_string()),
            ("jobs/s".into(), format!("{rate:.0}")),
        ],
        json: json!({
            "jobs": done,
            "jobs_per_sec": round(rate, 0),
            "connections": CONNECTIONS,
            "batch": BATCH,
        }),
    })
}

async fn connect(addr: &str) -> Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| Error::Config(format!("connect {addr}: {e}")))?;
    stream
        .set_nodelay(true)
        .map_err(|e| Error::Config(format!("nodelay: {e}")))?;
    Ok(BufReader::new(stream))
}

fn parse(status: u16, body: &[u8]) -> Result<Value> {
    if !(200..300).contains(&status) {
        return Err(Error::Config(format!(
            "external: HTTP {status}: {}",
            String::from_utf8_lossy(body)
        )));
    }
    Ok(serde_json::from_slice(body)?)
}

/// Claims and completes until a claim comes back empty; answers how many
/// successes were recorded.
async fn drain(addr: &str, node: &str, deadline: Instant) -> Result<u64> {
    let mut stream = connect(addr).await?;
    let claim_path = format!("/v1/workers/{node}/claim");
    let claim = json!({"queue": QUEUE, "kinds": [KIND], "max": BATCH});
    let mut recorded = 0u64;
    // Bounded by `deadline`.
    loop {
        if Instant::now() > deadline {
            return Err(Error::Config("external: timed out".into()));
        }
        let (status, body) = post_json(&mut stream, addr, &claim_path, &claim).await?;
        let claimed = parse(status, &body)?;
        let jobs = claimed["jobs"].as_array().cloned().unwrap_or_default();
        if jobs.is_empty() {
            return Ok(recorded);
        }
        let reports: Vec<Value> = jobs
            .iter()
            .map(|j| json!({"id": j["id"], "claim_token": j["claim_token"]}))
            .collect();
        let (status, body) = post_json(
            &mut stream,
            addr,
            "/v1/jobs/complete",
            &json!({"jobs": reports}),
        )
        .await?;
        let answer = parse(status, &body)?;
        recorded += answer["recorded"].as_array().map_or(0, |r| r.len() as u64);
    }
}
