//! `weir worker`: a worker node with the built-in tasks, and its
//! `/metrics` and `/healthz` on `WEIR_WORKER_BIND` when set.

use std::process::ExitCode;

use crate::config::{DbArgs, WorkerArgs};
use crate::error::Result;
use crate::worker::Worker;

pub async fn run(db: DbArgs, args: WorkerArgs, no_migrate: bool) -> Result<ExitCode> {
    let config = args.to_config()?;
    let pool = super::connect_and_migrate(&db, no_migrate).await?;
    let shutdown = crate::shutdown::on_signal();
    let endpoint = args.worker_bind.map(|bind| {
        let (pool, shutdown) = (pool.clone(), shutdown.clone());
        tokio::spawn(async move {
            let served = crate::api::node::serve(pool, &bind, shutdown.clone()).await;
            // An endpoint that cannot serve stops the node (gracefully):
            // running unobserved is not what was asked for.
            shutdown.cancel();
            served
        })
    });
    let worked = Worker::new(pool, config)
        .with_registry(crate::demo::builtin())
        .run(shutdown.clone())
        .await;
    shutdown.cancel();
    if let Some(endpoint) = endpoint {
        endpoint
            .await
            .map_err(|e| crate::error::Error::Config(format!("metrics endpoint failed: {e}")))??;
    }
    worked?;
    Ok(ExitCode::SUCCESS)
}
