//! `weir dev`: everything on one machine, in one process: migrations, the
//! web node and a worker with the built-in tasks.

use std::process::ExitCode;

use crate::config::{ApiArgs, DbArgs, WorkerArgs};
use crate::error::Result;
use crate::worker::Worker;

pub async fn run(
    mut db: DbArgs,
    api: ApiArgs,
    worker: WorkerArgs,
    private_db: bool,
) -> Result<ExitCode> {
    let config = worker.to_config()?;
    // A DATABASE_URL other than the default (environment, .env or flag)
    // wins; else the default server if one answers; else a private one.
    let configured = db.database_url != crate::config::DEFAULT_DATABASE_URL;
    let private = if private_db || (!configured && !super::private_db::answers("127.0.0.1:5432")) {
        let server = tokio::task::spawn_blocking(super::private_db::PrivateDb::start)
            .await
            .map_err(|e| {
                crate::error::Error::Config(format!("starting PostgreSQL failed: {e}"))
            })??;
        db.database_url = server.url();
        Some(server)
    } else {
        None
    };
    let result = serve_all(&db, api, config, worker.worker_bind).await;
    if let Some(server) = private {
        // After the worker and web node drained, so their last writes land.
        match tokio::task::spawn_blocking(move || server.stop()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("error: stopping the private PostgreSQL failed: {e}"),
            Err(e) => eprintln!("error: stopping the private PostgreSQL failed: {e}"),
        }
    }
    result
}

async fn serve_all(
    db: &DbArgs,
    api: ApiArgs,
    config: crate::worker::WorkerConfig,
    worker_bind: Option<String>,
) -> Result<ExitCode> {
    let pool = super::connect_and_migrate(db, false).await?;
    let shutdown = crate::shutdown::on_signal();
    // The web node's /metrics already shows this process's worker; a
    // WEIR_WORKER_BIND serves the same on a second address too.
    if let Some(bind) = worker_bind {
        let (pool, shutdown) = (pool.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(e) = crate::api::node::serve(pool, &bind, shutdown.clone()).await {
                eprintln!("error: {e}");
                shutdown.cancel();
            }
        });
    }
    let worker = Worker::new(pool.clone(), config).with_registry(crate::demo::builtin());
    let worker = tokio::spawn(worker.run(shutdown.clone()));
    let server = tokio::spawn({
        let (config, bind, shutdown) = (api.to_config(), api.bind.clone(), shutdown.clone());
        async move { crate::api::serve(pool, config, &bind, shutdown).await }
    });
    // Print the URLs once the web node answers, so the curl works at once.
    for _ in 0..100 {
        if server.is_finished() || super::private_db::answers(&api.bind) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if !server.is_finished() {
        let base = format!("http://{}", api.bind);
        say(&format!("weir dev: database {}", redact(&db.database_url)));
        say(&format!("weir dev: API        {base}/v1"));
        say(&format!("weir dev: Swagger UI {base}/docs"));
        say(&format!("weir dev: dashboard  {base}/ui"));
        say("weir dev: enqueue the demo task with");
        say(&format!(
            "  curl -s -X POST {base}/v1/jobs -H 'content-type: application/json' \\\n    -d '{{\"kind\":\"demo.process_item\",\"args\":{{\"name\":\"x\",\"steps\":5,\"step_ms\":500}}}}'"
        ));
    }
    let served = server
        .await
        .map_err(|e| crate::error::Error::Config(format!("web node task failed: {e}")))?;
    // The server stops on the signal, or failed to start: stop the worker too.
    shutdown.cancel();
    let worked = worker
        .await
        .map_err(|e| crate::error::Error::Config(format!("worker task failed: {e}")))?;
    served?;
    worked?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a line, ignoring a closed stdout.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
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
