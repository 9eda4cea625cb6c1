//! The REST API's workflow endpoints, `depends_on` on `POST /v1/jobs`,
//! and the parents a REST worker's claim returns.

mod common;

use std::time::Duration;

use common::*;
use poem::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

async fn post(cli: &ApiClient, path: &str, body: Value) -> (StatusCode, Value) {
    let resp = cli.post(path).body_json(&body).send().await;
    let status = resp.0.status();
    (status, body_json(resp).await)
}

async fn get(cli: &ApiClient, path: &str) -> (StatusCode, Value) {
    let resp = cli.get(path).send().await;
    let status = resp.0.status();
    (status, body_json(resp).await)
}

async fn claim(cli: &ApiClient, node: &str) -> Vec<Value> {
    let path = format!("/v1/workers/{node}/claim");
    let body = json!({"queue": "default", "kinds": ["py.work"], "max": 10});
    let (status, body) = post(cli, &path, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["jobs"].as_array().unwrap().clone()
}

fn item(name: &str) -> Value {
    json!({"name": name, "steps": 2, "step_ms": 10})
}

#[sqlx::test]
async fn a_workflow_is_submitted_read_with_counts_and_waited_for(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let (status, wf) = post(
        &cli,
        "/v1/workflows",
        json!({"name": "chord", "jobs": [
            {"ref": "a", "kind": "demo.process_item", "args": item("a")},
            {"ref": "b", "kind": "demo.process_item", "args": item("b")},
            {"ref": "sum", "kind": "demo.process_item", "args": item("sum"), "depends_on": ["a", "b"]}
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{wf}");
    let id = wf["id"].as_str().unwrap().to_string();
    assert_eq!(wf["name"], "chord");
    assert_eq!(wf["state"], "running");
    assert_eq!(wf["job_count"], 3);
    assert_eq!(wf["counts"]["available"], 2);
    assert_eq!(wf["counts"]["pending"], 1);
    let jobs = wf["jobs"].as_array().unwrap();
    assert_eq!(jobs[2]["ref"], "sum");
    assert_eq!(jobs[2]["workflow_id"], json!(id));
    assert_eq!(jobs[2]["depends_on"], json!([jobs[0]["id"], jobs[1]["id"]]));
    assert!(jobs[0].get("depends_on").is_none(), "absent when unset");

    // A pending job names the parents it still waits on.
    let sum_id = jobs[2]["id"].as_str().unwrap().to_string();
    let (_, sum) = get(&cli, &format!("/v1/jobs/{sum_id}")).await;
    assert_eq!(sum["state"], "pending");
    assert_eq!(sum["waiting_on"], json!([jobs[0]["id"], jobs[1]["id"]]));

    // A short wait with nobody to run them answers as it is.
    let (status, still) = get(&cli, &format!("/v1/workflows/{id}?wait=0.2")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(still["state"], "running");

    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 4)]),
        full_registry(&recorder),
    );
    let (status, done) = get(&cli, &format!("/v1/workflows/{id}?wait=10")).await;
    worker.stop().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["counts"]["succeeded"], 3);
    assert_eq!(done["progress"]["done"], 6.0);
    assert_eq!(done["progress"]["total"], 6.0);
    assert!(done.get("finished_at").is_some());
    for job in done["jobs"].as_array().unwrap() {
        assert!(
            job["result"]["result"]
                .as_str()
                .unwrap()
                .starts_with("Processed item")
        );
    }

    // Listed newest first, without jobs; cursor pages on.
    let (_, second) = post(
        &cli,
        "/v1/workflows",
        json!({"jobs": [{"ref": "x", "kind": "nobody.serves"}]}),
    )
    .await;
    let (status, page) = get(&cli, "/v1/workflows?limit=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["workflows"][0]["id"], second["id"]);
    assert!(page["workflows"][0].get("jobs").is_none());
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, next) = get(&cli, &format!("/v1/workflows?limit=1&cursor={cursor}")).await;
    assert_eq!(next["workflows"][0]["id"], json!(id));
}

#[sqlx::test]
async fn bad_workflows_are_refused_with_4xx_and_store_nothing(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let cases = [
        (
            json!({"jobs": [
                {"ref": "a", "kind": "k", "depends_on": ["b"]},
                {"ref": "b", "kind": "k", "depends_on": ["a"]}
            ]}),
            "cycle",
        ),
        (
            json!({"jobs": [{"ref": "a", "kind": "k", "depends_on": ["zz"]}]}),
            "\"zz\"",
        ),
        (
            json!({"jobs": [{"ref": "a", "kind": "k"}, {"ref": "a", "kind": "k"}]}),
            "more than one",
        ),
        (
            json!({"jobs": [{"ref": "a", "kind": "k", "args": [1]}]}),
            "args must be a JSON object",
        ),
    ];
    for (body, words) in cases {
        let (status, problem) = post(&cli, "/v1/workflows", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(words), "{body}: {detail}");
    }
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({"ref": i.to_string(), "kind": "k"}))
        .collect();
    let (status, _) = post(&cli, "/v1/workflows", json!({"jobs": too_many})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post(
        &cli,
        "/v1/workflows",
        json!({"jobs": [{"ref": "a", "kind": "k", "nope": 1}]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&cli, &format!("/v1/workflows/{}", uuid::Uuid::nil())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(
        &cli,
        &format!("/v1/workflows/{}/cancel", uuid::Uuid::nil()),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stored: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM weir.jobs) + (SELECT count(*) FROM weir.workflows)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);
}

#[sqlx::test]
async fn cancelling_a_workflow_over_rest_cancels_its_unfinished_jobs(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let (_, wf) = post(
        &cli,
        "/v1/workflows",
        json!({"jobs": [
            {"ref": "a", "kind": "nobody.serves"},
            {"ref": "b", "kind": "nobody.serves", "depends_on": ["a"]}
        ]}),
    )
    .await;
    let id = wf["id"].as_str().unwrap();
    let (status, after) = post(&cli, &format!("/v1/workflows/{id}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["state"], "failed");
    assert_eq!(after["counts"]["cancelled"], 2);
}

#[sqlx::test]
async fn post_jobs_takes_depends_on_and_a_rest_worker_claims_the_parents(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let (_, parent) = post(&cli, "/v1/jobs", json!({"kind": "py.work"})).await;
    let parent_id = parent["id"].clone();
    let (status, child) = post(
        &cli,
        "/v1/jobs",
        json!({"kind": "py.work", "depends_on": [parent_id]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(child["state"], "pending");
    assert_eq!(child["depends_on"], json!([parent_id]));
    let (status, problem) = post(
        &cli,
        "/v1/jobs",
        json!({"kind": "py.work", "depends_on": [uuid::Uuid::nil()]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );

    let (_, node) = post(
        &cli,
        "/v1/workers",
        json!({"name": "py-1", "queues": ["default"], "kinds": ["py.work"]}),
    )
    .await;
    let node = node["id"].as_str().unwrap().to_string();
    let first = claim(&cli, &node).await;
    assert_eq!(first.len(), 1, "the child waits");
    assert_eq!(first[0]["parents"], json!([]));
    let token = first[0]["claim_token"].as_str().unwrap();
    let (status, _) = post(
        &cli,
        &format!("/v1/jobs/{}/complete", parent_id.as_str().unwrap()),
        json!({"claim_token": token, "result": {"answer": 42}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let second = eventually(
        Duration::from_secs(5),
        "the child to be claimable",
        || async {
            let jobs = claim(&cli, &node).await;
            (!jobs.is_empty()).then_some(jobs)
        },
    )
    .await;
    assert_eq!(second[0]["id"], child["id"]);
    assert_eq!(
        second[0]["parents"],
        json!([{"id": parent_id, "kind": "py.work", "result": {"answer": 42}}])
    );
}

#[sqlx::test]
async fn workflow_events_stream_until_every_job_finished(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let (_, wf) = post(
        &cli,
        "/v1/workflows",
        json!({"jobs": [{"ref": "a", "kind": "demo.process_item", "args": item("a")}]}),
    )
    .await;
    let id = wf["id"].as_str().unwrap();
    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 4)]),
        full_registry(&recorder),
    );
    let resp = cli.get(format!("/v1/workflows/{id}/events")).send().await;
    resp.assert_status_is_ok();
    let text = tokio::time::timeout(Duration::from_secs(20), resp.0.into_body().into_string())
        .await
        .expect("the stream ends after the workflow finished")
        .unwrap();
    worker.stop().await;
    let events: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(events[0]["type"], "state");
    assert_eq!(events.last().unwrap()["state"], "succeeded");
    assert_eq!(
        events.last().unwrap()["workflow"]["jobs"][0]["state"],
        "succeeded"
    );
}

/// What the database would refuse (NUL in text) or store but could not
/// give back (a number beyond 1e300 in args) is a 4xx for the whole
/// workflow, and the job list stays readable.
#[sqlx::test]
async fn unstorable_workflow_jobs_are_refused_and_the_list_stays_readable(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let bad_jobs = [
        json!({"ref": "a", "kind": "x\u{0}y"}),
        json!({"ref": "a\u{0}", "kind": "x"}),
        json!({"ref": "a", "kind": "x", "args": {"n": 1.7e308}}),
        json!({"ref": "a", "kind": "x", "queue": "q\u{0}"}),
    ];
    for job in bad_jobs {
        let (status, body) = post(&cli, "/v1/workflows", json!({"jobs": [job]})).await;
        assert!(status.is_client_error(), "{status} {body} for {job}");
    }
    let (status, body) = post(
        &cli,
        "/v1/workflows",
        json!({"name": "n\u{0}", "jobs": [item("a")]}),
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    let (status, _) = get(&cli, "/v1/jobs").await;
    assert_eq!(status, StatusCode::OK);
}
