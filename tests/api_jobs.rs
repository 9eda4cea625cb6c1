//! The REST API's job endpoints, through an in-process web node.

mod common;

use std::time::Duration;

use common::*;
use poem::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

fn id_of(job: &Value) -> String {
    job["id"].as_str().unwrap().to_string()
}

#[sqlx::test]
async fn process_item_full_loop_created_progress_result(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 4)]),
        full_registry(&recorder),
    );
    let cli = api_client(&pool, &[]).await;

    let resp = cli
        .post("/v1/jobs")
        .body_json(&json!({"kind": "demo.process_item", "args": {"name": "x", "steps": 10, "step_ms": 100}}))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let location = resp
        .0
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let job = body_json(resp).await;
    assert_eq!(location, format!("/v1/jobs/{}", id_of(&job)));
    assert!(
        job.get("result").is_none(),
        "absent values are omitted: {job}"
    );
    assert!(job.get("finished_at").is_none());

    // Progress is visible while it runs.
    let seen = eventually(
        Duration::from_secs(10),
        "progress while running",
        || async {
            let j = body_json(cli.get(&location).send().await).await;
            (j["state"] == "running" && j["progress"]["done"].as_i64().unwrap_or(0) >= 1)
                .then_some(j)
        },
    )
    .await;
    assert_eq!(seen["progress"]["total"], 10);

    let done = body_json(cli.get(format!("{location}?wait=10")).send().await).await;
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["result"], json!({"result": "Processed item x"}));
    assert_eq!(done["progress"]["done"], 10);
    worker.stop().await;
}

#[sqlx::test]
async fn wait_returns_when_the_job_ends_or_the_current_state_on_timeout(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let job = body_json(
        cli.post("/v1/jobs")
            .body_json(&json!({"kind": "demo.sleep", "args": {"ms": 300}}))
            .send()
            .await,
    )
    .await;
    let url = format!("/v1/jobs/{}", id_of(&job));

    // No worker yet: the wait times out and answers the current state.
    let started = std::time::Instant::now();
    let resp = cli.get(format!("{url}?wait=1")).send().await;
    resp.assert_status_is_ok();
    assert_eq!(body_json(resp).await["state"], "available");
    assert!(started.elapsed() >= Duration::from_millis(900));

    // With a worker, a long wait returns as soon as the job is terminal.
    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 2)]),
        full_registry(&recorder),
    );
    let resp = cli.get(format!("{url}?wait=10")).send().await;
    let done = body_json(resp).await;
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["result"], json!({"slept_ms": 300}));
    worker.stop().await;
}

#[sqlx::test]
async fn events_start_with_the_current_state_carry_progress_in_order_and_end(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 2)]),
        full_registry(&recorder),
    );
    let cli = api_client(&pool, &[]).await;
    let job = body_json(
        cli.post("/v1/jobs")
            .body_json(&json!({"kind": "demo.process_item", "args": {"name": "e", "steps": 5, "step_ms": 200}}))
            .send()
            .await,
    )
    .await;
    let resp = cli
        .get(format!("/v1/jobs/{}/events", id_of(&job)))
        .send()
        .await;
    resp.assert_status_is_ok();
    let body = tokio::time::timeout(Duration::from_secs(20), resp.0.into_body().into_string())
        .await
        .expect("the stream ends after the terminal state")
        .unwrap();
    let events: Vec<Value> = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(events.len() >= 3, "{body}");
    assert_eq!(
        events[0]["type"], "state",
        "first event is the current state"
    );
    let last = events.last().unwrap();
    assert_eq!(last["type"], "state");
    assert_eq!(last["state"], "succeeded");
    assert_eq!(last["job"]["result"], json!({"result": "Processed item e"}));
    let done: Vec<i64> = events
        .iter()
        .filter_map(|e| e["progress"]["done"].as_i64())
        .collect();
    assert!(
        done.windows(2).all(|w| w[0] <= w[1]),
        "progress in order: {done:?}"
    );
    assert!(events.iter().any(|e| e["type"] == "progress"), "{body}");

    // A late client (job already finished) gets the final state and the end.
    let resp = cli
        .get(format!("/v1/jobs/{}/events", id_of(&job)))
        .send()
        .await;
    let body = resp.0.into_body().into_string().await.unwrap();
    let late: Vec<&str> = body.lines().filter(|l| l.starts_with("data: ")).collect();
    assert_eq!(late.len(), 1, "{body}");
    assert!(late[0].contains("\"succeeded\""));
    worker.stop().await;
}

#[sqlx::test]
async fn cancel_queued_job_answers_200_and_finished_job_409(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let job = body_json(
        cli.post("/v1/jobs")
            .body_json(&json!({"kind": "demo.sleep"}))
            .send()
            .await,
    )
    .await;
    let resp = cli
        .post(format!("/v1/jobs/{}/cancel", id_of(&job)))
        .send()
        .await;
    resp.assert_status(StatusCode::OK);
    let cancelled = body_json(resp).await;
    assert_eq!(cancelled["state"], "cancelled");
    assert!(cancelled["finished_at"].is_string());

    let resp = cli
        .post(format!("/v1/jobs/{}/cancel", id_of(&job)))
        .send()
        .await;
    resp.assert_status(StatusCode::CONFLICT);
    resp.assert_content_type("application/problem+json");

    let resp = cli
        .post(format!("/v1/jobs/{}/cancel", uuid::Uuid::new_v4()))
        .send()
        .await;
    resp.assert_status(StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn retry_sends_a_failed_job_back_and_keeps_its_errors(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 2)]),
        full_registry(&recorder),
    );
    let cli = api_client(&pool, &[]).await;
    let job = body_json(
        cli.post("/v1/jobs")
            .body_json(&json!({"kind": "demo.fail", "args": {"fatal": true, "message": "nope"}}))
            .send()
            .await,
    )
    .await;
    let url = format!("/v1/jobs/{}", id_of(&job));
    let failed = body_json(cli.get(format!("{url}?wait=10")).send().await).await;
    assert_eq!(failed["state"], "failed");

    // Only failed or cancelled jobs can be retried.
    let ok = body_json(
        cli.post("/v1/jobs")
            .body_json(&json!({"kind": "nobody.serves"}))
            .send()
            .await,
    )
    .await;
    let resp = cli
        .post(format!("/v1/jobs/{}/retry", id_of(&ok)))
        .send()
        .await;
    resp.assert_status(StatusCode::CONFLICT);

    let resp = cli.post(format!("{url}/retry")).send().await;
    resp.assert_status_is_ok();
    let retried = body_json(resp).await;
    assert!(["available", "running", "failed"].contains(&retried["state"].as_str().unwrap()));
    let again = body_json(cli.get(format!("{url}?wait=10")).send().await).await;
    assert_eq!(again["state"], "failed");
    assert_eq!(again["attempt"], 2);
    assert_eq!(
        again["errors"].as_array().unwrap().len(),
        2,
        "errors are kept"
    );
    worker.stop().await;
}

#[sqlx::test]
async fn unique_key_answers_200_with_the_live_job(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let body = json!({"kind": "demo.sleep", "unique_key": "invoice:42"});
    let first = cli.post("/v1/jobs").body_json(&body).send().await;
    first.assert_status(StatusCode::CREATED);
    let first = body_json(first).await;
    let second = cli.post("/v1/jobs").body_json(&body).send().await;
    second.assert_status(StatusCode::OK);
    assert_eq!(id_of(&body_json(second).await), id_of(&first));
}

#[sqlx::test]
async fn idempotency_key_returns_the_first_job_even_after_it_finished(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let body = json!({"kind": "demo.sleep", "args": {"ms": 10}});
    let first = cli
        .post("/v1/jobs")
        .header("Idempotency-Key", "req-1")
        .body_json(&body)
        .send()
        .await;
    first.assert_status(StatusCode::CREATED);
    let first = body_json(first).await;

    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 2)]),
        full_registry(&recorder),
    );
    let done = body_json(
        cli.get(format!("/v1/jobs/{}?wait=10", id_of(&first)))
            .send()
            .await,
    )
    .await;
    assert_eq!(done["state"], "succeeded");
    worker.stop().await;

    let again = cli
        .post("/v1/jobs")
        .header("Idempotency-Key", "req-1")
        .body_json(&body)
        .send()
        .await;
    again.assert_status(StatusCode::OK);
    let again = body_json(again).await;
    assert_eq!(id_of(&again), id_of(&first));
    assert_eq!(again["state"], "succeeded");

    let other = cli
        .post("/v1/jobs")
        .header("Idempotency-Key", "req-2")
        .body_json(&body)
        .send()
        .await;
    other.assert_status(StatusCode::CREATED);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 2);
}

#[sqlx::test]
async fn batch_is_all_or_nothing_and_answered_in_input_order(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let resp = cli
        .post("/v1/jobs/batch")
        .body_json(&json!({"jobs": [
            {"kind": "a", "args": {"i": 0}},
            {"kind": "b", "args": {"i": 1}, "queue": "mail"},
            {"kind": "c", "args": {"i": 2}, "priority": 3}
        ]}))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let jobs = body_json(resp).await["jobs"].as_array().unwrap().clone();
    let kinds: Vec<&str> = jobs.iter().map(|j| j["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["a", "b", "c"]);
    assert_eq!(jobs[1]["queue"], "mail");

    // One bad job: nothing is enqueued.
    let resp = cli
        .post("/v1/jobs/batch")
        .body_json(&json!({"jobs": [{"kind": "ok"}, {"kind": "bad", "max_attempts": 0}]}))
        .send()
        .await;
    assert!(resp.0.status().is_client_error());
    let resp = cli
        .post("/v1/jobs/batch")
        .body_json(&json!({"jobs": [{"kind": "ok"}, {"kind": "bad", "args": [1]}]}))
        .send()
        .await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body_json(resp).await["detail"]
            .as_str()
            .unwrap()
            .starts_with("jobs[1]")
    );
    let too_many: Vec<Value> = (0..1001).map(|_| json!({"kind": "x"})).collect();
    let resp = cli
        .post("/v1/jobs/batch")
        .body_json(&json!({"jobs": too_many}))
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 3);
}

#[sqlx::test]
async fn pagination_neither_skips_nor_repeats_while_new_jobs_arrive(pool: PgPool) {
    sqlx::query("INSERT INTO weir.jobs (kind) SELECT 'page.test' FROM generate_series(1, 25)")
        .execute(&pool)
        .await
        .unwrap();
    let cli = api_client(&pool, &[]).await;
    let first = body_json(cli.get("/v1/jobs?limit=10").send().await).await;
    let visible: Vec<String> = {
        let all: Vec<String> =
            sqlx::query_scalar("SELECT id::text FROM weir.jobs ORDER BY id DESC")
                .fetch_all(&pool)
                .await
                .unwrap();
        all
    };
    let mut seen: Vec<String> = first["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        // New jobs arrive between pages.
        sqlx::query("INSERT INTO weir.jobs (kind) SELECT 'page.new' FROM generate_series(1, 3)")
            .execute(&pool)
            .await
            .unwrap();
        let page = body_json(
            cli.get(format!("/v1/jobs?limit=10&cursor={c}"))
                .send()
                .await,
        )
        .await;
        seen.extend(page["jobs"].as_array().unwrap().iter().map(id_of));
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(
        seen, visible,
        "every job visible at the first page, once, newest first"
    );

    let filtered = body_json(
        cli.get("/v1/jobs?kind=page.new&state=available&limit=500")
            .send()
            .await,
    )
    .await;
    assert!(
        filtered["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["kind"] == "page.new")
    );
    assert!(filtered.get("next_cursor").is_none());
}

#[sqlx::test]
async fn batch_entries_sharing_a_unique_key_answer_the_same_job(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let resp = cli
        .post("/v1/jobs/batch")
        .body_json(&json!({"jobs": [
            {"kind": "a", "unique_key": "k"},
            {"kind": "b"},
            {"kind": "a", "unique_key": "k"}
        ]}))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let jobs = body_json(resp).await["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 3);
    assert_eq!(id_of(&jobs[0]), id_of(&jobs[2]));
    assert_eq!(jobs[1]["kind"], "b");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 2);
}

#[sqlx::test]
async fn concurrent_enqueues_each_get_their_own_job(pool: PgPool) {
    // Sent together, these are grouped into few INSERTs; each request must
    // still answer the job it asked for.
    let cli = api_client(&pool, &[]).await;
    let sends = (0..200).map(|i| {
        let cli = &cli;
        async move {
            let body = json!({"kind": format!("k{}", i % 3), "args": {"i": i},
                              "queue": format!("q{}", i % 2), "priority": i % 5});
            let resp = cli.post("/v1/jobs").body_json(&body).send().await;
            resp.assert_status(StatusCode::CREATED);
            let location = resp.0.headers()["location"].to_str().unwrap().to_string();
            (i, location, body_json(resp).await)
        }
    });
    let answers = futures_util::future::join_all(sends).await;
    let mut ids = std::collections::HashSet::new();
    for (i, location, job) in &answers {
        assert_eq!(job["args"]["i"], *i, "request {i} answered another job");
        assert_eq!(job["kind"], format!("k{}", i % 3));
        assert_eq!(job["queue"], format!("q{}", i % 2));
        assert_eq!(job["priority"], i % 5);
        assert_eq!(job["state"], "available");
        assert_eq!(*location, format!("/v1/jobs/{}", id_of(job)));
        assert!(ids.insert(id_of(job)));
    }
    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT id::text, (args->>'i')::bigint FROM weir.jobs")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 200);
    for (id, i) in stored {
        assert_eq!(id_of(&answers[i as usize].2), id);
    }
}

#[sqlx::test]
async fn a_job_the_database_refuses_fails_alone_among_concurrent_enqueues(pool: PgPool) {
    // Postgres refuses "\u0000" inside jsonb; the API cannot tell in advance.
    let cli = api_client(&pool, &[]).await;
    let sends = (0..21).map(|i| {
        let cli = &cli;
        async move {
            let args = if i == 10 {
                json!({"s": "a\u{0}b"})
            } else {
                json!({"i": i})
            };
            let resp = cli
                .post("/v1/jobs")
                .body_json(&json!({"kind": "x", "args": args}))
                .send()
                .await;
            (i, resp.0.status())
        }
    });
    for (i, status) in futures_util::future::join_all(sends).await {
        let expected = if i == 10 {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::CREATED
        };
        assert_eq!(status, expected, "request {i}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 20);
}

#[sqlx::test]
async fn a_batch_entry_the_database_refuses_is_named_and_nothing_is_enqueued(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let resp = cli
        .post("/v1/jobs/batch")
        .body_json(&json!({"jobs": [
            {"kind": "ok"},
            {"kind": "ok", "args": {"s": "a\u{0}b"}},
            {"kind": "ok"}
        ]}))
        .send()
        .await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let detail = body_json(resp).await["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.starts_with("jobs[1]"), "{detail}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test]
async fn concurrent_large_enqueues_are_split_across_statements_and_all_kept(pool: PgPool) {
    // 20 x 600 KB of args is over one statement's share (8 MiB): the
    // grouping splits them, and every request still gets its own job.
    let cli = api_client(&pool, &[]).await;
    let blob = "x".repeat(600_000);
    let sends = (0..20).map(|i| {
        let (cli, blob) = (&cli, blob.clone());
        async move {
            let resp = cli
                .post("/v1/jobs")
                .body_json(&json!({"kind": "big", "args": {"i": i, "blob": blob}}))
                .send()
                .await;
            resp.assert_status(StatusCode::CREATED);
            (i, body_json(resp).await)
        }
    });
    for (i, job) in futures_util::future::join_all(sends).await {
        assert_eq!(job["args"]["i"], i);
        assert_eq!(job["args"]["blob"].as_str().unwrap().len(), 600_000);
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM weir.jobs WHERE length(args->>'blob') = 600000")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, 20);
    // One statement, one transaction, one created_at (its now()): no group
    // held more than the 13 of these jobs that fit in 8 MiB.
    let largest: i64 = sqlx::query_scalar(
        "SELECT max(n) FROM (SELECT count(*) AS n FROM weir.jobs GROUP BY created_at) g",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(largest <= 13, "{largest} jobs of 600 KB in one statement");
}

/// A job subscribed to again while the removal of its last subscriber's
/// followed_jobs row is on its way stays followed (its changes still send
/// notifications, not only the 2 s safety re-read). The removal is held up
/// on a row lock, so the re-subscription comes while it is in flight.
#[sqlx::test]
async fn a_job_subscribed_again_while_its_row_is_being_removed_stays_followed(pool: PgPool) {
    let stop = tokio_util::sync::CancellationToken::new();
    let events = weir::follow::Followers::start(pool.clone(), stop.clone())
        .await
        .unwrap();
    let id = weir::Client::new(pool.clone())
        .enqueue_job(&weir::NewJob::new("test.nobody_serves", json!({})))
        .await
        .unwrap()
        .id;
    let followed = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM weir.followed_jobs WHERE job_id = $1")
            .bind(id.0)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let removals_waiting = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND query LIKE 'DELETE FROM weir.followed_jobs%'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };

    let first = events.subscribe(id).await.unwrap();
    assert_eq!(followed().await, 1);
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM weir.followed_jobs WHERE job_id = $1 FOR UPDATE")
        .bind(id.0)
        .execute(&mut *lock)
        .await
        .unwrap();
    drop(first);
    eventually(Duration::from_secs(10), "the removal waiting", || async {
        (removals_waiting().await == 1).then_some(())
    })
    .await;
    let again = tokio::spawn({
        let events = events.clone();
        async move { events.subscribe(id).await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.commit().await.unwrap();
    let again = again.await.unwrap();
    eventually(Duration::from_secs(10), "the removal done", || async {
        (removals_waiting().await == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        followed().await,
        1,
        "the followed_jobs row of a subscribed job is gone"
    );

    drop(again);
    eventually(
        Duration::from_secs(5),
        "the last followed_jobs row removed",
        || async { (followed().await == 0).then_some(()) },
    )
    .await;
    stop.cancel();
}

/// A web node's job events hub started while the database cannot be
/// reached waits for it instead of failing the node's start.
#[sqlx::test]
async fn job_events_started_while_the_database_is_unreachable_wait_for_it(pool: PgPool) {
    let mut gate = Gate::closed(&pool);
    let gated = gate.pool(&pool);
    let stop = tokio_util::sync::CancellationToken::new();
    let start = tokio::spawn(weir::follow::Followers::start(gated.clone(), stop.clone()));
    // Several times the pool's acquire timeout.
    tokio::time::sleep(Duration::from_secs(3)).await;
    if start.is_finished() {
        let err = start.await.unwrap().err();
        panic!("the hub gave up while the database was unreachable: {err:?}");
    }

    gate.open().await;
    let events = tokio::time::timeout(Duration::from_secs(20), start)
        .await
        .expect("the hub started once the database was back")
        .unwrap()
        .unwrap();
    drop(events);
    stop.cancel();
    gated.close().await;
    gate.finish().await;
}
