//! Cron schedules through REST, the CLI and the Rust `Worker`: round
//! trips, and bad input answered with a 4xx or a one-line error.

mod common;

use std::time::Duration;

use common::*;
use poem::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use weir::client::NewSchedule;
use weir::worker::Registry;
use weir::{Client, JobState};

async fn put(cli: &ApiClient, name: &str, body: Value) -> (StatusCode, Value) {
    let resp = cli
        .put(format!("/v1/schedules/{name}"))
        .body_json(&body)
        .send()
        .await;
    let status = resp.0.status();
    (status, body_json(resp).await)
}

async fn get(cli: &ApiClient, path: &str) -> (StatusCode, Value) {
    let resp = cli.get(path).send().await;
    let status = resp.0.status();
    (status, body_json(resp).await)
}

#[sqlx::test]
async fn rest_sets_reads_lists_and_deletes_a_schedule(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let (status, s) = put(
        &cli,
        "nightly",
        json!({"cron": "30 2 * * *", "kind": "report.build", "args": {"format": "pdf"},
               "timezone": "Europe/Berlin", "queue": "reports", "catch_up": "none"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["name"], "nightly");
    assert_eq!(s["timezone"], "Europe/Berlin");
    assert_eq!(s["catch_up"], "none");
    assert_eq!(s["args"], json!({"format": "pdf"}));
    assert!(s.get("error").is_none(), "absent values are omitted: {s}");

    // The scheduler fills in the next tick.
    weir::maintenance::scheduler::Scheduler::new(pool.clone(), Default::default())
        .run_once()
        .await
        .unwrap();
    let (status, s) = get(&cli, "/v1/schedules/nightly").await;
    assert_eq!(status, StatusCode::OK);
    let next = chrono::DateTime::parse_from_rfc3339(s["next_run_at"].as_str().unwrap()).unwrap();
    let local = next.with_timezone(&chrono_tz::Europe::Berlin);
    assert_eq!(local.format("%H:%M").to_string(), "02:30");

    let (status, list) = get(&cli, "/v1/schedules").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["schedules"].as_array().unwrap().len(), 1);

    let resp = cli.delete("/v1/schedules/nightly").send().await;
    assert_eq!(resp.0.status(), StatusCode::NO_CONTENT);
    let (status, problem) = get(&cli, "/v1/schedules/nightly").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("nightly"));
}

#[sqlx::test]
async fn rest_answers_bad_schedules_with_4xx_and_changes_nothing(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    for (name, body, status, says) in [
        (
            "a",
            json!({"cron": "61 * * * *", "kind": "k"}),
            422,
            "not valid",
        ),
        (
            "a",
            json!({"cron": "* * * *", "kind": "k"}),
            422,
            "5 fields",
        ),
        (
            "a",
            json!({"cron": "* * * * *", "kind": "k", "timezone": "Mars/Olympus"}),
            422,
            "unknown time zone",
        ),
        (
            "a",
            json!({"cron": "* * * * *", "kind": "k", "args": [1]}),
            422,
            "object",
        ),
        (
            "a",
            json!({"cron": "* * * * *", "kind": "k", "catch_up": "all"}),
            400,
            "",
        ),
        (
            "a",
            json!({"cron": "* * * * *", "kind": "k", "extra": 1}),
            400,
            "",
        ),
        ("a", json!({"kind": "k"}), 400, ""),
        (
            "a%20b",
            json!({"cron": "* * * * *", "kind": "k"}),
            400,
            "schedule names",
        ),
    ] {
        let (got, problem) = put(&cli, name, body.clone()).await;
        assert_eq!(got.as_u16(), status, "{body}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(says),
            "{problem}"
        );
    }
    let (status, problem) = get(&cli, "/v1/schedules/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let resp = cli.delete("/v1/schedules/nope").send().await;
    assert_eq!(resp.0.status(), StatusCode::NOT_FOUND);
    let (_, list) = get(&cli, "/v1/schedules").await;
    assert_eq!(list["schedules"], json!([]));
    // Optional fields may be null: the same as absent.
    let (status, s) = put(
        &cli,
        "a",
        json!({"cron": "* * * * *", "kind": "k", "catch_up": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["catch_up"], "latest");
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn weir(pool: &PgPool, args: &[&str]) -> Out {
    let o = pool.connect_options();
    let url = format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap()
    );
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[sqlx::test]
async fn cli_sets_lists_and_removes_a_schedule(pool: PgPool) {
    let set = weir(
        &pool,
        &[
            "schedule",
            "set",
            "nightly",
            "30 2 * * *",
            "report.build",
            r#"{"format":"pdf"}"#,
            "--tz",
            "Europe/Berlin",
            "--queue",
            "reports",
            "--catch-up",
            "none",
        ],
    )
    .await;
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(
        set.stdout.contains("schedule nightly set; next run 20"),
        "{}",
        set.stdout
    );
    let stored = Client::new(pool.clone()).schedule("nightly").await.unwrap();
    assert_eq!(
        (
            stored.cron.as_str(),
            stored.timezone.as_str(),
            stored.queue.as_str()
        ),
        ("30 2 * * *", "Europe/Berlin", "reports")
    );
    assert_eq!(stored.catch_up, "none");
    assert_eq!(stored.args, serde_json::json!({"format": "pdf"}));

    let list = weir(&pool, &["schedules"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("NEXT RUN"), "{}", list.stdout);
    assert!(list.stdout.contains("nightly"), "{}", list.stdout);
    let json = weir(&pool, &["schedules", "--json"]).await;
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["schedules"][0]["name"], "nightly");

    for (args, says) in [
        (vec!["schedule", "set", "x", "61 * * * *", "k"], "not valid"),
        (
            vec![
                "schedule",
                "set",
                "x",
                "* * * * *",
                "k",
                "--tz",
                "Mars/Olympus",
            ],
            "unknown time zone",
        ),
        (
            vec!["schedule", "set", "x", "* * * * *", "k", "[1]"],
            "JSON object",
        ),
        (vec!["schedule", "rm", "nope"], "schedule 'nope' not found"),
    ] {
        let out = weir(&pool, &args).await;
        assert_ne!(out.code, 0, "{args:?}");
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {:?}", out.stderr);
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(says),
            "{}",
            lines[0]
        );
    }

    let rm = weir(&pool, &["schedule", "rm", "nightly"]).await;
    assert_eq!(rm.code, 0, "{}", rm.stderr);
    assert!(
        Client::new(pool.clone())
            .schedules()
            .await
            .unwrap()
            .is_empty()
    );
}

#[sqlx::test]
async fn schedules_declared_on_a_worker_are_set_at_start_and_run(pool: PgPool) {
    let recorder = Recorder::default();
    let mut worker = weir::Worker::new(pool.clone(), fast_config(&[("default", 2)]))
        .with_registry(registry(&recorder));
    worker.schedule(
        NewSchedule::new("every-second", "* * * * * *", "test.echo").args(json!({"n": 1})),
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let handle = tokio::spawn(worker.run(shutdown.clone()));
    let id = eventually(Duration::from_secs(15), "a tick's job", || async {
        Client::new(pool.clone())
            .schedule("every-second")
            .await
            .ok()
            .and_then(|s| s.last_job_id)
    })
    .await;
    let job = wait_for_state(
        &pool,
        weir::JobId(id),
        JobState::Succeeded,
        Duration::from_secs(15),
    )
    .await;
    shutdown.cancel();
    handle.await.unwrap().unwrap();
    assert_eq!(job.result, Some(json!({"n": 1})));
    assert!(
        job.unique_key
            .unwrap()
            .starts_with("schedule:every-second:")
    );

    // A declaration the cron library refuses stops the worker at start.
    let mut bad = weir::Worker::new(pool.clone(), fast_config(&[("default", 1)]))
        .with_registry(Registry::new());
    bad.register(Recorder::default());
    bad.schedule(NewSchedule::new("bad", "61 * * * *", "test.record"));
    let e = bad.run(Default::default()).await.unwrap_err();
    assert!(e.to_string().contains("not valid"), "{e}");
}
