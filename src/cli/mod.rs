//! The `weir` command line: one verb per file, wired here.

mod bench;
mod cancel;
mod dev;
mod enqueue;
mod job;
mod jobs;
mod limits;
mod private_db;
mod queues;
mod retry;
mod schedules;
mod serve;
mod table;
mod worker;
mod workflow;

use clap::{Parser, Subcommand};

use crate::config::{ApiArgs, DbArgs, WorkerArgs};
use crate::error::Result;

#[derive(Debug, Parser)]
#[command(
    name = "weir",
    version,
    about = "A background job queue that lives entirely in PostgreSQL"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Everything on one machine: migrations, the web node and a worker with the built-in tasks.
    #[command(after_help = "Example:\n  cargo run -- dev")]
    Dev {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        api: ApiArgs,
        #[command(flatten)]
        worker: WorkerArgs,
        /// Always use a private PostgreSQL (data in .weir/pg), even if
        /// DATABASE_URL is set or a server answers at the default address.
        #[arg(long)]
        private_db: bool,
    },
    /// Run a web node: the REST API, Swagger UI at /docs, /metrics.
    #[command(after_help = "Example:\n  weir serve --bind 127.0.0.1:8000")]
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        api: ApiArgs,
        /// Do not apply migrations at start.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Print the OpenAPI spec (identical to the committed openapi.json).
    #[command(after_help = "Example:\n  weir openapi > openapi.json")]
    Openapi,
    /// Create the database if it is missing and apply the migrations.
    #[command(
        after_help = "Examples:\n  weir migrate --database-url postgres://postgres@127.0.0.1:5432/weir\n  weir migrate --create-roles"
    )]
    Migrate {
        #[command(flatten)]
        db: DbArgs,
        /// Also create the NOLOGIN roles weir_producer, weir_reader,
        /// weir_operator, weir_worker and weir_app when missing (needs
        /// CREATEROLE); existing roles are granted to either way.
        #[arg(long)]
        create_roles: bool,
    },
    /// Run a worker node with the built-in tasks until SIGINT/SIGTERM.
    #[command(after_help = "Example:\n  weir worker --queues default=10,mail=2")]
    Worker {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        worker: WorkerArgs,
        /// Do not apply migrations at start.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Enqueue a job from the shell and print its id (or, with --wait, its outcome).
    #[command(
        after_help = "Example:\n  weir enqueue demo.process_item '{\"name\":\"x\",\"steps\":3,\"step_ms\":100}' --wait"
    )]
    #[command(override_usage = "weir enqueue [OPTIONS] <KIND> [ARGS]")]
    Enqueue(enqueue::EnqueueArgs),
    /// Show one job (--json: the API's job object; --wait: follow it to its end).
    #[command(
        after_help = "Examples:\n  weir job 01a216c0-2cbe-7f9b-a7c8-63b5f45d3c62 --json\n  weir job 01a216c0-2cbe-7f9b-a7c8-63b5f45d3c62 --wait"
    )]
    #[command(override_usage = "weir job [OPTIONS] <ID>")]
    Job(job::JobArgs),
    /// Show one workflow: state, counts per state, progress, its jobs.
    #[command(after_help = "Example:\n  weir workflow 01a216c0-2cbe-7f9b-a7c8-63b5f45d3c62 --json")]
    #[command(override_usage = "weir workflow [OPTIONS] <ID>")]
    Workflow(workflow::WorkflowArgs),
    /// List jobs, newest first, filtered by state, queue and kind.
    #[command(
        after_help = "Examples:\n  weir jobs --state failed --queue mail\n  weir jobs --kind demo.sleep --limit 100 --json"
    )]
    Jobs(jobs::JobsArgs),
    /// Cancel a job: queued ones at once, running ones by asking their worker.
    #[command(after_help = "Example:\n  weir cancel 01a216c0-2cbe-7f9b-a7c8-63b5f45d3c62")]
    #[command(override_usage = "weir cancel [OPTIONS] <ID>")]
    Cancel(cancel::CancelArgs),
    /// Send failed or cancelled jobs back to available (errors are kept).
    #[command(
        after_help = "Examples:\n  weir retry 01a216c0-2cbe-7f9b-a7c8-63b5f45d3c62\n  weir retry --all-failed --queue mail --kind email.send"
    )]
    #[command(override_usage = "weir retry [OPTIONS] <ID|--all-failed>")]
    Retry(retry::RetryArgs),
    /// Show every queue: paused, jobs per state, oldest available, unserved kinds.
    #[command(after_help = "Example:\n  weir queues --json")]
    Queues(queues::QueuesArgs),
    /// Stop claiming from a queue on every node (running jobs go on).
    #[command(after_help = "Example:\n  weir pause mail")]
    #[command(override_usage = "weir pause [OPTIONS] <QUEUE>")]
    Pause(queues::QueueArgs),
    /// Restart claiming from a paused queue.
    #[command(after_help = "Example:\n  weir resume mail")]
    #[command(override_usage = "weir resume [OPTIONS] <QUEUE>")]
    Resume(queues::QueueArgs),
    /// List cron schedules with their next run times.
    #[command(after_help = "Example:\n  weir schedules --json")]
    Schedules(schedules::SchedulesArgs),
    /// Set or remove a cron schedule.
    #[command(subcommand)]
    Schedule(schedules::ScheduleCommand),
    /// Set a queue's limits on every node: running jobs, per key, claims per period.
    #[command(
        after_help = "Examples:\n  weir queue-limits mail --max-running 5 --per-key 1\n  weir queue-limits api --rate 10/s\n  weir queue-limits mail --max-running none"
    )]
    #[command(override_usage = "weir queue-limits [OPTIONS] <QUEUE>")]
    QueueLimits(limits::QueueLimitsArgs),
    /// Run the benchmark in a scratch database (created, migrated, dropped).
    #[command(
        after_help = "Examples:\n  cargo run --release -- bench\n  weir bench --scenario burn-down,latency --jobs 50000 --json"
    )]
    Bench(bench::BenchArgs),
}

/// Parses the command line and runs it. Errors are printed as one line.
pub async fn main() -> std::process::ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let _traces = crate::logging::init();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e.to_string()));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    match cli.command {
        Command::Dev {
            db,
            api,
            worker,
            private_db,
        } => dev::run(db, api, worker, private_db).await,
        Command::Serve {
            db,
            api,
            no_migrate,
        } => serve::run(db, api, no_migrate).await,
        Command::Openapi => {
            print!("{}", crate::api::spec_json());
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Migrate { db, create_roles } => {
            crate::setup::create_database_if_missing(&db.database_url).await?;
            let pool = db.connect().await?;
            crate::setup::migrate(&pool).await?;
            println!("migrations applied");
            if create_roles {
                let created = crate::setup::create_roles(&pool).await?;
                if !created.is_empty() {
                    println!("roles created: {}", created.join(", "));
                }
            }
            let granted = crate::setup::grant_roles(&pool).await?;
            if !granted.is_empty() {
                println!("roles granted to: {}", granted.join(", "));
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Worker {
            db,
            worker: args,
            no_migrate,
        } => worker::run(db, args, no_migrate).await,
        Command::Enqueue(args) => enqueue::run(args).await,
        Command::Job(args) => job::run(args).await,
        Command::Jobs(args) => jobs::run(args).await,
        Command::Workflow(args) => workflow::run(args).await,
        Command::Cancel(args) => cancel::run(args).await,
        Command::Retry(args) => retry::run(args).await,
        Command::Queues(args) => queues::list(args).await,
        Command::Pause(args) => queues::pause(args).await,
        Command::Resume(args) => queues::resume(args).await,
        Command::Schedules(args) => schedules::list(args).await,
        Command::Schedule(command) => schedules::run(command).await,
        Command::QueueLimits(args) => limits::run(args).await,
        Command::Bench(args) => bench::run(args).await,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How long a node that starts while the database cannot be reached (it
/// is restarting, or not up yet) waits for it before giving up.
const STARTUP_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Connects the main pool, waiting up to [`STARTUP_WAIT`] for a database
/// that cannot be reached; unless `no_migrate`, creates the database when
/// missing and applies the migrations first.
async fn connect_and_migrate(db: &DbArgs, no_migrate: bool) -> Result<sqlx::PgPool> {
    crate::setup::connect_and_migrate(&db.database_url, no_migrate, STARTUP_WAIT, || db.connect())
        .await
}

/// A job as the API shows it (absent values omitted).
fn job_value(job: &crate::job::Job) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(job)?;
    if v.get("result").is_some_and(serde_json::Value::is_null)
        && let Some(map) = v.as_object_mut()
    {
        map.remove("result");
    }
    Ok(v)
}

/// [`job_value`] pretty-printed.
fn job_json(job: &crate::job::Job) -> Result<String> {
    Ok(serde_json::to_string_pretty(&job_value(job)?)?)
}
