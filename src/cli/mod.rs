//! The `weir` command line: one verb per file, wired here.

mod bench;
mod dev;
mod enqueue;
mod job;
mod worker;

use clap::{Parser, Subcommand};

use crate::config::{DbArgs, WorkerArgs};
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
    /// Everything on one machine: migrations and a worker with the built-in tasks.
    #[command(after_help = "Example:\n  cargo run -- dev")]
    Dev {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// Create the database if it is missing and apply the migrations.
    #[command(
        after_help = "Example:\n  weir migrate --database-url postgres://postgres@127.0.0.1:5432/weir"
    )]
    Migrate {
        #[command(flatten)]
        db: DbArgs,
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
    Enqueue(enqueue::EnqueueArgs),
    /// Show one job as JSON.
    #[command(after_help = "Example:\n  weir job 01a216c0-2cbe-7f9b-a7c8-63b5f45d3c62")]
    Job(job::JobArgs),
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
    crate::logging::init();
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
        Command::Dev { db, worker } => dev::run(db, worker).await,
        Command::Migrate { db } => {
            crate::db::create_database_if_missing(&db.database_url).await?;
            let pool = db.connect().await?;
            crate::db::migrate(&pool).await?;
            println!("migrations applied");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Worker {
            db,
            worker: args,
            no_migrate,
        } => worker::run(db, args, no_migrate).await,
        Command::Enqueue(args) => enqueue::run(args).await,
        Command::Job(args) => job::run(args).await,
        Command::Bench(args) => bench::run(args).await,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
