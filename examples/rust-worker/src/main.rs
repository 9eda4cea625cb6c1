//! A worker with one task of its own, `report.build`, built on weir as a
//! library. It connects, applies weir's migrations, enqueues one report,
//! prints its progress and result as they happen, and keeps serving the
//! `reports` queue until Ctrl-C.
//!
//! ```sh
//! cargo run -p rust-worker -- "Quarterly report" 8
//! ```

use std::io::IsTerminal;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use weir::{Client, JobContext, JobError, NewJob, QueueConfig, Task, Worker, WorkerConfig};

/// The database weir uses when `DATABASE_URL` is not set.
const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/weir";
/// The queue this worker serves: its own, so that a `weir dev` running
/// beside it keeps its `default` queue.
const QUEUE: &str = "reports";

/// `report.build`: writes a report one section at a time.
struct BuildReport;

/// The job's `args`, checked when the job is claimed: a job whose args do
/// not match fails at once, without retries.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportArgs {
    title: String,
    /// Sections to write, one second each.
    sections: u32,
}

/// What a successful run returns: stored as the job's `result`.
#[derive(Debug, Serialize, Deserialize)]
struct ReportOutput {
    title: String,
    sections: u32,
    summary: String,
}

impl Task for BuildReport {
    const KIND: &'static str = "report.build";
    type Args = ReportArgs;
    type Output = ReportOutput;

    async fn run(&self, ctx: JobContext, args: ReportArgs) -> Result<ReportOutput, JobError> {
        if args.sections == 0 {
            // Retrying would not help: fail the job now.
            return Err(JobError::fatal("a report needs at least one section"));
        }
        let total = i64::from(args.sections);
        ctx.progress(
            Some(0),
            Some(total),
            Some(format!("starting {}", args.title)),
        );
        for section in 1..=total {
            // One second of "work" per section, or stop as soon as the job
            // is cancelled (or the worker shuts down past its grace period).
            tokio::select! {
                _ = ctx.cancelled() => return Err(JobError::Cancelled),
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            ctx.progress(
                Some(section),
                Some(total),
                Some(format!("section {section} of {total} written")),
            );
        }
        Ok(ReportOutput {
            summary: format!(
                "{} ({} sections, attempt {})",
                args.title,
                args.sections,
                ctx.attempt()
            ),
            title: args.title,
            sections: args.sections,
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let mut cli = std::env::args().skip(1);
    let args = ReportArgs {
        title: cli.next().unwrap_or_else(|| "Quarterly report".into()),
        sections: match cli.next() {
            Some(n) => n
                .parse()
                .map_err(|_| format!("sections: {n:?} is not a number"))?,
            None => 8,
        },
    };

    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into());
    let pool = weir::setup::connect(&url, 10, None).await?;
    weir::setup::migrate(&pool).await?;

    // The worker: serves `report.build` on the `reports` queue, two jobs
    // at a time, until Ctrl-C; then it stops claiming, gives running jobs
    // 5 s to finish and hands the others back to the queue.
    let shutdown = CancellationToken::new();
    let config = WorkerConfig {
        queues: vec![QueueConfig {
            name: QUEUE.into(),
            concurrency: 2,
        }],
        shutdown_grace: Duration::from_secs(5),
        ..WorkerConfig::default()
    };
    let mut worker = Worker::new(pool.clone(), config);
    worker.register(BuildReport);
    let worker = tokio::spawn(worker.run(shutdown.clone()));
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });

    // The producer: any process with a `Client` (or plain SQL) can do this.
    let client = Client::new(pool);
    let job = NewJob::new(BuildReport::KIND, serde_json::to_value(&args)?).queue(QUEUE);
    let id = client.enqueue_job(&job).await?.id;
    println!("enqueued {} {id} on queue {QUEUE}", BuildReport::KIND);

    // Follow the job: each change (progress, state, result) as it happens.
    let mut follow = client.follow(id).await?;
    loop {
        let job = tokio::select! {
            _ = shutdown.cancelled() => break,
            job = follow.changed(Duration::from_secs(60)) => job?,
        };
        match &job.progress {
            Some(p) => println!(
                "{}: {}/{} {}",
                job.state,
                p.done.unwrap_or(0),
                p.total.unwrap_or(0),
                p.message.as_deref().unwrap_or("")
            ),
            _ => println!("{}", job.state),
        }
        if job.state.is_terminal() {
            if let Some(result) = &job.result {
                println!("result: {result}");
            }
            for error in &job.errors {
                println!("attempt {} failed: {}", error.attempt, error.message);
            }
            println!("still serving {QUEUE}; Ctrl-C to stop");
            break;
        }
    }
    drop(follow);

    worker.await??;
    client.close().await?;
    Ok(())
}
