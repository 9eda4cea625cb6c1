//! `weir jobs`: list jobs, newest first.

use std::process::ExitCode;

use clap::Args;

use crate::client::ListFilter;
use crate::config::DbArgs;
use crate::error::{Error, Result};
use crate::job::JobState;

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only jobs in this state (pending, scheduled, available, running, retryable, succeeded, failed, cancelled).
    #[arg(long)]
    pub state: Option<String>,
    /// Only jobs of this queue.
    #[arg(long)]
    pub queue: Option<String>,
    /// Only jobs of this kind.
    #[arg(long)]
    pub kind: Option<String>,
    /// How many jobs (1 to 1000).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub limit: i64,
    /// Only jobs older than this job id (the last id of the previous page).
    #[arg(long)]
    pub before: Option<String>,
    /// Print a JSON object {"jobs": [...], "next_cursor": ...} (the API's shape).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(args: JobsArgs) -> Result<ExitCode> {
    let state = args
        .state
        .as_deref()
        .map(|s| {
            s.parse::<JobState>()
                .map_err(|e| Error::InvalidArgument(e.to_string()))
        })
        .transpose()?;
    let before = args
        .before
        .as_deref()
        .map(super::job::parse_id)
        .transpose()?;
    let client = args.db.client().await?;
    let filter = ListFilter {
        state,
        queue: args.queue,
        kind: args.kind,
        before,
    };
    let page = client.jobs(&filter, args.limit).await?;
    let (jobs, next) = (page.jobs, page.next_cursor);
    if args.json {
        let list: Vec<serde_json::Value> =
            jobs.iter().map(super::job_value).collect::<Result<_>>()?;
        let mut out = serde_json::json!({ "jobs": list });
        if let Some(n) = next {
            out["next_cursor"] = n.to_string().into();
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.to_string(),
                j.kind.clone(),
                j.queue.clone(),
                j.state.to_string(),
                format!("{}/{}", j.attempt, j.max_attempts),
                super::table::progress(j),
                super::table::age(j.created_at),
            ]
        })
        .collect();
    println!(
        "{}",
        super::table::render(
            &["ID", "KIND", "QUEUE", "STATE", "ATTEMPT", "PROGRESS", "AGE"],
            &rows
        )
    );
    if let Some(n) = next {
        println!("more: weir jobs --before {n}");
    }
    Ok(ExitCode::SUCCESS)
}
