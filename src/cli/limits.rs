//! `weir queue-limits NAME --max-running N --per-key N --rate N/PERIOD`.

use std::process::ExitCode;

use clap::Args;

use crate::config::DbArgs;
use crate::error::{Error, Result};
use crate::flow::{QueueLimits, RateLimit, parse_rate};

#[derive(Debug, Args)]
pub struct QueueLimitsArgs {
    /// The queue's name.
    pub queue: String,
    /// Jobs of the queue running at once, across every node (`none` removes it).
    #[arg(long, value_name = "N|none")]
    pub max_running: Option<String>,
    /// Jobs of one concurrency key running at once (`none` removes it).
    #[arg(long, value_name = "N|none")]
    pub per_key: Option<String>,
    /// Claims per period, e.g. 10/s, 100/min, 1000/1h (`none` removes it).
    #[arg(long, value_name = "N/PERIOD|none")]
    pub rate: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

/// A limit to set, or `none` to remove it.
#[derive(Debug, Clone, Copy)]
pub enum Change<T> {
    Set(T),
    Remove,
}

// Parsed in `run`, not by clap, so that a bad value is a one-line error.
fn parse_count(s: &str) -> std::result::Result<Change<i32>, String> {
    if s.trim() == "none" {
        return Ok(Change::Remove);
    }
    s.trim()
        .parse()
        .map(Change::Set)
        .map_err(|_| format!("{s:?} is not a number (or none)"))
}

fn parse_rate_change(s: &str) -> std::result::Result<Change<RateLimit>, String> {
    if s.trim() == "none" {
        return Ok(Change::Remove);
    }
    parse_rate(s).map(Change::Set)
}

fn merged<T>(change: Option<Change<T>>, current: Option<T>) -> Option<T> {
    match change {
        None => current,
        Some(Change::Remove) => None,
        Some(Change::Set(v)) => Some(v),
    }
}

/// Changes the limits given, keeps the others, and prints the queue's
/// limits as they are now.
pub async fn run(a: QueueLimitsArgs) -> Result<ExitCode> {
    if !crate::job::is_valid_queue_name(&a.queue) {
        return Err(Error::InvalidArgument(format!(
            "{:?} is not a queue name (1 to 128 letters, digits, '_', '.', ':' or '-')",
            a.queue
        )));
    }
    let arg = |e: String| Error::InvalidArgument(e);
    let max_running = a
        .max_running
        .as_deref()
        .map(parse_count)
        .transpose()
        .map_err(arg)?;
    let per_key = a
        .per_key
        .as_deref()
        .map(parse_count)
        .transpose()
        .map_err(arg)?;
    let rate = a
        .rate
        .as_deref()
        .map(parse_rate_change)
        .transpose()
        .map_err(arg)?;
    let client = a.db.client().await?;
    let current = client.queue(&a.queue).await?.limits();
    let limits = QueueLimits {
        max_running: merged(max_running, current.max_running),
        max_running_per_key: merged(per_key, current.max_running_per_key),
        rate: merged(rate, current.rate),
    };
    let stats = client.set_queue_limits(&a.queue, &limits).await?;
    println!("queue {}: {}", a.queue, describe(&stats.limits()));
    Ok(ExitCode::SUCCESS)
}

/// A queue's limits in a few words (`-` when it has none).
pub fn describe(l: &QueueLimits) -> String {
    let mut parts = Vec::new();
    if let Some(n) = l.max_running {
        parts.push(format!("max_running={n}"));
    }
    if let Some(n) = l.max_running_per_key {
        parts.push(format!("per_key={n}"));
    }
    if let Some(r) = l.rate {
        parts.push(format!("rate={}/{}s", r.limit, r.period.as_secs_f64()));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}
