//! Process metrics, kept in a `prometheus-client` registry and served by
//! `GET /metrics` on every node: the web node on its bind, a worker node
//! on `WEIR_WORKER_BIND`. Counters and histograms count what this process
//! did (its HTTP requests, enqueues, claims and outcomes, rescues when it
//! leads); [`render`] adds the gauges read at scrape time (queue depths
//! from the database, the connection pool).
//!
//! Every label takes a bounded set of values: routes by template, methods
//! from a fixed list, kinds and queues through [`bounded`] (the first
//! [`MAX_LABEL_VALUES`] seen; a worker only ever sees the kinds and queues
//! it serves).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Most distinct values a label taken from clients' input (a job's kind or
/// queue) keeps in the metrics; later values are counted as [`OTHER`].
/// Every series costs memory for the life of the process and a line of
/// every scrape, so nothing a client sends may add series without bound.
pub const MAX_LABEL_VALUES: usize = 100;

/// The label value that stands for every value past the bound.
pub const OTHER: &str = "other";

/// The media type of [`render`]'s output (OpenMetrics text, which
/// Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the duration histograms, in seconds.
const DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0, 60.0, 300.0, 1800.0,
];

/// Upper bounds of the claim batch size histogram.
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    queue: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    queue: String,
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    queue: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

fn batch_histogram() -> Histogram {
    Histogram::new(BATCH_BUCKETS)
}

/// The process's metrics.
struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    enqueued: Family<JobLabels, Counter>,
    claimed: Family<JobLabels, Counter>,
    finished: Family<OutcomeLabels, Counter>,
    rescued: Family<OutcomeLabels, Counter>,
    run_duration: Family<JobLabels, Histogram, fn() -> Histogram>,
    start_delay: Family<QueueLabels, Histogram, fn() -> Histogram>,
    claim_batch: Family<QueueLabels, Histogram, fn() -> Histogram>,
    outcome_buffer: Gauge,
    listener_reconnects: Counter,
    leader: Gauge,
    seen: Mutex<BTreeMap<&'static str, BTreeSet<String>>>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("weir");
        let m = Metrics {
            http_requests: Family::default(),
            enqueued: Family::default(),
            claimed: Family::default(),
            finished: Family::default(),
            rescued: Family::default(),
            run_duration: Family::new_with_constructor(duration_histogram),
            start_delay: Family::new_with_constructor(duration_histogram),
            claim_batch: Family::new_with_constructor(batch_histogram),
            outcome_buffer: Gauge::default(),
            listener_reconnects: Counter::default(),
            leader: Gauge::default(),
            seen: Mutex::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered by this web node, by method, route template and status",
            m.http_requests.clone(),
        );
        registry.register(
            "jobs_enqueued",
            "Jobs enqueued through this process's web node, by queue and kind",
            m.enqueued.clone(),
        );
        registry.register(
            "jobs_claimed",
            "Jobs claimed by this process's worker, by queue and kind",
            m.claimed.clone(),
        );
        registry.register(
            "jobs_finished",
            "Attempts finished by this process's worker, by queue, kind and outcome (succeeded, retried, failed, cancelled, snoozed, handed_back)",
            m.finished.clone(),
        );
        registry.register(
            "jobs_rescued",
            "Running jobs rescued by this node while it led maintenance, by queue, kind and outcome (worker_lost, timed_out)",
            m.rescued.clone(),
        );
        registry.register_with_unit(
            "job_duration",
            "Run time of the attempts executed by this process's worker",
            Unit::Seconds,
            m.run_duration.clone(),
        );
        registry.register_with_unit(
            "job_start_delay",
            "Time from when a job was due (enqueued, or its run_at) to the start of its attempt on this worker",
            Unit::Seconds,
            m.start_delay.clone(),
        );
        registry.register(
            "claim_batch_size",
            "Jobs per claim statement of this process's worker, by queue",
            m.claim_batch.clone(),
        );
        registry.register(
            "outcome_buffer_depth",
            "Outcomes waiting for the completer's next batch",
            m.outcome_buffer.clone(),
        );
        registry.register(
            "listener_reconnects",
            "Times this worker's LISTEN connection was re-established",
            m.listener_reconnects.clone(),
        );
        registry.register(
            "leader",
            "1 while this node holds the maintenance lease",
            m.leader.clone(),
        );
        Metrics { registry, ..m }
    }
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// `value` if it is one of the first [`MAX_LABEL_VALUES`] distinct values
/// of `label` this process has seen, else [`OTHER`].
pub fn bounded(label: &'static str, value: &str) -> String {
    let mut seen = metrics().seen.lock().expect("metrics poisoned");
    let seen = seen.entry(label).or_default();
    if seen.contains(value) {
        return value.to_string();
    }
    if seen.len() < MAX_LABEL_VALUES {
        seen.insert(value.to_string());
        return value.to_string();
    }
    OTHER.to_string()
}

fn job_labels(queue: &str, kind: &str) -> JobLabels {
    JobLabels {
        queue: bounded("queue", queue),
        kind: bounded("kind", kind),
    }
}

/// Counts one HTTP request (every label from a bounded set).
pub fn http_request(method: &str, route: &str, status: &str) {
    metrics()
        .http_requests
        .get_or_create(&HttpLabels {
            method: method.into(),
            route: route.into(),
            status: status.into(),
        })
        .inc();
}

/// Counts one enqueue (kind and queue bounded: clients choose them).
pub fn enqueued(queue: &str, kind: &str) {
    metrics()
        .enqueued
        .get_or_create(&job_labels(queue, kind))
        .inc();
}

/// Records one claim statement of `queue` that took `kinds` (one entry
/// per claimed job).
pub fn claimed<'a>(queue: &str, kinds: impl IntoIterator<Item = &'a str>) {
    let m = metrics();
    let mut n = 0;
    for kind in kinds {
        m.claimed.get_or_create(&job_labels(queue, kind)).inc();
        n += 1;
    }
    let queue = QueueLabels {
        queue: bounded("queue", queue),
    };
    m.claim_batch.get_or_create(&queue).observe(n as f64);
}

/// Records an attempt's start, `delay` after the job was due.
pub fn started(queue: &str, delay: Duration) {
    let queue = QueueLabels {
        queue: bounded("queue", queue),
    };
    metrics()
        .start_delay
        .get_or_create(&queue)
        .observe(delay.as_secs_f64());
}

/// Records an attempt that ran for `elapsed` and ended with `outcome`.
pub fn finished(queue: &str, kind: &str, outcome: &str, elapsed: Duration) {
    let m = metrics();
    let labels = job_labels(queue, kind);
    m.run_duration
        .get_or_create(&labels)
        .observe(elapsed.as_secs_f64());
    m.finished
        .get_or_create(&OutcomeLabels {
            queue: labels.queue,
            kind: labels.kind,
            outcome: outcome.into(),
        })
        .inc();
}

/// Counts one rescued job.
pub fn rescued(queue: &str, kind: &str, reason: &str) {
    let labels = job_labels(queue, kind);
    metrics()
        .rescued
        .get_or_create(&OutcomeLabels {
            queue: labels.queue,
            kind: labels.kind,
            outcome: reason.into(),
        })
        .inc();
}

/// Moves the outcome buffer's depth by `delta`.
pub fn outcome_buffer(delta: i64) {
    metrics().outcome_buffer.inc_by(delta);
}

/// Counts a re-established LISTEN connection.
pub fn listener_reconnected() {
    metrics().listener_reconnects.inc();
}

/// Records whether this node holds the maintenance lease.
pub fn set_leader(held: bool) {
    metrics().leader.set(i64::from(held));
}

/// What a scrape reads at its own moment, besides the process's counters.
#[derive(Debug, Default)]
pub struct Scrape {
    /// Per queue: jobs per state, the oldest available job's age in
    /// seconds, and whether it is paused.
    pub queues: Vec<QueueSample>,
    /// Fraction of PostgreSQL's NOTIFY queue in use.
    pub notification_queue_usage: Option<f64>,
    /// The connection pool: open connections, idle ones, the maximum.
    pub pool: Option<PoolSample>,
}

/// One queue's gauges in a [`Scrape`].
#[derive(Debug)]
pub struct QueueSample {
    pub queue: String,
    pub states: Vec<(&'static str, i64)>,
    pub oldest_available_age_seconds: f64,
    pub paused: bool,
}

/// The connection pool's gauges in a [`Scrape`].
#[derive(Debug, Clone, Copy)]
pub struct PoolSample {
    pub open: u32,
    pub idle: usize,
    pub max: u32,
}

impl PoolSample {
    pub fn of(pool: &sqlx::PgPool) -> Self {
        PoolSample {
            open: pool.size(),
            idle: pool.num_idle(),
            max: pool.options().get_max_connections(),
        }
    }
}

/// The process's metrics and `scrape`'s gauges, in the OpenMetrics text
/// format ([`CONTENT_TYPE`]).
pub fn render(scrape: &Scrape) -> String {
    let mut sampled = Registry::with_prefix("weir");
    let jobs = Family::<StateLabels, Gauge>::default();
    let ages = Family::<QueueLabels, FloatGauge>::default();
    let paused = Family::<QueueLabels, Gauge>::default();
    for q in &scrape.queues {
        for (state, n) in &q.states {
            jobs.get_or_create(&StateLabels {
                queue: q.queue.clone(),
                state: (*state).into(),
            })
            .set(*n);
        }
        let queue = QueueLabels {
            queue: q.queue.clone(),
        };
        ages.get_or_create(&queue)
            .set(q.oldest_available_age_seconds);
        paused.get_or_create(&queue).set(i64::from(q.paused));
    }
    sampled.register("jobs", "Jobs per queue and state (queue depth)", jobs);
    sampled.register_with_unit(
        "queue_oldest_available_age",
        "Age of the oldest available job per queue",
        Unit::Seconds,
        ages,
    );
    sampled.register("queue_paused", "1 when the queue is paused", paused);
    if let Some(usage) = scrape.notification_queue_usage {
        let g = FloatGauge::default();
        g.set(usage);
        sampled.register(
            "pg_notification_queue_usage",
            "Fraction of PostgreSQL's NOTIFY queue in use (commits fail when it is full)",
            g,
        );
    }
    if let Some(pool) = scrape.pool {
        let connections = Family::<PoolLabels, Gauge>::default();
        let idle = pool.idle as i64;
        for (state, n) in [("idle", idle), ("in_use", i64::from(pool.open) - idle)] {
            connections
                .get_or_create(&PoolLabels {
                    state: state.into(),
                })
                .set(n.max(0));
        }
        sampled.register(
            "db_pool_connections",
            "Open database connections of this process's pool, idle or in use",
            connections,
        );
        let max = Gauge::<i64>::default();
        max.set(i64::from(pool.max));
        sampled.register(
            "db_pool_max_connections",
            "Most connections this process's pool opens",
            max,
        );
    }
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = encode_registry(&mut out, &metrics().registry);
    let _ = encode_registry(&mut out, &sampled);
    let _ = encode_eof(&mut out);
    out
}
