//! What `/metrics` says is what the node did: a `weir worker` process
//! scraped on `WEIR_WORKER_BIND` after it ran jobs, and the web node after
//! it took enqueues. The worker's JSON log lines about a job carry the
//! job's id, kind, queue and attempt.

mod common;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;

fn database_url(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap()
    )
}

/// A loopback port nobody listens on (free when this returns).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` over HTTP/1.0: the status line and the body, or `None`
/// when nothing answers yet.
fn get(port: u16, path: &str) -> Option<(String, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_string(), body.to_string()))
}

/// The value of the sample `series` (name and labels exactly as
/// rendered), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// A `weir worker` process, killed if the test ends early.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[sqlx::test]
async fn a_worker_node_serves_what_it_did_and_logs_jobs_as_json(pool: PgPool) {
    let port = free_port();
    let mut node = Node(
        Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(["worker", "--queues", "metered=4"])
            .env("DATABASE_URL", database_url(&pool))
            .env("WEIR_WORKER_BIND", format!("127.0.0.1:{port}"))
            .env("WEIR_LOG_FORMAT", "json")
            .env("RUST_LOG", "weir=debug")
            .env("WEIR_BACKOFF_BASE_MS", "10")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut ids = Vec::new();
    for i in 0..5 {
        let id: uuid::Uuid = sqlx::query_scalar(
            "SELECT weir.enqueue('demo.echo_attempt', jsonb_build_object('ms', $1::int), queue => 'metered')",
        )
        .bind(i)
        .fetch_one(&pool)
        .await
        .unwrap();
        ids.push(id);
    }
    let failing: uuid::Uuid = sqlx::query_scalar(
        "SELECT weir.enqueue('demo.fail', '{}', queue => 'metered', max_attempts => 2)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    for id in ids.iter().chain([&failing]) {
        let id = weir::JobId(*id);
        eventually(Duration::from_secs(30), "the jobs end", || async {
            job(&pool, id).await.state.is_terminal().then_some(())
        })
        .await;
    }

    let (status, health) = get(port, "/healthz").expect("the node's endpoint answers");
    assert!(status.contains("200"), "{status}");
    assert_eq!(health, "ok");
    let (status, text) = get(port, "/metrics").unwrap();
    assert!(status.contains("200"), "{status}");
    let echo = r#"queue="metered",kind="demo.echo_attempt""#;
    let echo = |name: &str, extra: &str| format!("{name}{{{echo}{extra}}}");
    let fail =
        |name: &str, extra: &str| format!(r#"{name}{{queue="metered",kind="demo.fail"{extra}}}"#);
    let expect = [
        (echo("weir_jobs_claimed_total", ""), 5.0),
        (
            echo("weir_jobs_finished_total", r#",outcome="succeeded""#),
            5.0,
        ),
        (echo("weir_job_duration_seconds_count", ""), 5.0),
        (fail("weir_jobs_claimed_total", ""), 2.0),
        (
            fail("weir_jobs_finished_total", r#",outcome="retried""#),
            1.0,
        ),
        (
            fail("weir_jobs_finished_total", r#",outcome="failed""#),
            1.0,
        ),
        (fail("weir_job_duration_seconds_count", ""), 2.0),
        (
            r#"weir_job_start_delay_seconds_count{queue="metered"}"#.into(),
            7.0,
        ),
        (
            r#"weir_jobs{queue="metered",state="succeeded"}"#.into(),
            5.0,
        ),
        (r#"weir_jobs{queue="metered",state="failed"}"#.into(), 1.0),
        ("weir_leader".into(), 1.0),
    ];
    for (series, value) in expect {
        assert_eq!(sample(&text, &series), Some(value), "{series} in\n{text}");
    }
    // A histogram's buckets are cumulative and end with every observation.
    let inf =
        r#"weir_job_duration_seconds_bucket{le="+Inf",queue="metered",kind="demo.echo_attempt"}"#;
    assert_eq!(sample(&text, inf), Some(5.0), "{inf}");
    let batches = r#"weir_claim_batch_size_sum{queue="metered"}"#;
    assert_eq!(sample(&text, batches), Some(7.0), "{batches} in\n{text}");
    assert!(
        sample(&text, r#"weir_db_pool_connections{state="in_use"}"#).is_some(),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");

    // Stop the node and read what it logged.
    let pid = node.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut stderr = String::new();
    node.0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = node.0.wait().unwrap();
    assert!(status.success(), "{status}: {stderr}");
    let id = ids[0].to_string();
    let line: serde_json::Value = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|l: &serde_json::Value| l["span"]["id"] == json!(id))
        .unwrap_or_else(|| panic!("no JSON line about job {id} in:\n{stderr}"));
    assert_eq!(line["span"]["kind"], "demo.echo_attempt", "{line}");
    assert_eq!(line["span"]["queue"], "metered", "{line}");
    assert_eq!(line["span"]["attempt"], 1, "{line}");
}

#[sqlx::test]
async fn the_web_node_counts_its_requests_and_enqueues(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    for _ in 0..3 {
        cli.post("/v1/jobs")
            .body_json(&json!({"kind": "metered.web", "queue": "webq"}))
            .send()
            .await
            .assert_status(poem::http::StatusCode::CREATED);
    }
    let resp = cli.get("/metrics").send().await;
    resp.assert_status_is_ok();
    resp.assert_header(
        "content-type",
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
    );
    let text = resp.0.into_body().into_string().await.unwrap();
    let enqueued = r#"weir_jobs_enqueued_total{queue="webq",kind="metered.web"}"#;
    assert_eq!(sample(&text, enqueued), Some(3.0), "{enqueued} in\n{text}");
    let available = r#"weir_jobs{queue="webq",state="available"}"#;
    assert_eq!(
        sample(&text, available),
        Some(3.0),
        "{available} in\n{text}"
    );
    let requests = r#"weir_http_requests_total{method="POST",route="/v1/jobs",status="201"}"#;
    assert!(
        sample(&text, requests).is_some_and(|n| n >= 3.0),
        "{requests} in\n{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"weir_queue_oldest_available_age_seconds{queue="webq"}"#
        )
        .map(|age| age >= 0.0),
        Some(true),
        "{text}"
    );
}
