//! Nothing a client sends grows `/metrics` without bound: request metrics
//! label routes by template and methods from a fixed set, and the enqueue
//! counter keeps a bounded number of kinds. One test, as the metrics are
//! the process's: another test of this binary would add series meanwhile.

mod common;

use common::*;
use poem::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

/// The number of series (sample lines) `/metrics` shows.
async fn series(cli: &ApiClient) -> usize {
    let resp = cli.get("/metrics").send().await;
    resp.assert_status_is_ok();
    let text = resp.0.into_body().into_string().await.unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

fn random_word() -> String {
    (0..12).map(|_| fastrand::alphanumeric()).collect()
}

#[sqlx::test]
async fn random_paths_methods_and_kinds_leave_the_metrics_bounded(pool: PgPool) {
    // Unauthenticated requests to random paths, with random methods: every
    // one is answered (401 under /v1, 404 elsewhere) and counted.
    let locked = api_client(&pool, &["secret"]).await;
    let methods = [Method::GET, Method::POST, Method::DELETE];
    let send = |i: usize| {
        let path = match i % 4 {
            0 => format!("/v1/{}", random_word()),
            1 => format!("/v1/jobs/{}/{}", random_word(), random_word()),
            2 => format!("/{}", random_word()),
            _ => format!("/v1/queues/{}", random_word()),
        };
        let method = if i.is_multiple_of(7) {
            Method::from_bytes(random_word().to_uppercase().as_bytes()).unwrap()
        } else {
            methods[i % methods.len()].clone()
        };
        locked.request(method, path).send()
    };
    // Once each shape, so that every series this test can make exists.
    for i in 0..2 * 4 * 7 {
        send(i).await;
    }
    // A scrape counts itself once it is answered.
    series(&locked).await;
    let before = series(&locked).await;
    for i in 0..10_000 {
        let status = send(i).await.0.status();
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::NOT_FOUND,
                StatusCode::METHOD_NOT_ALLOWED
            ]
            .contains(&status),
            "{status}"
        );
    }
    assert_eq!(
        series(&locked).await,
        before,
        "series added by random paths"
    );

    // Enqueues of random kinds: the counter keeps a bounded set of them.
    let open = api_client(&pool, &[]).await;
    for _ in 0..2_000 {
        let resp = open
            .post("/v1/jobs")
            .body_json(&json!({"kind": random_word()}))
            .send()
            .await;
        resp.assert_status(StatusCode::CREATED);
    }
    let after = series(&open).await;
    // The capped kinds and "other", plus a few series that any enqueue
    // adds once (the queue's depth gauges, the 201s of POST /v1/jobs).
    let bound = weir::metrics::MAX_LABEL_VALUES + 1;
    assert!(
        after <= before + bound + 20,
        "{after} series after 2,000 kinds ({before} before; kinds are capped at {bound})"
    );
}
