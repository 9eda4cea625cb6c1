//! `weir dev`: everything on one machine, in one process: migrations, the
//! web node and a worker with the built-in tasks.

use std::process::ExitCode;

use crate::config::{ApiArgs, DbArgs, WorkerArgs};
use crate::error::Result;
use crate::worker::Worker;

pub async fn run(db: DbArgs, api: ApiArgs, worker: WorkerArgs) -> Result<ExitCode> {
    let config = worker.to_config()?;
    let pool = super::connect_and_migrate(&db, false).await?;
    let shutdown = crate::shutdown::on_signal();
    let base = format!("http://{}", api.bind);
    println!("weir dev: database {}", redact(&db.database_url));
    println!("weir dev: API        {base}/v1");
    println!("weir dev: Swagger UI {base}/docs");
    println!("weir dev: enqueue the demo task with");
    println!(
        "  curl -s -X POST {base}/v1/jobs -H 'content-type: application/json' \\\n    -d '{{\"kind\":\"demo.process_item\",\"args\":{{\"name\":\"x\",\"steps\":5,\"step_ms\":500}}}}'"
    );
    let worker = Worker::new(pool.clone(), config).with_registry(crate::tasks::builtin());
    let worker = tokio::spawn(worker.run(shutdown.clone()));
    let served = crate::api::serve(pool, api.to_config(), &api.bind, shutdown.clone()).await;
    // The server stops on the signal, or failed to start: stop the worker too.
    shutdown.cancel();
    let worked = worker
        .await
        .map_err(|e| crate::error::Error::Config(format!("worker task failed: {e}")))?;
    served?;
    worked?;
    Ok(ExitCode::SUCCESS)
}

/// The URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
