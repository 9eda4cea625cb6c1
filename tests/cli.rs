//! The `weir` binary's ops verbs against a fresh database: output, JSON,
//! and one-line errors with a non-zero exit for bad input.

mod common;

use std::time::Duration;

use common::*;
use sqlx::PgPool;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

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

async fn weir(pool: &PgPool, args: &[&str]) -> Out {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .env("DATABASE_URL", database_url(pool))
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

fn assert_one_line_error(out: &Out, needle: &str) {
    assert_ne!(out.code, 0, "stdout: {}", out.stdout);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {:?}", out.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(lines[0].contains(needle), "{:?} lacks {needle:?}", lines[0]);
}

#[sqlx::test]
async fn enqueue_job_and_jobs_show_the_job(pool: PgPool) {
    let out = weir(
        &pool,
        &[
            "enqueue",
            "demo.sleep",
            r#"{"ms": 5}"#,
            "--queue",
            "mail",
            "--priority",
            "-2",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = out.stdout.trim().to_string();
    assert_eq!(id.len(), 36);

    let shown = weir(&pool, &["job", &id]).await;
    assert_eq!(shown.code, 0);
    assert!(
        shown.stdout.contains("state        available"),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("queue        mail"));

    let json = weir(&pool, &["job", &id, "--json"]).await;
    let job: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(job["id"], id);
    assert_eq!(job["priority"], -2);
    assert!(job.get("result").is_none() && job.get("finished_at").is_none());

    let list = weir(&pool, &["jobs", "--queue", "mail"]).await;
    assert_eq!(list.code, 0);
    assert!(list.stdout.starts_with("ID"), "{}", list.stdout);
    assert!(list.stdout.contains(&id));
    let list = weir(&pool, &["jobs", "--state", "available", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(v["jobs"][0]["id"], id);
    let empty = weir(&pool, &["jobs", "--state", "failed", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&empty.stdout).unwrap();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 0);
}

#[sqlx::test]
async fn bad_input_gets_one_line_errors_and_changes_nothing(pool: PgPool) {
    assert_one_line_error(
        &weir(&pool, &["job", "not-a-uuid"]).await,
        "is not a job id",
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_one_line_error(&weir(&pool, &["job", &unknown]).await, "not found");
    assert_one_line_error(&weir(&pool, &["cancel", &unknown]).await, "not found");
    assert_one_line_error(&weir(&pool, &["cancel", "123"]).await, "is not a job id");
    assert_one_line_error(&weir(&pool, &["retry", &unknown]).await, "not found");
    assert_one_line_error(
        &weir(&pool, &["enqueue", "x", "{not json"]).await,
        "not valid JSON",
    );
    assert_one_line_error(
        &weir(&pool, &["enqueue", "x", "[1]"]).await,
        "args must be a JSON object",
    );
    assert_one_line_error(&weir(&pool, &["enqueue", ""]).await, "kind");
    assert_one_line_error(
        &weir(&pool, &["enqueue", "x", "--max-attempts", "0"]).await,
        "max_attempts",
    );
    assert_one_line_error(
        &weir(&pool, &["enqueue", "x", "--queue", "a b"]).await,
        "queue",
    );
    assert_one_line_error(
        &weir(&pool, &["jobs", "--state", "done"]).await,
        "unknown job state",
    );
    assert_one_line_error(&weir(&pool, &["pause", "a b"]).await, "not a queue name");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    // A clap usage error also exits non-zero.
    let out = weir(&pool, &["enqueue", "x", "--delay", "soon"]).await;
    assert_ne!(out.code, 0);
    // An id that is not a UUID is not called an invalid job.
    let out = weir(&pool, &["job", "not-a-uuid"]).await;
    assert!(!out.stderr.contains("invalid job"), "{}", out.stderr);
    // A missing argument's usage line does not list options set through
    // the environment (DATABASE_URL here) as if they were required.
    let out = weir(&pool, &["enqueue"]).await;
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("Usage: weir enqueue [OPTIONS] <KIND>"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("--database-url <"), "{}", out.stderr);
}

#[sqlx::test]
async fn a_missing_database_is_named_in_one_line_with_what_to_do(pool: PgPool) {
    let url = database_url(&pool);
    let server = url.rsplit_once('/').unwrap().0;
    let missing = format!("{server}/weir_no_such_database");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["jobs"])
        .env("DATABASE_URL", &missing)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{missing}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("weir migrate"), "{stderr}");
    assert!(!stderr.contains(" at line "), "{stderr}");
}

#[sqlx::test]
async fn cancel_and_retry_verbs(pool: PgPool) {
    let id = weir(&pool, &["enqueue", "nobody.serves"])
        .await
        .stdout
        .trim()
        .to_string();
    let out = weir(&pool, &["cancel", &id]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("cancelled"));
    // Cancelling a finished job is a conflict.
    assert_one_line_error(&weir(&pool, &["cancel", &id]).await, "cannot be cancelled");
    let out = weir(&pool, &["retry", &id]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_one_line_error(&weir(&pool, &["retry", &id]).await, "cannot be retried");

    // --all-failed retries only failed jobs of the given queue and kind.
    for (queue, kind) in [("mail", "k1"), ("mail", "k2"), ("other", "k1")] {
        sqlx::query(
            "INSERT INTO weir.jobs (kind, queue, state, attempt, max_attempts, started_at, finished_at, claim_token)
             VALUES ($1, $2, 'failed', 1, 1, now(), now(), gen_random_uuid())",
        )
        .bind(kind)
        .bind(queue)
        .execute(&pool)
        .await
        .unwrap();
    }
    let out = weir(
        &pool,
        &["retry", "--all-failed", "--queue", "mail", "--kind", "k1"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("1 failed jobs retried"),
        "{}",
        out.stdout
    );
    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs WHERE state = 'failed'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(failed, 2);
    let out = weir(&pool, &["retry", "--all-failed"]).await;
    assert!(
        out.stdout.contains("2 failed jobs retried"),
        "{}",
        out.stdout
    );
}

#[sqlx::test]
async fn queues_pause_and_resume_verbs(pool: PgPool) {
    weir(&pool, &["enqueue", "x", "--queue", "mail"]).await;
    let out = weir(&pool, &["pause", "mail"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = weir(&pool, &["queues"]).await;
    assert!(out.stdout.starts_with("QUEUE"), "{}", out.stdout);
    let mail = out.stdout.lines().find(|l| l.starts_with("mail")).unwrap();
    assert!(mail.contains("paused"), "{mail}");
    assert!(mail.contains('x'), "unserved kind listed: {mail}");
    weir(&pool, &["resume", "mail"]).await;
    let out = weir(&pool, &["queues", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["queues"][0]["name"], "mail");
    assert_eq!(v["queues"][0]["paused"], false);
    assert_eq!(v["queues"][0]["counts"]["available"], 1);
}

#[sqlx::test]
async fn enqueue_wait_follows_the_job_to_its_result(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 2)]),
        full_registry(&recorder),
    );
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        weir(
            &pool,
            &[
                "enqueue",
                "demo.process_item",
                r#"{"name":"w","steps":3,"step_ms":100}"#,
                "--wait",
            ],
        ),
    )
    .await
    .unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let job: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(job["state"], "succeeded");
    assert_eq!(job["result"]["result"], "Processed item w");
    assert!(out.stderr.contains("enqueued"));

    let out = weir(
        &pool,
        &["enqueue", "demo.fail", r#"{"fatal": true}"#, "--wait"],
    )
    .await;
    assert_eq!(out.code, 1, "a failed job exits 1");
    worker.stop().await;
}

#[sqlx::test]
async fn job_wait_follows_an_existing_job_to_its_end(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 2)]),
        full_registry(&recorder),
    );
    let id: uuid::Uuid = sqlx::query_scalar(
        r#"SELECT weir.enqueue('demo.process_item', '{"name":"j","steps":3,"step_ms":150}')"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let id = id.to_string();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        weir(&pool, &["job", &id, "--wait"]),
    )
    .await
    .unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("succeeded"), "{}", out.stdout);
    // Not a terminal: one progress line per change, the last one 3/3.
    assert!(out.stderr.contains("3/3"), "{}", out.stderr);

    let failed: uuid::Uuid =
        sqlx::query_scalar(r#"SELECT weir.enqueue('demo.fail', '{"fatal": true}')"#)
            .fetch_one(&pool)
            .await
            .unwrap();
    let out = weir(&pool, &["job", &failed.to_string(), "--wait", "--json"]).await;
    assert_eq!(out.code, 1, "a failed job exits 1: {}", out.stderr);
    let job: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(job["state"], "failed");

    let unknown = uuid::Uuid::nil().to_string();
    assert_one_line_error(
        &weir(&pool, &["job", &unknown, "--wait"]).await,
        "not found",
    );
    // The follows left no followed_jobs row behind.
    let followed: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.followed_jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(followed, 0);
    worker.stop().await;
}

#[tokio::test]
async fn every_verb_has_help_with_an_example() {
    for verb in [
        "dev", "serve", "worker", "migrate", "enqueue", "jobs", "job", "cancel", "retry", "queues",
        "pause", "resume", "openapi",
    ] {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"))
            .args([verb, "--help"])
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{verb} --help failed");
        assert!(
            text.contains("Example"),
            "{verb} --help has no example:\n{text}"
        );
    }
}

/// `weir enqueue --wait` of a kind no live worker serves says so on stderr
/// at once, instead of waiting with no hint.
#[sqlx::test]
async fn enqueue_wait_warns_about_an_unserved_kind(pool: PgPool) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["enqueue", "demo.proces_item", "--wait"])
        .env("DATABASE_URL", database_url(&pool))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let warning = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("warning: ") {
                return line;
            }
        }
        panic!("stderr ended without a warning");
    })
    .await
    .expect("a warning within seconds");
    assert!(warning.contains("demo.proces_item"), "{warning}");
    child.kill().await.unwrap();
}

#[sqlx::test]
async fn queue_limits_are_set_shown_and_explained(pool: PgPool) {
    let out = weir(
        &pool,
        &[
            "queue-limits",
            "mail",
            "--max-running",
            "2",
            "--rate",
            "10/min",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("max_running=2"), "{}", out.stdout);
    let out = weir(
        &pool,
        &[
            "queue-limits",
            "mail",
            "--per-key",
            "1",
            "--max-running",
            "none",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = weir(&pool, &["queues", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let q = &v["queues"][0];
    assert_eq!(
        (q["max_running"].clone(), q["max_running_per_key"].clone()),
        (serde_json::Value::Null, 1.into())
    );
    assert_eq!(
        (q["rate_limit"].clone(), q["rate_period"].clone()),
        (10.into(), 60.0.into())
    );
    let out = weir(&pool, &["queues"]).await;
    assert!(
        out.stdout.contains("per_key=1 rate=10/60s"),
        "{}",
        out.stdout
    );

    let out = weir(
        &pool,
        &[
            "enqueue",
            "demo.sleep",
            "--queue",
            "mail",
            "--key",
            "tenant-7",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = out.stdout.trim().to_string();
    assert_eq!(
        job(&pool, id.parse().unwrap())
            .await
            .concurrency_key
            .as_deref(),
        Some("tenant-7")
    );
    let out = weir(&pool, &["job", &id, "--explain"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("no_worker_for_kind: no live worker serves kind demo.sleep"),
        "{}",
        out.stdout
    );
    let out = weir(&pool, &["job", &id, "--explain", "--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["reason"], "no_worker_for_kind");

    assert_one_line_error(
        &weir(&pool, &["queue-limits", "mail", "--rate", "10"]).await,
        "not a rate",
    );
    assert_one_line_error(
        &weir(&pool, &["queue-limits", "mail", "--max-running", "0"]).await,
        "max_running must be between",
    );
}

#[sqlx::test]
async fn enqueue_depends_on_and_workflow_show_the_wait(pool: PgPool) {
    let parent = weir(&pool, &["enqueue", "nobody.serves"]).await;
    let parent = parent.stdout.trim().to_string();
    let child = weir(
        &pool,
        &["enqueue", "nobody.serves", "--depends-on", &parent],
    )
    .await;
    assert_eq!(child.code, 0, "{}", child.stderr);
    let json = weir(&pool, &["job", child.stdout.trim(), "--json"]).await;
    let job: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(job["state"], "pending");
    assert_eq!(job["depends_on"], serde_json::json!([parent]));

    let bad = weir(&pool, &["enqueue", "k", "--depends-on", "not-a-uuid"]).await;
    assert_ne!(bad.code, 0);

    let wf: uuid::Uuid = sqlx::query_scalar(
        r#"SELECT weir.create_workflow('shown', '[{"ref": "first", "kind": "k"}, {"ref": "then", "kind": "k", "depends_on": ["first"]}]')"#,
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let shown = weir(&pool, &["workflow", &wf.to_string()]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.contains("state     running"),
        "{}",
        shown.stdout
    );
    assert!(shown.stdout.contains("1 pending"), "{}", shown.stdout);
    assert!(shown.stdout.contains("then"), "{}", shown.stdout);
    let missing = weir(&pool, &["workflow", &uuid::Uuid::nil().to_string()]).await;
    assert_one_line_error(&missing, "not found");
}
