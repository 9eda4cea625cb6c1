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
    /// Scenarios to run, comma-separated: ceiling, burn-down, per-key, fan-in,
    /// scale, external, latency, enqueue, http, or all.
    #[arg(long, default_value = "all")]
    pub scenario: String,
    /// Backlog of the burn-down (and the ceiling).
    #[arg(long, default_value_t = 200_000)]
    pub jobs: i64,
    /// Concurrencies of the burn-down worker, comma-separated: one
    /// burn-down each.
    #[arg(long, default_value = "1,10,100,1000")]
    pub concurrency: String,
    /// Succeeded jobs in the table for the scale scenario's history case
    /// (10,000,000 takes minutes to load).
    #[arg(long)]
    pub finished_jobs: Option<i64>,
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
    o.concurrency = parse_concurrency(&args.concurrency)?;
    if let Some(n) = args.finished_jobs {
        o.finished_jobs = n.max(0);
    }
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

/// `1,10,100` into concurrencies, each between 1 and 10,000.
fn parse_concurrency(spec: &str) -> Result<Vec<usize>> {
    let levels: Vec<usize> = spec
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<usize>()
                .ok()
                .filter(|c| (1..=10_000).contains(c))
                .ok_or_else(|| {
                    crate::Error::Config(format!(
                        "concurrency {p:?}: use integers between 1 and 10000, comma-separated"
                    ))
                })
        })
        .collect::<Result<_>>()?;
    if levels.is_empty() {
        return Err(crate::Error::Config("no concurrency given".into()));
    }
    Ok(levels)
}
