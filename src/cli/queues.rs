//! `weir queues`, `weir pause Q`, `weir resume Q`.

use std::process::ExitCode;

use clap::Args;

use crate::config::DbArgs;
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct QueuesArgs {
    /// Print JSON (the API's shape).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct QueueArgs {
    /// The queue's name.
    pub queue: String,
    #[command(flatten)]
    pub db: DbArgs,
}

fn check_name(name: &str) -> Result<()> {
    if crate::job::is_valid_queue_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{name:?} is not a queue name (1 to 128 letters, digits, '_', '.', ':' or '-')"
        )))
    }
}

pub async fn list(args: QueuesArgs) -> Result<ExitCode> {
    let stats = args.db.client().await?.queues().await?;
    if args.json {
        let queues: Vec<serde_json::Value> = stats
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.queue,
                    "paused": s.paused,
                    "counts": {
                        "pending": s.pending, "scheduled": s.scheduled, "available": s.available,
                        "running": s.running, "retryable": s.retryable, "succeeded": s.succeeded,
                        "failed": s.failed, "cancelled": s.cancelled,
                    },
                    "oldest_available_age_seconds": s.oldest_available_age_seconds,
                    "unserved_kinds": s.unserved_kinds,
                    "max_running": s.max_running,
                    "max_running_per_key": s.max_running_per_key,
                    "rate_limit": s.rate_limit,
                    "rate_period": s.rate_period_seconds,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "queues": queues }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|s| {
            vec![
                s.queue.clone(),
                if s.paused {
                    "paused".into()
                } else {
                    "active".into()
                },
                s.available.to_string(),
                s.running.to_string(),
                (s.scheduled + s.retryable).to_string(),
                s.succeeded.to_string(),
                s.failed.to_string(),
                s.cancelled.to_string(),
                s.oldest_available_age_seconds
                    .map(|a| format!("{a:.0}s"))
                    .unwrap_or_else(|| "-".into()),
                if s.unserved_kinds.is_empty() {
                    "-".into()
                } else {
                    s.unserved_kinds.join(",")
                },
                super::limits::describe(&s.limits()),
            ]
        })
        .collect();
    println!(
        "{}",
        super::table::render(
            &[
                "QUEUE",
                "STATUS",
                "AVAILABLE",
                "RUNNING",
                "WAITING",
                "SUCCEEDED",
                "FAILED",
                "CANCELLED",
                "OLDEST",
                "UNSERVED KINDS",
                "LIMITS"
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn pause(args: QueueArgs) -> Result<ExitCode> {
    check_name(&args.queue)?;
    args.db.client().await?.pause_queue(&args.queue).await?;
    println!("queue {} paused", args.queue);
    Ok(ExitCode::SUCCESS)
}

pub async fn resume(args: QueueArgs) -> Result<ExitCode> {
    check_name(&args.queue)?;
    args.db.client().await?.resume_queue(&args.queue).await?;
    println!("queue {} resumed", args.queue);
    Ok(ExitCode::SUCCESS)
}
