//! `cargo bench`: the benchmark in quick mode (a few seconds), so CI
//! builds it and it never rots. For real numbers run
//! `cargo run --release -- bench` (see docs/benchmarks.md).
//!
//! Uses `DATABASE_URL`'s server (default `postgres://postgres@127.0.0.1:5432`);
//! skips with a message when no server answers.

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let mut options = weir::bench::Options::quick(url);
    if let Ok(s) = std::env::var("WEIR_BENCH_SCENARIOS") {
        options.scenarios = weir::bench::parse_scenarios(&s).expect("WEIR_BENCH_SCENARIOS");
    }
    match weir::bench::run(&options).await {
        Ok(report) => print!("{}", report.table()),
        Err(e) => eprintln!("weir bench (quick) did not run: {e}"),
    }
}
