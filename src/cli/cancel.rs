//! `weir cancel ID`: cancel a job (weir.cancel_job).

use std::process::ExitCode;

use clap::Args;

use crate::client::CancelOutcome;
use crate::config::DbArgs;
use crate::error::Result;

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The job's id.
    pub id: String,
    #[command(flatten)]
    pub db: DbArgs,
}

pub async fn run(args: CancelArgs) -> Result<ExitCode> {
    let id = super::job::parse_id(&args.id)?;
    let client = args.db.client().await?;
    match client.cancel(id).await?.0 {
        CancelOutcome::Cancelled => println!("{id} cancelled"),
        CancelOutcome::CancelRequested => {
            println!("{id} is running: cancel requested; its worker stops the handler")
        }
    }
    Ok(ExitCode::SUCCESS)
}
