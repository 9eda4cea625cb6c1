//! `weir bench`: runs the benchmark (see [`crate::bench`]) and prints a
//! table, or one JSON object with `--json`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::bench::{self, Options};
use crate::error::Result;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Server to benchmark on: a scratch database is created there,
    /// migrated and dropped (the database named in the URL is not used).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub database_url: String,
    /// Scenarios to run, comma-separated: ceiling, burn-down, fan-in, external,
    /// latency, enqueue, http, or all.
    #[arg(long, default_value = "all")]
    pub scenario: String,
    /// Backlog of the burn-down (and the ceiling).
    #[arg(long, default_value_t = 200_000)]
    pub jobs: i64,
    /// Concurrency of the burn-down worker (its claims take at most the
    /// free slots; a slot frees when its outcome is committed).
    #[arg(long, default_value_t = 1_000)]
    pub concurrency: usize,
    /// Single enqueues of the latency scenario.
    #[arg(long, default_value_t = 1_000)]
    pub latency_jobs: usize,
    /// A running web node to load in the http scenario (loopback only),
    /// e.g. http://127.0.0.1:8000.
    #[arg(long)]
    pub http_url: Option<String>,
    /// Small sizes that finish in seconds (CI); explicit sizes still win.
    #[arg(long)]
    pub quick: bool,
    /// Print one JSON object on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: BenchArgs) -> Result<ExitCode> {
    let mut o = if args.quick {
        Options::quick(&args.database_url)
    } else {
        Options::new(&args.database_url)
    };
    o.scenarios = bench::parse_scenarios(&args.scenario)?;
    if !args.quick || args.jobs != 200_000 {
        o.jobs = args.jobs.max(1);
    }
    if !args.quick || args.latency_jobs != 1_000 {
        o.latency_jobs = args.latency_jobs.max(1);
    }
    o.concurrency = args.concurrency.clamp(1, 10_000);
    o.http_url = args.http_url;
    if o.latency_interval.is_zero() {
        o.latency_interval = Duration::from_millis(20);
    }
    let report = bench::run(&o).await?;
    if args.json {
        eprint!("{}", report.table());
        println!("{}", serde_json::to_string(&report.json())?);
    } else {
        print!("{}", report.table());
    }
    Ok(ExitCode::SUCCESS)
}
