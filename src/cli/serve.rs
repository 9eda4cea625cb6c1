//! `weir serve`: the web node.

use std::process::ExitCode;

use crate::config::{ApiArgs, DbArgs};
use crate::error::Result;

pub async fn run(db: DbArgs, api: ApiArgs, no_migrate: bool) -> Result<ExitCode> {
    let pool = super::connect_and_migrate(&db, no_migrate).await?;
    let shutdown = crate::shutdown::on_signal();
    println!(
        "weir serve: API on http://{}/v1, Swagger UI on http://{}/docs",
        api.bind, api.bind
    );
    crate::api::serve(pool, api.to_config(), &api.bind, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}
