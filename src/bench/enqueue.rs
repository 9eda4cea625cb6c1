//! Enqueue rates.
//!
//! Single rows: 1 and `producers` concurrent producers, each committing
//! one row per transaction for `enqueue_duration`, as a plain `INSERT`
//! and as `weir.enqueue(...)`, against the same `INSERT` with weir's
//! wake-up trigger disabled (the baseline); `enqueue_rounds` interleaved
//! rounds after an untimed warm-up round, the variants' order turning
//! each round. Each rate is the median over the rounds, and each ratio the
//! median of the rounds' own ratios (variant / baseline of the same round,
//! seconds apart, as the machine drifts over a run). The producers'
//! connections stay open from the warm-up to the last round, as a
//! service's pool would. A worker node listens on the
//! queue the whole time; the queue is paused, so the worker stays idle.
//! Its waiter row is there, so every insert (through the trigger, or
//! `weir.enqueue` itself) asks whether it is armed; the first insert
//! wakes the worker, which then finds the queue paused and leaves its
//! waiter disarmed (before migration 0014 it re-armed up to ~20 times a
//! second, and as many inserts sent a NOTIFY).
//!
//! Bulk: `bulk_jobs` jobs in statements of `bulk_batch` through weir's bulk
//! enqueue (`enqueue_many_in`: ids from the database, defaults, triggers,
//! the stored jobs returned), against the same rows inserted bare (every
//! column given, ids made by the client in time order, triggers disabled,
//! nothing returned); `enqueue_rounds` rounds of each in turn, the medians
//! of the rates and of the rounds' ratios.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

use super::stats::Percentiles;
use super::{IdleWorker, KIND, Options, Probe, QUEUE, Scratch, Section, round};
use crate::db;
use crate::error::{Error, Result};
use crate::job::NewJob;
use crate::worker::Registry;

/// One timed single-row measurement.
struct Slice {
    round: usize,
    producers: usize,
    kind: Single,
    rate: f64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Single {
    /// Plain INSERT, wake-up trigger disabled.
    Baseline,
    /// Plain INSERT.
    Insert,
    /// `weir.enqueue(...)`.
    Enqueue,
}

pub async fn run(scratch: &Scratch, o: &Options) -> Result<Section> {
    let mut conn = scratch.connect().await?;
    db::bench::reset_jobs(&mut conn).await?;
    // A worker serving it stays idle, listening.
    db::queues::pause(&mut conn, QUEUE).await?;

    let mut registry = Registry::new();
    registry.register(Probe::default());
    let worker = IdleWorker::start(scratch, o, &mut conn, registry, "enqueue").await?;

    const VARIANTS: [Single; 3] = [Single::Baseline, Single::Insert, Single::Enqueue];
    let mut rates = Vec::new();
    for producers in [1, o.producers] {
        // One pool per producer count, kept across variants and rounds:
        // producers are long-lived connections, so every variant is
        // measured on warm backends (plans cached, PL/pgSQL compiled).
        let pool = scratch.pool(producers as u32).await?;
        let mut open = Vec::new();
        for _ in 0..producers {
            open.push(pool.acquire().await?);
        }
        drop(open);
        // An untimed slice of each variant warms those backends.
        let warm_up = o.enqueue_duration / 4;
        for (round, timed) in std::iter::once(false)
            .chain(std::iter::repeat_n(true, o.enqueue_rounds.max(1)))
            .enumerate()
        {
            // The order turns with each round, so no variant is always the
            // first (or the last) of a round.
            for i in 0..VARIANTS.len() {
                let kind = VARIANTS[(i + round) % VARIANTS.len()];
                db::bench::truncate_jobs(&mut conn).await?;
                db::bench::set_wake_trigger(&mut conn, kind != Single::Baseline).await?;
                let d = if timed { o.enqueue_duration } else { warm_up };
                let rate = single(&pool, kind, producers, d).await?;
                if timed {
                    rates.push(Slice {
                        round,
                        producers,
                        kind,
                        rate,
                    });
                }
                tracing::debug!(round, producers, rate, "enqueue slice");
            }
        }
        pool.close().await;
    }
    db::bench::set_wake_trigger(&mut conn, true).await?;

    // Bulk: bare and weir in turn, the same number of rounds, the first of
    // the two alternating, medians.
    let (mut bare, mut weir) = (Vec::new(), Vec::new());
    for round in 0..o.enqueue_rounds.max(1) {
        for is_weir in [round % 2 == 1, round % 2 == 0] {
            db::bench::truncate_jobs(&mut conn).await?;
            if is_weir {
                weir.push(bulk(scratch, o, true).await?);
            } else {
                db::bench::set_all_job_triggers(&mut conn, false).await?;
                let rate = bulk(scratch, o, false).await;
                db::bench::set_all_job_triggers(&mut conn, true).await?;
                bare.push(rate?);
            }
        }
    }
    let bulk_ratio = median(bare.iter().zip(&weir).map(|(b, w)| ratio(*w, *b)).collect());
    let (bare, weir) = (median(bare), median(weir));

    worker.stop().await;

    // Rates: the median over the rounds. Ratios: the median of each
    // round's own ratio to the baseline measured in that round, which
    // pairs measurements seconds apart (the machine drifts over a run).
    let of = |kind: Single, producers: usize| {
        rates
            .iter()
            .filter(move |s| s.kind == kind && s.producers == producers)
    };
    let rate = |kind, producers| median(of(kind, producers).map(|s| s.rate).collect());
    // Each round's own ratio, in round order.
    let paired = |kind, producers| -> Vec<f64> {
        of(kind, producers)
            .filter_map(|s| {
                of(Single::Baseline, producers)
                    .find(|b| b.round == s.round)
                    .map(|b| ratio(s.rate, b.rate))
            })
            .collect()
    };
    let p = o.producers;
    let mut rows = Vec::new();
    let mut obj = serde_json::Map::new();
    for producers in [1, p] {
        let base = rate(Single::Baseline, producers);
        let ins = rate(Single::Insert, producers);
        let enq = rate(Single::Enqueue, producers);
        let enq_rounds = paired(Single::Enqueue, producers);
        let (ins_ratio, enq_ratio) = (
            median(paired(Single::Insert, producers)),
            median(enq_rounds.clone()),
        );
        let (low, high) = enq_rounds
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), r| (l.min(*r), h.max(*r)));
        rows.push((
            format!("{producers} producer(s): no-trigger INSERT"),
            format!("{base:.0}/s"),
        ));
        rows.push((
            format!("{producers} producer(s): INSERT"),
            format!("{ins:.0}/s ({ins_ratio:.2}x)"),
        ));
        rows.push((
            format!("{producers} producer(s): weir.enqueue"),
            format!("{enq:.0}/s ({enq_ratio:.2}x; rounds {low:.2}-{high:.2})"),
        ));
        let suffix = if producers == 1 {
            "1".to_string()
        } else {
            p.to_string()
        };
        obj.insert(format!("baseline_{suffix}_per_sec"), json!(round(base, 0)));
        obj.insert(format!("insert_{suffix}_per_sec"), json!(round(ins, 0)));
        obj.insert(format!("enqueue_{suffix}_per_sec"), json!(round(enq, 0)));
        obj.insert(format!("insert_ratio_{suffix}"), json!(round(ins_ratio, 3)));
        obj.insert(format!("ratio_{suffix}"), json!(round(enq_ratio, 3)));
        let rounds: Vec<f64> = enq_rounds.iter().map(|r| round(*r, 3)).collect();
        obj.insert(format!("ratio_{suffix}_rounds"), json!(rounds));
    }
    if p != 32 {
        // The headline key is named for the default of 32 producers.
        obj.insert("ratio_32".into(), obj[&format!("ratio_{p}")].clone());
        obj.insert(
            "ratio_32_rounds".into(),
            obj[&format!("ratio_{p}_rounds")].clone(),
        );
    }
    obj.insert("producers".into(), json!(p));
    rows.push((
        format!("bulk ({} rows/statement): bare", o.bulk_batch),
        format!("{bare:.0} jobs/s"),
    ));
    rows.push((
        format!("bulk ({} rows/statement): weir", o.bulk_batch),
        format!("{weir:.0} jobs/s ({bulk_ratio:.2}x)"),
    ));
    obj.insert("bulk_bare_per_sec".into(), json!(round(bare, 0)));
    obj.insert("bulk_per_sec".into(), json!(round(weir, 0)));
    obj.insert("bulk_ratio".into(), json!(round(bulk_ratio, 3)));
    obj.insert("bulk_batch".into(), json!(o.bulk_batch));
    Ok(Section {
        key: "enqueue",
        rows,
        json: Value::Object(obj),
    })
}

/// `a / b`, 0 when there is no `b`.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// The median of `of` (nearest rank; 0 for none).
fn median(of: Vec<f64>) -> f64 {
    Percentiles::of_ms(&of).p50
}

/// Rows per second committed by `producers` tasks on `pool` (whose
/// connections are open), one row per commit.
async fn single(pool: &PgPool, kind: Single, producers: usize, d: Duration) -> Result<f64> {
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..producers {
        let (pool, count, stop) = (pool.clone(), count.clone(), stop.clone());
        tasks.spawn(async move {
            let mut conn = pool.acquire().await?;
            // Bounded by `stop`, set after `d`.
            while !stop.load(Ordering::Relaxed) {
                match kind {
                    Single::Baseline | Single::Insert => {
                        db::bench::insert_one(&mut *conn, KIND, QUEUE).await?
                    }
                    Single::Enqueue => {
                        db::bench::enqueue_one(&mut *conn, KIND, QUEUE).await?;
                    }
                }
                count.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), Error>(())
        });
    }
    let start = Instant::now();
    tokio::time::sleep(d).await;
    let n = count.load(Ordering::Relaxed);
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    while let Some(r) = tasks.join_next().await {
        r.map_err(|e| Error::Config(format!("producer: {e}")))??;
    }
    Ok(n as f64 / secs)
}

/// Jobs per second of one bulk load: weir's bulk enqueue
/// ([`crate::enqueue_many_in`], the path of `Client::enqueue_many` and of
/// `POST /v1/jobs/batch`, the stored jobs returned), or bare.
async fn bulk(scratch: &Scratch, o: &Options, weir: bool) -> Result<f64> {
    let mut conn = scratch.connect().await?;
    let batch = o.bulk_batch.max(1);
    let kinds = vec![KIND.to_string(); batch];
    let args = vec![json!({"n": 1}); batch];
    let jobs = vec![NewJob::new(KIND, json!({"n": 1})).queue(QUEUE); batch];
    let start = Instant::now();
    let mut left = o.bulk_jobs;
    while left > 0 {
        let k = left.min(batch);
        if weir {
            crate::client::enqueue_many_in(&mut conn, &jobs[..k]).await?;
        } else {
            // Ids as cheap as ids get, and in time order as weir's are
            // (new index entries then go to the rightmost leaf, which
            // PostgreSQL finds without descending the tree): counting up
            // from the clock's milliseconds and 80 random bits.
            let ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            let from = (ms << 80) | (uuid::Uuid::new_v4().as_u128() & ((1 << 80) - 1));
            let ids: Vec<_> = (0..k as u128)
                .map(|i| uuid::Uuid::from_u128(from + i))
                .collect();
            db::bench::insert_batch_bare(&mut conn, QUEUE, &ids, &kinds[..k], &args[..k]).await?;
        }
        left -= k;
    }
    Ok(o.bulk_jobs as f64 / start.elapsed().as_secs_f64())
}
