//! `weir workflow ID`: one workflow, its state, counts, progress and jobs.

use std::process::ExitCode;

use clap::Args;

use crate::client::Client;
use crate::config::DbArgs;
use crate::error::{Error, Result};
use crate::job::WorkflowId;

#[derive(Debug, Args)]
pub struct WorkflowArgs {
    /// The workflow's id (a UUID).
    pub id: String,
    /// Print the workflow as JSON (with its jobs).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(args: WorkflowArgs) -> Result<ExitCode> {
    let id: WorkflowId = args.id.trim().parse().map_err(|_| {
        Error::InvalidArgument(format!(
            "{:?} is not a workflow id (expected a UUID)",
            args.id
        ))
    })?;
    let client = Client::new(args.db.connect().await?);
    let wf = client.workflow(id).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&wf)?);
        return Ok(ExitCode::SUCCESS);
    }
    let c = &wf.counts;
    println!(
        "workflow {}{}\nstate     {}\nprogress  {}/{}\njobs      {} pending, {} scheduled, {} available, {} running, {} retryable, {} succeeded, {} failed, {} cancelled\n",
        wf.id,
        wf.name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        wf.state.as_str(),
        wf.progress_done,
        wf.progress_total,
        c.pending,
        c.scheduled,
        c.available,
        c.running,
        c.retryable,
        c.succeeded,
        c.failed,
        c.cancelled,
    );
    let rows: Vec<Vec<String>> = wf
        .jobs
        .iter()
        .map(|j| {
            vec![
                j.job_ref.clone().unwrap_or_default(),
                j.id.to_string(),
                j.kind.clone(),
                j.state.to_string(),
                super::table::progress(j),
            ]
        })
        .collect();
    println!(
        "{}",
        super::table::render(&["REF", "ID", "KIND", "STATE", "PROGRESS"], &rows)
    );
    Ok(ExitCode::SUCCESS)
}
