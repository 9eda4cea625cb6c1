//! `weir dev`: everything on one machine, in one process.

use std::process::ExitCode;

use crate::config::{DbArgs, WorkerArgs};
use crate::error::Result;
use crate::worker::Worker;

pub async fn run(db: DbArgs, args: WorkerArgs) -> Result<ExitCode> {
    let config = args.to_config()?;
    crate::db::create_database_if_missing(&db.database_url).await?;
    let pool = db.connect().await?;
    crate::db::migrate(&pool).await?;
    println!("weir dev: database {} migrated", redact(&db.database_url));
    println!("weir dev: worker with the built-in tasks (demo.process_item, demo.fail, demo.sleep)");
    println!(
        "weir dev: try  psql {} -c \"select weir.enqueue('demo.process_item', '{{\\\"name\\\":\\\"x\\\",\\\"steps\\\":3,\\\"step_ms\\\":500}}')\"",
        redact(&db.database_url)
    );
    let shutdown = crate::shutdown::on_signal();
    Worker::new(pool, config)
        .with_registry(crate::tasks::builtin())
        .run(shutdown)
        .await?;
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
