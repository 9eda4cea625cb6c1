//! `weir job ID`: one job, readable or as JSON.

use std::process::ExitCode;

use clap::Args;

use crate::client::Client;
use crate::config::DbArgs;
use crate::error::{Error, Result};
use crate::job::JobId;

#[derive(Debug, Args)]
pub struct JobArgs {
    /// The job's id (a UUID).
    pub id: String,
    /// Print the job object as JSON (the API's shape).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Parses a job id given on the command line.
pub(crate) fn parse_id(s: &str) -> Result<JobId> {
    s.trim()
        .parse()
        .map_err(|_| Error::InvalidJob(format!("{s:?} is not a job id (expected a UUID)")))
}

pub async fn run(args: JobArgs) -> Result<ExitCode> {
    let id = parse_id(&args.id)?;
    let client = Client::new(args.db.connect().await?);
    let job = client.job(id).await?;
    if args.json {
        println!("{}", super::job_json(&job)?);
    } else {
        println!("{}", super::table::describe(&job));
    }
    Ok(ExitCode::SUCCESS)
}
