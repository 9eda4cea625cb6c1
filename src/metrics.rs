//! Process-wide counters and histograms, rendered in the Prometheus text
//! format by `GET /metrics`. Queue depths are read from the database at
//! scrape time; counters count what this process did (its HTTP requests,
//! its enqueues, the outcomes of its own worker when it runs one).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds of the run-duration histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0, 1800.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Label pairs of one series.
type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Registry {
    counters: BTreeMap<(&'static str, Labels), u64>,
    durations: BTreeMap<Labels, Histogram>,
    /// The values of each label named in [`bounded`] seen so far.
    seen: BTreeMap<&'static str, BTreeSet<String>>,
}

/// Most distinct values a label taken from clients' input (a job's kind or
/// queue) keeps in the metrics; later values are counted as [`OTHER`].
/// Every series costs memory for the life of the process and a line of
/// every scrape, so nothing a client sends may add series without bound.
pub const MAX_LABEL_VALUES: usize = 100;

/// The label value that stands for every value past the bound.
pub const OTHER: &str = "other";

/// `value` if it is one of the first [`MAX_LABEL_VALUES`] distinct values
/// of `label` this process has seen, else [`OTHER`].
pub fn bounded(label: &'static str, value: &str) -> String {
    let mut r = registry().lock().expect("metrics poisoned");
    let seen = r.seen.entry(label).or_default();
    if seen.contains(value) {
        return value.to_string();
    }
    if seen.len() < MAX_LABEL_VALUES {
        seen.insert(value.to_string());
        return value.to_string();
    }
    OTHER.to_string()
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Adds one to the counter `name` with `labels`.
pub fn inc(name: &'static str, labels: &[(&'static str, &str)]) {
    let key = (
        name,
        labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    );
    *registry()
        .lock()
        .expect("metrics poisoned")
        .counters
        .entry(key)
        .or_default() += 1;
}

/// Records one job run of `elapsed` for `labels`.
pub fn observe_run(labels: &[(&'static str, &str)], elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let mut r = registry().lock().expect("metrics poisoned");
    let h = r
        .durations
        .entry(labels.iter().map(|(k, v)| (*k, v.to_string())).collect())
        .or_default();
    for (i, bound) in BUCKETS.iter().enumerate() {
        if secs <= *bound {
            h.counts[i] += 1;
        }
    }
    h.count += 1;
    h.sum += secs;
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_text(labels: &[(&'static str, String)], extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// Appends a gauge sample line (with its HELP/TYPE header once per name).
pub fn gauge(
    out: &mut String,
    name: &str,
    help: &str,
    samples: &[(Vec<(&'static str, String)>, f64)],
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{} {value}", label_text(labels, None));
    }
}

/// The process's counters and histograms in Prometheus text format.
pub fn render_process(out: &mut String) {
    let r = registry().lock().expect("metrics poisoned");
    let mut last = "";
    for ((name, labels), value) in &r.counters {
        if *name != last {
            let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter", help(name));
            last = name;
        }
        let _ = writeln!(out, "{name}{} {value}", label_text(labels, None));
    }
    if !r.durations.is_empty() {
        let name = "weir_job_run_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Run time of job attempts executed by this process.\n# TYPE {name} histogram"
        );
        for (labels, h) in &r.durations {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{name}_bucket{} {}",
                    label_text(labels, Some(("le", bound.to_string()))),
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{} {}",
                label_text(labels, Some(("le", "+Inf".into()))),
                h.count
            );
            let _ = writeln!(out, "{name}_sum{} {}", label_text(labels, None), h.sum);
            let _ = writeln!(out, "{name}_count{} {}", label_text(labels, None), h.count);
        }
    }
}

fn help(name: &str) -> &'static str {
    match name {
        "weir_http_requests_total" => {
            "HTTP requests answered by this web node, by route and status."
        }
        "weir_jobs_enqueued_total" => "Jobs enqueued through this process, by queue and kind.",
        "weir_jobs_finished_total" => {
            "Attempts finished by this process's worker, by queue, kind and outcome."
        }
        _ => "weir counter.",
    }
}
