//! The environment every run prints: server version and non-default
//! settings, CPUs and load, the benchmark's sizes, the git commit.

use std::fmt::Write as _;

use serde_json::{Value, json};
use sqlx::PgConnection;

use super::Options;
use crate::db;
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct Environment {
    pub date: String,
    pub commit: String,
    pub postgres: String,
    pub settings: Vec<(String, String)>,
    pub cpus: usize,
    pub load_average: String,
    pub sizes: Vec<(&'static str, String)>,
}

impl Environment {
    pub async fn collect(conn: &mut PgConnection, o: &Options, checkpoints: bool) -> Result<Self> {
        let postgres = db::bench::server_version(&mut *conn).await?;
        let settings = db::bench::non_default_settings(&mut *conn).await?;
        let sizes = vec![
            ("burn-down jobs", o.jobs.to_string()),
            (
                "worker concurrency",
                o.concurrency
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("worker pool (durable)", o.pool_size.to_string()),
            (
                "worker claim pool (async commit)",
                "queues + 2 = 3".to_string(),
            ),
            (
                "claim batch",
                format!(
                    "free slots plus {} ms of work ahead, at most {} ahead",
                    crate::worker::Prefetch::default().window.as_millis(),
                    crate::worker::Prefetch::default().max
                ),
            ),
            (
                "scale",
                format!(
                    "{} jobs per drain; {} finished jobs; {} queues; {} nodes",
                    o.scale_jobs, o.finished_jobs, o.scale_queues, o.scale_nodes
                ),
            ),
            (
                "completer batch",
                format!("at most {}", crate::worker::completer::MAX_BATCH),
            ),
            (
                "ceiling",
                format!(
                    "{} connections, {} per claim",
                    o.ceiling_connections, o.ceiling_batch
                ),
            ),
            (
                "latency",
                format!(
                    "{} enqueues, {} ms apart, poll {} ms",
                    o.latency_jobs,
                    o.latency_interval.as_millis(),
                    o.poll_interval.as_millis()
                ),
            ),
            (
                "enqueue",
                format!(
                    "1 and {} producers, {:.1} s each, median of {} interleaved rounds \
                     after a warm-up; bulk {} rows in batches of {}",
                    o.producers,
                    o.enqueue_duration.as_secs_f64(),
                    o.enqueue_rounds,
                    o.bulk_jobs,
                    o.bulk_batch
                ),
            ),
            (
                "between scenarios",
                if checkpoints {
                    "CHECKPOINT".to_string()
                } else {
                    "nothing (CHECKPOINT not permitted)".to_string()
                },
            ),
        ];
        Ok(Environment {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            commit: git_commit(),
            postgres,
            settings,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            load_average: std::fs::read_to_string("/proc/loadavg")
                .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|_| "?".into()),
            sizes,
        })
    }

    pub fn json(&self) -> Value {
        let settings: serde_json::Map<String, Value> = self
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let sizes: serde_json::Map<String, Value> = self
            .sizes
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({
            "date": self.date,
            "commit": self.commit,
            "postgres": self.postgres,
            "settings": settings,
            "cpus": self.cpus,
            "load_average": self.load_average,
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
            "sizes": sizes,
        })
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "[environment]");
        let _ = writeln!(out, "  date      {}", self.date);
        let _ = writeln!(out, "  commit    {}", self.commit);
        let _ = writeln!(
            out,
            "  build     {}",
            if cfg!(debug_assertions) {
                "debug (use --release for real numbers)"
            } else {
                "release"
            }
        );
        let _ = writeln!(out, "  postgres  {}", self.postgres);
        let _ = writeln!(
            out,
            "  cpus      {} (load average at start: {})",
            self.cpus, self.load_average
        );
        let settings: Vec<String> = self
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(out, "  settings  {}", settings.join(", "));
        for (k, v) in &self.sizes {
            let _ = writeln!(out, "  {k}: {v}");
        }
        out
    }
}

/// The commit being measured: `WEIR_GIT_COMMIT`, else `git describe`.
fn git_commit() -> String {
    if let Ok(c) = std::env::var("WEIR_GIT_COMMIT") {
        return c;
    }
    std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=10"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
