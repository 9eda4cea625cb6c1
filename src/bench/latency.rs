//! Latency: an idle worker node, single `weir.enqueue` calls each in its
//! own committed transaction, `latency_interval` apart. For every job,
//! on this process's monotonic clock:
//!
//! - start: from the call's return to the handler's start;
//! - start from call: from just before the call (its commit included);
//! - finished: from the call's return until the job is seen `succeeded`
//!   (committed, so durable) by a reader polling every millisecond.
//!
//! Run twice: with weir's NOTIFY wake-ups, and poll-only (waiters kept
//! disarmed in the scratch database, so no enqueue sends a NOTIFY and the
//! worker only finds jobs at its fallback poll).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::stats::Percentiles;
use super::{IdleWorker, KIND, Options, Probe, QUEUE, Scratch, Section};
use crate::db;
use crate::error::{Error, Result};
use crate::worker::Registry;

/// Percentiles of one run.
struct Run {
    start: Percentiles,
    start_from_call: Percentiles,
    finished: Percentiles,
    call: Percentiles,
}

pub async fn run(scratch: &Scratch, o: &Options) -> Result<Section> {
    let notify = measure(scratch, o, true).await?;
    let poll = measure(scratch, o, false).await?;

    let mut obj = Map::new();
    notify.start.insert_into(&mut obj, "start");
    notify
        .start_from_call
        .insert_into(&mut obj, "start_from_call");
    notify.finished.insert_into(&mut obj, "finished");
    notify.call.insert_into(&mut obj, "call");
    let mut poll_obj = Map::new();
    poll.start.insert_into(&mut poll_obj, "start");
    poll.start_from_call
        .insert_into(&mut poll_obj, "start_from_call");
    poll.finished.insert_into(&mut poll_obj, "finished");
    obj.insert("jobs".into(), json!(notify.start.n));
    obj.insert("poll_only".into(), Value::Object(poll_obj));
    obj.insert(
        "poll_interval_ms".into(),
        json!(o.poll_interval.as_millis() as u64),
    );

    let rows = vec![
        ("jobs".into(), notify.start.n.to_string()),
        ("columns".into(), "p50 / p95 / p99 / max".into()),
        ("enqueue call (commit)".into(), notify.call.display()),
        ("start, from call return".into(), notify.start.display()),
        (
            "start, from before call".into(),
            notify.start_from_call.display(),
        ),
        ("durably finished".into(), notify.finished.display()),
        (
            format!("poll-only ({} ms): start", o.poll_interval.as_millis()),
            poll.start.display(),
        ),
        ("poll-only: finished".into(), poll.finished.display()),
    ];
    Ok(Section {
        key: "latency",
        rows,
        json: Value::Object(obj),
    })
}

struct Sent {
    before: Instant,
    returned: Instant,
}

async fn measure(scratch: &Scratch, o: &Options, notify: bool) -> Result<Run> {
    let mut conn = scratch.connect().await?;
    db::bench::reset_jobs(&mut conn).await?;
    db::bench::set_wake_ups(&mut conn, notify).await?;

    let (starts_tx, mut starts_rx) = mpsc::unbounded_channel();
    let mut registry = Registry::new();
    registry.register(Probe::reporting(starts_tx));
    let worker = IdleWorker::start(scratch, o, &mut conn, registry, "latency").await?;
    // The reader's own connection: polling on the worker's pool would take
    // a connection its completions may be waiting for.
    let pool = scratch.pool(1).await?;

    // The reader: collects handler starts, polls for durable completion.
    let stop_reader = CancellationToken::new();
    let reader = {
        let pool = pool.clone();
        let stop = stop_reader.clone();
        tokio::spawn(async move {
            let mut started: HashMap<Uuid, Instant> = HashMap::new();
            let mut finished: HashMap<Uuid, Instant> = HashMap::new();
            let mut pending: Vec<Uuid> = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                // Biased: a start already sent is always taken before the
                // stop. Every job has started (and sent its start) before
                // the stop comes, since the stop waits for every job to
                // succeed; in random order the stop could win over the last
                // start while it was still in the channel, and that job
                // went uncounted (seen once in CI: 19 of 20).
                tokio::select! {
                    biased;
                    got = starts_rx.recv() => match got {
                        Some((id, at)) => {
                            started.insert(id.0, at);
                            pending.push(id.0);
                        }
                        None => break,
                    },
                    _ = tick.tick(), if !pending.is_empty() => {
                        let done = db::bench::succeeded_among(&pool, &pending).await?;
                        let now = Instant::now();
                        for id in done {
                            finished.insert(id, now);
                        }
                        pending.retain(|id| !finished.contains_key(id));
                    }
                    _ = stop.cancelled(), if pending.is_empty() => break,
                }
            }
            Ok::<_, Error>((started, finished))
        })
    };

    let producer = scratch.pool(1).await?;
    let mut sent: HashMap<Uuid, Sent> = HashMap::with_capacity(o.latency_jobs);
    let mut call = Vec::with_capacity(o.latency_jobs);
    let t0 = tokio::time::Instant::now();
    for i in 0..o.latency_jobs {
        tokio::time::sleep_until(t0 + o.latency_interval * i as u32).await;
        let before = Instant::now();
        let id = db::bench::enqueue_one(&producer, KIND, QUEUE).await?;
        let returned = Instant::now();
        call.push(returned - before);
        sent.insert(id, Sent { before, returned });
    }
    // Every job finishes within a fallback poll or two.
    let limit = o.poll_interval * 3 + Duration::from_secs(10);
    let deadline = Instant::now() + limit;
    while db::bench::count_in_state(&mut conn, "succeeded").await? < o.latency_jobs as i64 {
        if Instant::now() > deadline {
            return Err(Error::Config("latency: jobs did not finish in time".into()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_reader.cancel();
    let (started, finished) = reader
        .await
        .map_err(|e| Error::Config(format!("latency reader: {e}")))??;
    worker.stop().await;
    producer.close().await;
    pool.close().await;
    db::bench::set_wake_ups(&mut conn, true).await?;

    let mut start = Vec::new();
    let mut start_from_call = Vec::new();
    let mut fin = Vec::new();
    for (id, s) in &sent {
        if let Some(at) = started.get(id) {
            start.push(at.saturating_duration_since(s.returned));
            start_from_call.push(at.saturating_duration_since(s.before));
        }
        if let Some(at) = finished.get(id) {
            fin.push(at.saturating_duration_since(s.returned));
        }
    }
    Ok(Run {
        start: Percentiles::of(&start),
        start_from_call: Percentiles::of(&start_from_call),
        finished: Percentiles::of(&fin),
        call: Percentiles::of(&call),
    })
}
