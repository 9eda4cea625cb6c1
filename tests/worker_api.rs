//! The worker API for workers in any language, over SQL and REST: register,
//! claim (a long-poll woken by NOTIFY), heartbeat, progress, complete,
//! fail, snooze, unregister, with the built-in worker's rules (claim-token
//! fencing, cancel requests, pause, rescue of nodes that stop heartbeating).

mod common;

use std::time::Duration;

use common::*;
use poem::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use weir::maintenance::rescuer::{self, Rescuer};
use weir::{Client, JobId, JobState, NewJob};

async fn register(cli: &ApiClient, kinds: &[&str]) -> String {
    let resp = cli
        .post("/v1/workers")
        .body_json(&json!({"name": "py-1", "queues": ["default"], "kinds": kinds}))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    let body = body_json(resp).await;
    assert_eq!(body["heartbeat_interval_seconds"], 5);
    body["id"].as_str().unwrap().to_string()
}

async fn claim(cli: &ApiClient, node: &str, body: Value) -> Vec<Value> {
    let resp = cli
        .post(format!("/v1/workers/{node}/claim"))
        .body_json(&body)
        .send()
        .await;
    resp.assert_status_is_ok();
    body_json(resp).await["jobs"].as_array().unwrap().clone()
}

/// A web node, a registered REST worker, and one `py.work` job it claimed.
async fn one_claimed_job(pool: &PgPool) -> (ApiClient, String, Client, JobId, Vec<Value>) {
    let cli = api_client(pool, &[]).await;
    let node = register(&cli, &["py.work"]).await;
    let client = Client::new(pool.clone());
    let id = client
        .enqueue_job(&NewJob::new("py.work", json!({})))
        .await
        .unwrap()
        .id;
    let jobs = claim(
        &cli,
        &node,
        json!({"queue": "default", "kinds": ["py.work"]}),
    )
    .await;
    (cli, node, client, id, jobs)
}

async fn post(cli: &ApiClient, path: String, body: Value) -> (StatusCode, Value) {
    let resp = cli.post(path).body_json(&body).send().await;
    let status = resp.0.status();
    (status, body_json(resp).await)
}

#[sqlx::test]
async fn a_rest_worker_runs_sql_and_rest_jobs_to_succeeded_with_progress(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let node = register(&cli, &["py.work"]).await;
    let by_sql: uuid::Uuid = sqlx::query_scalar("SELECT weir.enqueue('py.work', '{\"n\": 1}')")
        .fetch_one(&pool)
        .await
        .unwrap();
    let by_rest = body_json(
        cli.post("/v1/jobs")
            .body_json(&json!({"kind": "py.work", "args": {"n": 2}}))
            .send()
            .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .unwrap();

    let jobs = claim(
        &cli,
        &node,
        json!({"queue": "default", "kinds": ["py.work"], "max": 10}),
    )
    .await;
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        assert_eq!(job["attempt"], 1);
        assert_eq!(job["parents"], json!([]));
        let id = job["id"].as_str().unwrap();
        let token = job["claim_token"].as_str().unwrap();
        let (status, _) = post(
            &cli,
            format!("/v1/jobs/{id}/progress"),
            json!({"claim_token": token, "done": 1, "total": 2, "message": "half"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = post(
            &cli,
            format!("/v1/jobs/{id}/complete"),
            json!({"claim_token": token, "result": {"n": job["args"]["n"]}}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let client = Client::new(pool.clone());
    for (id, n) in [(by_sql, 1), (by_rest, 2)] {
        let job = client.job(JobId(id)).await.unwrap();
        assert_eq!(job.state, JobState::Succeeded);
        assert_eq!(job.result, Some(json!({"n": n})));
        assert_eq!(job.progress.unwrap().message.as_deref(), Some("half"));
    }
    // The node is listed like a built-in one.
    let workers = body_json(cli.get("/v1/workers").send().await).await;
    assert!(
        workers["workers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == node.as_str())
    );
}

#[sqlx::test]
async fn a_stale_claim_token_answers_409_and_changes_nothing(pool: PgPool) {
    let (cli, _node, client, id, jobs) = one_claimed_job(&pool).await;
    let token = jobs[0]["claim_token"].as_str().unwrap().to_string();
    let stale = uuid::Uuid::new_v4();
    for (path, body) in [
        ("complete", json!({"claim_token": stale, "result": 1})),
        ("fail", json!({"claim_token": stale, "message": "x"})),
        ("snooze", json!({"claim_token": stale, "seconds": 5})),
        ("progress", json!({"claim_token": stale, "done": 9})),
    ] {
        let (status, problem) = post(&cli, format!("/v1/jobs/{id}/{path}"), body).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains("claim_token"));
    }
    let job = client.job(id).await.unwrap();
    assert_eq!(
        (job.state, job.progress, job.result),
        (JobState::Running, None, None)
    );
    // The current token still works; then it is stale too.
    let complete = json!({"claim_token": token, "result": "ok"});
    let (status, _) = post(&cli, format!("/v1/jobs/{id}/complete"), complete.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(&cli, format!("/v1/jobs/{id}/complete"), complete).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[sqlx::test]
async fn heartbeat_names_cancel_requests_and_a_failed_report_ends_cancelled(pool: PgPool) {
    let (cli, node, client, id, jobs) = one_claimed_job(&pool).await;
    let (status, beat) = post(&cli, format!("/v1/workers/{node}/heartbeat"), json!({})).await;
    assert_eq!(
        (status, beat["cancel_requested"].clone()),
        (StatusCode::OK, json!([]))
    );
    client.cancel(id).await.unwrap();
    let (_, beat) = post(&cli, format!("/v1/workers/{node}/heartbeat"), json!({})).await;
    assert_eq!(beat["cancel_requested"], json!([id.to_string()]));
    let token = jobs[0]["claim_token"].clone();
    let (status, _) = post(
        &cli,
        format!("/v1/jobs/{id}/fail"),
        json!({"claim_token": token, "message": "stopped on request"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(client.job(id).await.unwrap().state, JobState::Cancelled);
}

#[sqlx::test]
async fn fail_retries_until_attempts_run_out_and_snooze_spends_no_attempt(pool: PgPool) {
    let client = Client::new(pool.clone());
    let node = client
        .register_worker("sql-worker", &["default".into()], &["py.work".into()])
        .await
        .unwrap();
    let kinds = ["py.work".to_string()];
    let id = client
        .enqueue_job(&NewJob::new("py.work", json!({})).max_attempts(2))
        .await
        .unwrap()
        .id;
    let make_due = || async {
        sqlx::query("UPDATE weir.jobs SET state = 'available', run_at = now() WHERE id = $1")
            .bind(id.0)
            .execute(&pool)
            .await
            .unwrap();
    };
    let first = client
        .claim(node, "default", &kinds, 1, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        client
            .snooze_job(id, first[0].claim_token, Duration::from_secs(60))
            .await
            .unwrap()
    );
    let job = client.job(id).await.unwrap();
    assert_eq!((job.state, job.attempt), (JobState::Scheduled, 0));
    make_due().await;
    let again = client
        .claim(node, "default", &kinds, 1, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(again[0].attempt, 1);
    assert!(
        client
            .fail_job(id, again[0].claim_token, "boom", true)
            .await
            .unwrap()
    );
    let job = client.job(id).await.unwrap();
    assert_eq!(job.state, JobState::Retryable);
    assert_eq!(job.errors[0].message, "boom");
    make_due().await;
    let last = client
        .claim(node, "default", &kinds, 1, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        client
            .fail_job(id, last[0].claim_token, "boom again", true)
            .await
            .unwrap()
    );
    assert_eq!(client.job(id).await.unwrap().state, JobState::Failed);
}

#[sqlx::test]
async fn a_waiting_claim_is_woken_by_the_enqueue_not_by_its_recheck(pool: PgPool) {
    // A re-check of a minute: only the NOTIFY can end the wait in time.
    let client = Client::new(pool.clone()).with_recheck_interval(Duration::from_secs(60));
    let node = client
        .register_worker("waiting", &["default".into()], &["py.work".into()])
        .await
        .unwrap();
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move {
            let kinds = ["py.work".to_string()];
            let started = std::time::Instant::now();
            let jobs = client
                .claim(node, "default", &kinds, 1, Duration::from_secs(50))
                .await
                .unwrap();
            (jobs, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query("INSERT INTO weir.jobs (kind) VALUES ('py.work')")
        .execute(&pool)
        .await
        .unwrap();
    let (jobs, waited) = waiting.await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");
}

#[sqlx::test]
async fn a_paused_queue_gives_an_external_worker_nothing(pool: PgPool) {
    let client = Client::new(pool.clone());
    let node = client
        .register_worker("w", &["default".into()], &["py.work".into()])
        .await
        .unwrap();
    client
        .enqueue_job(&NewJob::new("py.work", json!({})))
        .await
        .unwrap();
    client.pause_queue("default").await.unwrap();
    let kinds = ["py.work".to_string()];
    assert!(
        client
            .claim(node, "default", &kinds, 5, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    client.resume_queue("default").await.unwrap();
    assert_eq!(
        client
            .claim(node, "default", &kinds, 5, Duration::ZERO)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[sqlx::test]
async fn a_node_that_stops_heartbeating_is_rescued_and_unregister_hands_back(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let client = Client::new(pool.clone());
    let kinds = ["py.work".to_string()];
    let gone = client
        .register_worker("gone", &["default".into()], &kinds)
        .await
        .unwrap();
    let polite = client
        .register_worker("polite", &["default".into()], &kinds)
        .await
        .unwrap();
    let lost = client
        .enqueue_job(&NewJob::new("py.work", json!({})))
        .await
        .unwrap()
        .id;
    let handed = client
        .enqueue_job(&NewJob::new("py.work", json!({})))
        .await
        .unwrap()
        .id;
    let first = client
        .claim(gone, "default", &kinds, 1, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(first[0].id, lost);
    client
        .claim(polite, "default", &kinds, 1, Duration::ZERO)
        .await
        .unwrap();

    sqlx::query("UPDATE weir.nodes SET heartbeat_at = now() - interval '5 minutes' WHERE id = $1")
        .bind(gone.0)
        .execute(&pool)
        .await
        .unwrap();
    Rescuer::new(pool.clone(), rescuer::Config::default())
        .run_once()
        .await
        .unwrap();
    let job = client.job(lost).await.unwrap();
    assert_eq!(job.state, JobState::Retryable);
    assert_eq!(job.errors[0].message, "worker lost");
    // The dead node's late report changes nothing, and it must register again.
    assert!(
        !client
            .complete_job(lost, first[0].claim_token, &json!(1))
            .await
            .unwrap()
    );
    let (status, problem) =
        post(&cli, format!("/v1/workers/{}/heartbeat", gone.0), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("register again")
    );

    let resp = cli.delete(format!("/v1/workers/{}", polite.0)).send().await;
    resp.assert_status_is_ok();
    assert_eq!(body_json(resp).await["handed_back"], 1);
    let job = client.job(handed).await.unwrap();
    assert_eq!((job.state, job.attempt), (JobState::Available, 0));
}

#[sqlx::test]
async fn bad_worker_api_input_answers_4xx_and_sql_raises_clearly(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    for body in [
        json!({"name": "", "queues": ["default"], "kinds": ["x"]}),
        json!({"name": "a", "queues": [], "kinds": ["x"]}),
        json!({"name": "a", "queues": ["a b"], "kinds": ["x"]}),
        json!({"name": "a", "queues": ["default"], "kinds": ["x"], "extra": 1}),
    ] {
        let resp = cli.post("/v1/workers").body_json(&body).send().await;
        assert_eq!(resp.0.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let node = register(&cli, &["x"]).await;
    let resp = cli
        .post(format!("/v1/workers/{node}/claim"))
        .body_json(&json!({"queue": "default", "kinds": ["x"], "max": 0}))
        .send()
        .await;
    assert_eq!(resp.0.status(), StatusCode::BAD_REQUEST);
    let resp = cli
        .post("/v1/workers/not-a-node/claim")
        .body_json(&json!({"queue": "default", "kinds": ["x"]}))
        .send()
        .await;
    assert_eq!(resp.0.status(), StatusCode::BAD_REQUEST);
    let unknown = uuid::Uuid::new_v4();
    let resp = cli
        .post(format!("/v1/workers/{unknown}/claim"))
        .body_json(&json!({"queue": "default", "kinds": ["x"]}))
        .send()
        .await;
    assert_eq!(resp.0.status(), StatusCode::NOT_FOUND);

    let err = sqlx::query("SELECT * FROM weir.claim($1, 'default', ARRAY['x'], 5)")
        .bind(unknown)
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is not registered"), "{err}");
    let err = sqlx::query("SELECT weir.register_worker('a', ARRAY[]::text[], ARRAY['x'])")
        .execute(&pool)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("queues must name at least one queue"),
        "{err}"
    );
}

#[sqlx::test]
async fn a_batch_of_successes_is_recorded_at_once_and_stale_ones_are_named(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let node = register(&cli, &["py.work"]).await;
    for _ in 0..3 {
        sqlx::query("INSERT INTO weir.jobs (kind) VALUES ('py.work')")
            .execute(&pool)
            .await
            .unwrap();
    }
    let jobs = claim(
        &cli,
        &node,
        json!({"queue": "default", "kinds": ["py.work"], "max": 3}),
    )
    .await;
    assert_eq!(jobs.len(), 3);
    let mut reports: Vec<Value> = jobs
        .iter()
        .map(|j| json!({"id": j["id"], "claim_token": j["claim_token"], "result": {"ok": 1}}))
        .collect();
    reports[2]["claim_token"] = json!(uuid::Uuid::new_v4());
    let (status, body) = post(&cli, "/v1/jobs/complete".into(), json!({"jobs": reports})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["recorded"], json!([jobs[0]["id"], jobs[1]["id"]]));
    assert_eq!(body["stale"], json!([jobs[2]["id"]]));
    let client = Client::new(pool.clone());
    for (job, state) in
        jobs.iter()
            .zip([JobState::Succeeded, JobState::Succeeded, JobState::Running])
    {
        let id = JobId(job["id"].as_str().unwrap().parse().unwrap());
        assert_eq!(client.job(id).await.unwrap().state, state);
    }
}

/// The claimed job hands the enqueue's trace context to the worker, over
/// REST and SQL, and nothing when the job has none.
#[sqlx::test]
async fn a_claimed_job_carries_its_trace_context(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let node = register(&cli, &["py.traced"]).await;
    let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    sqlx::query("INSERT INTO weir.jobs (kind, traceparent) VALUES ('py.traced', $1)")
        .bind(tp)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO weir.jobs (kind) VALUES ('py.traced')")
        .execute(&pool)
        .await
        .unwrap();
    let jobs = claim(
        &cli,
        &node,
        json!({"queue": "default", "kinds": ["py.traced"], "max": 1}),
    )
    .await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["traceparent"], tp, "{}", jobs[0]);
    let node: uuid::Uuid = node.parse().unwrap();
    let untraced: Option<String> = sqlx::query_scalar(
        "SELECT traceparent FROM weir.claim($1, 'default', ARRAY['py.traced'], 1)",
    )
    .bind(node)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(untraced, None);
}
