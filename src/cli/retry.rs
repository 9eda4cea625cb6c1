//! `weir retry ID` / `weir retry --all-failed`: failed or cancelled jobs
//! back to available (weir.retry_job, once per job).

use std::process::ExitCode;

use clap::Args;

use crate::client::ListFilter;
use crate::config::DbArgs;
use crate::error::{Error, Result};
use crate::job::JobState;

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The job's id (or use --all-failed).
    #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
    pub id: Option<String>,
    /// Retry every failed job (narrowed by --queue and --kind).
    #[arg(long)]
    pub all_failed: bool,
    /// With --all-failed: only this queue.
    #[arg(long, requires = "all_failed")]
    pub queue: Option<String>,
    /// With --all-failed: only this kind.
    #[arg(long, requires = "all_failed")]
    pub kind: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(args: RetryArgs) -> Result<ExitCode> {
    let client = args.db.client().await?;
    if let Some(id) = &args.id {
        let id = super::job::parse_id(id)?;
        client.retry(id).await?;
        println!("{id} is available again");
        return Ok(ExitCode::SUCCESS);
    }
    let mut filter = ListFilter {
        state: Some(JobState::Failed),
        queue: args.queue,
        kind: args.kind,
        before: None,
    };
    let (mut retried, mut skipped) = (0, 0);
    loop {
        let page = client.jobs(&filter, 500).await?;
        for job in &page.jobs {
            match client.retry(job.id).await {
                Ok(_) => retried += 1,
                // Retried or changed meanwhile, or its unique_key is taken.
                Err(Error::Conflict(m)) => {
                    eprintln!("skipped: {m}");
                    skipped += 1;
                }
                Err(e) => return Err(e),
            }
        }
        match page.next_cursor {
            Some(cursor) => filter.before = Some(cursor),
            None => break,
        }
    }
    println!(
        "{retried} failed jobs retried{}",
        if skipped > 0 {
            format!(", {skipped} skipped")
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}
