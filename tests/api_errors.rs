//! Bad input over HTTP answers 4xx problem JSON and creates nothing; auth;
//! an unreachable database answers 503; the committed spec is current.

mod common;

use common::*;
use poem::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

async fn job_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn assert_problem(resp: poem::test::TestResponse, status: StatusCode) -> serde_json::Value {
    resp.assert_status(status);
    resp.assert_content_type("application/problem+json");
    let body = body_json(resp).await;
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["title"].is_string() && body["type"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

#[sqlx::test]
async fn each_kind_of_bad_enqueue_answers_4xx_problem_json_and_creates_nothing(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let raw_cases: Vec<(&str, StatusCode)> = vec![
        ("{\"kind\":", StatusCode::BAD_REQUEST),
        ("not json", StatusCode::BAD_REQUEST),
        ("[]", StatusCode::BAD_REQUEST),
        ("{}", StatusCode::BAD_REQUEST),
        ("{\"kind\": 5}", StatusCode::BAD_REQUEST),
        ("{\"kind\": \"\"}", StatusCode::BAD_REQUEST),
        ("{\"kind\": \"x\", \"unknown\": 1}", StatusCode::BAD_REQUEST),
        (
            "{\"kind\": \"x\", \"priority\": 40000}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"kind\": \"x\", \"priority\": \"high\"}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"kind\": \"x\", \"max_attempts\": 0}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"kind\": \"x\", \"timeout_seconds\": -1}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"kind\": \"x\", \"queue\": \"has space\"}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"kind\": \"x\", \"delay_seconds\": -5}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"kind\": \"x\", \"run_at\": \"yesterday\"}",
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"kind\": \"x\", \"args\": [1, 2]}",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "{\"kind\": \"x\", \"args\": \"s\"}",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("{\"kind\": \"   \"}", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "{\"kind\": \"x\", \"delay_seconds\": 1, \"run_at\": \"2030-01-01T00:00:00Z\"}",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, status) in raw_cases {
        let resp = cli
            .post("/v1/jobs")
            .content_type("application/json")
            .body(body)
            .send()
            .await;
        let status_seen = resp.0.status();
        assert_eq!(status_seen, status, "body {body}");
        assert_problem(resp, status).await;
    }
    // Wrong content type.
    let resp = cli
        .post("/v1/jobs")
        .content_type("text/plain")
        .body("kind=x")
        .send()
        .await;
    assert!(resp.0.status().is_client_error());
    resp.assert_content_type("application/problem+json");
    // Oversize body (declared and chunked alike).
    let big = json!({"kind": "x", "args": {"blob": "a".repeat(1_100_000)}}).to_string();
    let resp = cli
        .post("/v1/jobs")
        .content_type("application/json")
        .body(big)
        .send()
        .await;
    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
    // A bad queue name is named in the answer.
    let body = assert_problem(
        cli.post("/v1/jobs")
            .body_json(&json!({"kind": "x", "queue": "has space"}))
            .send()
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("queue \"has space\" is not a queue name"),
        "{detail}"
    );
    // What to fix is named in plain words.
    for (body, says) in [
        ("{}", "kind is required"),
        ("", "a JSON object is required"),
        ("{\"kind\": 5}", "kind must be a string"),
        (
            "{\"kind\": \"x\", \"priority\": \"high\"}",
            "expected a whole number",
        ),
    ] {
        let resp = cli
            .post("/v1/jobs")
            .content_type("application/json")
            .body(body)
            .send()
            .await;
        let problem = assert_problem(resp, StatusCode::BAD_REQUEST).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "body {body:?}: {detail}");
    }
    assert_eq!(job_count(&pool).await, 0);
}

#[sqlx::test]
async fn bad_query_parameters_are_named_with_what_they_must_be(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let id = uuid::Uuid::new_v4();
    for (query, says) in [
        (format!("/v1/jobs/{id}?wait=abc"), "wait must be a number"),
        (
            "/v1/jobs?limit=abc".to_string(),
            "limit must be a whole number",
        ),
        ("/v1/jobs?limit=0".to_string(), "limit must be at least 1"),
    ] {
        let problem = assert_problem(cli.get(&query).send().await, StatusCode::BAD_REQUEST).await;
        assert_eq!(problem["detail"], says, "{query}");
    }
}

#[sqlx::test]
async fn the_root_sends_people_to_the_dashboard(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let resp = cli.get("/").send().await;
    resp.assert_status(StatusCode::SEE_OTHER);
    resp.assert_header("location", "/ui");
}

#[sqlx::test]
async fn malformed_ids_unknown_routes_and_methods_answer_problem_json(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let body = assert_problem(
        cli.get("/v1/jobs/not-a-uuid").send().await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("not a job id"));
    assert_problem(
        cli.post("/v1/jobs/123/cancel").send().await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        cli.get(format!("/v1/jobs/{}", uuid::Uuid::new_v4()))
            .send()
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        cli.get("/v1/nothing-here").send().await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let resp = cli.delete("/v1/jobs").send().await;
    resp.assert_header("allow", "GET, POST");
    assert_problem(resp, StatusCode::METHOD_NOT_ALLOWED).await;
    let resp = cli
        .put("/v1/jobs/00000000-0000-0000-0000-000000000000/cancel")
        .send()
        .await;
    resp.assert_header("allow", "POST");
    assert_problem(resp, StatusCode::METHOD_NOT_ALLOWED).await;
    assert_problem(
        cli.get("/v1/jobs?limit=0").send().await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        cli.get("/v1/jobs?state=done").send().await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        cli.get("/v1/jobs?cursor=zzz").send().await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        cli.get("/v1/jobs/x?wait=-1").send().await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        cli.post("/v1/queues/bad%20name/pause").send().await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[sqlx::test]
async fn configured_tokens_are_required_on_v1_only(pool: PgPool) {
    let cli = api_client(&pool, &["s3cret", "other"]).await;
    let body = json!({"kind": "x"});
    let resp = cli.post("/v1/jobs").body_json(&body).send().await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    let resp = cli
        .post("/v1/jobs")
        .header("Authorization", "Bearer wrong")
        .body_json(&body)
        .send()
        .await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    assert_problem(cli.get("/v1/queues").send().await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(job_count(&pool).await, 0);

    let resp = cli
        .post("/v1/jobs")
        .header("Authorization", "Bearer other")
        .body_json(&body)
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    for open in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"] {
        let resp = cli.get(open).send().await;
        assert_eq!(resp.0.status(), StatusCode::OK, "{open} stays open");
    }
}

#[tokio::test]
async fn an_unreachable_database_answers_503() {
    // Nothing listens on port 1.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_lazy("postgres://postgres@127.0.0.1:1/weir")
        .unwrap();
    let state = weir::api::AppState::new(
        pool.clone(),
        weir::follow::Followers::detached(pool),
        weir::api::ApiConfig::default(),
    );
    let cli = poem::test::TestClient::new(weir::api::app(state));
    let resp = cli
        .post("/v1/jobs")
        .body_json(&json!({"kind": "x"}))
        .send()
        .await;
    let body = assert_problem(resp, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        !body["detail"].as_str().unwrap().contains("127.0.0.1"),
        "no database text: {body}"
    );
    assert_problem(
        cli.get("/v1/queues").send().await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    cli.get("/readyz")
        .send()
        .await
        .assert_status(StatusCode::SERVICE_UNAVAILABLE);
    cli.get("/healthz").send().await.assert_status_is_ok();
}

#[test]
fn committed_openapi_json_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"))
        .expect("openapi.json is committed");
    let generated = weir::api::spec_json();
    assert!(
        committed == generated,
        "openapi.json is stale: regenerate it with `cargo run -- openapi > openapi.json` and commit it"
    );
}
