//! `weir job ID`: one job as JSON.

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
    println!("{}", serde_json::to_string_pretty(&job)?);
    Ok(ExitCode::SUCCESS)
}
