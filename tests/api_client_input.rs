//! Nothing a client can send answers 5xx: concurrent transitions of one
//! job, out-of-range times and NUL bytes answer 2xx or 4xx, in weir's own
//! words (never the database's).

mod common;

use common::*;
use futures_util::future::join_all;
use poem::http::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

fn id_of(job: &Value) -> String {
    job["id"].as_str().unwrap().to_string()
}

async fn enqueue(cli: &ApiClient, body: Value) -> String {
    let resp = cli.post("/v1/jobs").body_json(&body).send().await;
    resp.assert_status(StatusCode::CREATED);
    id_of(&body_json(resp).await)
}

/// Sends `n` POSTs to `url` at once and answers their statuses.
async fn at_once(cli: &ApiClient, url: &str, n: usize) -> Vec<u16> {
    join_all((0..n).map(|_| async move { cli.post(url).send().await.0.status().as_u16() })).await
}

#[sqlx::test]
async fn concurrent_cancels_of_one_queued_job_answer_200_or_409_never_500(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    for _ in 0..5 {
        let id = enqueue(&cli, json!({"kind": "nobody.serves"})).await;
        let statuses = at_once(&cli, &format!("/v1/jobs/{id}/cancel"), 16).await;
        assert!(
            statuses.iter().all(|s| [200, 202, 409].contains(s)),
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "exactly one cancel wins: {statuses:?}"
        );
    }
}

#[sqlx::test]
async fn concurrent_retries_of_one_failed_job_answer_200_or_409_never_500(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(
        &pool,
        fast_config(&[("default", 4)]),
        full_registry(&recorder),
    );
    let cli = api_client(&pool, &[]).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let body = json!({"kind": "demo.fail", "args": {"fatal": true}, "queue": "default"});
        ids.push(enqueue(&cli, body).await);
    }
    for id in &ids {
        let job = body_json(cli.get(format!("/v1/jobs/{id}?wait=10")).send().await).await;
        assert_eq!(job["state"], "failed");
    }
    // Stop the worker first, so that each retried job stays `available`.
    worker.stop().await;
    for id in &ids {
        let statuses = at_once(&cli, &format!("/v1/jobs/{id}/retry"), 16).await;
        assert!(
            statuses.iter().all(|s| [200, 409].contains(s)),
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{statuses:?}"
        );
    }
}

#[sqlx::test]
async fn a_run_at_outside_rfc_3339_years_answers_422(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    for run_at in ["-5000-01-01T00:00:00Z", "+20000-01-01T00:00:00Z"] {
        let resp = cli
            .post("/v1/jobs")
            .body_json(&json!({"kind": "x", "run_at": run_at}))
            .send()
            .await;
        let status = resp.0.status();
        let body = body_json(resp).await;
        assert!(status.is_client_error(), "{run_at}: {status} {body}");
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(
                body["detail"],
                "run_at must be a time in the years 0000 to 9999"
            );
        }
    }
    // A time in the past is fine: the job runs at once.
    enqueue(&cli, json!({"kind": "x", "run_at": "0001-01-01T00:00:00Z"})).await;
}

#[sqlx::test]
async fn nul_bytes_answer_4xx_in_weirs_words(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    for (query, says) in [
        ("kind=%00", "text values may not contain NUL bytes"),
        ("queue=a%00b", "is not a queue name"),
    ] {
        let resp = cli.get(format!("/v1/jobs?{query}")).send().await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        let detail = body_json(resp).await["detail"].to_string();
        assert!(detail.contains(says), "{query}: {detail}");
    }
    let cases = [
        (
            json!({"kind": "a\u{0}b"}),
            "text values may not contain NUL bytes",
        ),
        (
            json!({"kind": "x", "unique_key": "k\u{0}"}),
            "text values may not contain NUL bytes",
        ),
        (
            json!({"kind": "x", "args": {"s": "a\u{0}b"}}),
            "JSON values may not contain the NUL character",
        ),
    ];
    for (body, words) in cases {
        let resp = cli.post("/v1/jobs").body_json(&body).send().await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let detail = body_json(resp).await["detail"].to_string();
        assert!(detail.contains(words), "{body}: {detail}");
        for db_words in ["invalid byte sequence", "unsupported Unicode", "0x00"] {
            assert!(!detail.contains(db_words), "database text leaked: {detail}");
        }
    }
    // The same in a batch, named by its index.
    let resp = cli
        .post("/v1/jobs/batch")
        .body_json(&json!({"jobs": [{"kind": "ok"}, {"kind": "x", "args": {"s": "\u{0}"}}]}))
        .send()
        .await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let detail = body_json(resp).await["detail"].to_string();
    assert!(
        detail.contains("jobs[1]") && detail.contains("NUL"),
        "{detail}"
    );
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(jobs, 0);
}
