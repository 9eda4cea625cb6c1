//! `weir worker`: a worker node with the built-in tasks.

use std::process::ExitCode;

use crate::config::{DbArgs, WorkerArgs};
use crate::error::Result;
use crate::worker::Worker;

pub async fn run(db: DbArgs, args: WorkerArgs, no_migrate: bool) -> Result<ExitCode> {
    let config = args.to_config()?;
    let pool = super::connect_and_migrate(&db, no_migrate).await?;
    let shutdown = crate::shutdown::on_signal();
    Worker::new(pool, config)
        .with_registry(crate::demo::builtin())
        .run(shutdown)
        .await?;
    Ok(ExitCode::SUCCESS)
}
