//! `weir bench --quick`: every scenario runs end to end in its own scratch
//! database, reports the documented JSON keys, drains every job, and drops
//! the scratch database. Timings are reported, never asserted.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use weir::bench::{Options, Scenario, run};

fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

async fn scratch_databases() -> i64 {
    let options = PgConnectOptions::from_str(&server_url())
        .unwrap()
        .database("postgres");
    let mut conn = options.connect().await.unwrap();
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'weir\\_bench\\_' || $1 || '\\_%'",
    )
    .bind(std::process::id().to_string())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    n
}

#[tokio::test]
async fn quick_bench_reports_every_figure_and_cleans_up() {
    let options = Options::quick(server_url());
    assert_eq!(options.scenarios, Scenario::ALL.to_vec());
    let report = run(&options).await.expect("the quick benchmark runs");
    let json = report.json();

    for path in [
        "/burn_down/jobs_per_sec",
        "/latency/start_p50_ms",
        "/latency/start_p99_ms",
        "/latency/start_from_call_p50_ms",
        "/latency/poll_only/start_p50_ms",
        "/enqueue/ratio_32",
        "/enqueue/bulk_ratio",
        "/ceiling/jobs_per_sec",
        "/environment/postgres",
        "/environment/commit",
        "/environment/cpus",
    ] {
        assert!(json.pointer(path).is_some(), "missing {path} in {json}");
    }
    // Every backlog job was drained and its outcome kept.
    assert_eq!(json["burn_down"]["succeeded"], json["burn_down"]["jobs"]);
    assert_eq!(json["ceiling"]["jobs"], options.jobs);
    assert_eq!(json["latency"]["jobs"], options.latency_jobs);
    // The fan-in's callback ran after its members, once.
    assert_eq!(json["fan_in"]["members"], options.fan_in_members);
    assert_eq!(json["fan_in"]["callback_succeeded"], true);
    assert!(json["fan_in"]["release_to_start_ms"].as_f64().unwrap() >= 0.0);
    // One paired ratio per timed round, whose median is the headline.
    let rounds = json["enqueue"]["ratio_32_rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), options.enqueue_rounds.max(1));
    assert!(
        rounds.contains(&json["enqueue"]["ratio_32"]),
        "{}",
        json["enqueue"]
    );
    // The http scenario loads an in-process web node: every request answered 2xx.
    assert!(json["http"]["ok"].as_u64().unwrap() > 0, "{}", json["http"]);
    assert_eq!(json["http"]["errors"], 0);
    assert!(report.table().contains("[burn_down]"));
    assert_eq!(scratch_databases().await, 0, "scratch database left behind");
}
