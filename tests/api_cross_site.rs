//! A page of another site cannot change state through a browser (a form
//! post, a fetch): such requests answer 403 unless a bearer token vouches
//! for them; the dashboard's own requests and programs' pass.

mod common;

use common::*;
use poem::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

const HOST: &str = "127.0.0.1:8000";

async fn queued_job(cli: &ApiClient) -> String {
    let resp = cli
        .post("/v1/jobs")
        .body_json(&json!({"kind": "nobody.serves"}))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    body_json(resp).await["id"].as_str().unwrap().to_string()
}

async fn state_of(cli: &ApiClient, id: &str) -> String {
    body_json(cli.get(format!("/v1/jobs/{id}")).send().await).await["state"]
        .as_str()
        .unwrap()
        .to_string()
}

#[sqlx::test]
async fn cross_site_posts_are_refused_without_a_token(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let id = queued_job(&cli).await;
    let cancel = format!("/v1/jobs/{id}/cancel");
    let refused: [&[(&str, &str)]; 4] = [
        &[("Sec-Fetch-Site", "cross-site")],
        &[("Sec-Fetch-Site", "same-site")],
        &[("Origin", "http://evil.example")],
        &[("Origin", "http://127.0.0.1:3000")],
    ];
    for headers in refused {
        let mut req = cli.post(&cancel).header("Host", HOST);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req
            .content_type("application/x-www-form-urlencoded")
            .send()
            .await;
        resp.assert_status(StatusCode::FORBIDDEN);
        resp.assert_content_type("application/problem+json");
        let detail = body_json(resp).await["detail"].to_string();
        assert!(detail.contains("cross-site"), "{headers:?}: {detail}");
    }
    for path in ["/v1/queues/default/pause", "/v1/jobs"] {
        let resp = cli
            .post(path)
            .header("Sec-Fetch-Site", "cross-site")
            .body_json(&json!({"kind": "x"}))
            .send()
            .await;
        resp.assert_status(StatusCode::FORBIDDEN);
    }
    assert_eq!(state_of(&cli, &id).await, "available", "nothing changed");
    // Reading across sites is not a change: the browser's own rules apply.
    cli.get(format!("/v1/jobs/{id}"))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .assert_status_is_ok();
}

#[sqlx::test]
async fn same_origin_pages_and_programs_may_post(pool: PgPool) {
    let cli = api_client(&pool, &[]).await;
    let allowed: [&[(&str, &str)]; 4] = [
        // The dashboard at /ui, in a browser that sends Sec-Fetch-Site.
        &[
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", "http://127.0.0.1:8000"),
        ],
        // An older browser: the Origin is the server's own.
        &[("Origin", "http://127.0.0.1:8000")],
        // A user's own navigation.
        &[("Sec-Fetch-Site", "none")],
        // curl, a client library: neither header.
        &[],
    ];
    for headers in allowed {
        let id = queued_job(&cli).await;
        let mut req = cli
            .post(format!("/v1/jobs/{id}/cancel"))
            .header("Host", HOST);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.assert_status_is_ok();
        assert_eq!(state_of(&cli, &id).await, "cancelled", "{headers:?}");
    }
}

#[sqlx::test]
async fn a_valid_token_vouches_for_a_cross_site_request(pool: PgPool) {
    let cli = api_client(&pool, &["t0ken"]).await;
    let resp = cli
        .post("/v1/jobs")
        .header("Authorization", "Bearer t0ken")
        .header("Sec-Fetch-Site", "cross-site")
        .body_json(&json!({"kind": "x"}))
        .send()
        .await;
    resp.assert_status(StatusCode::CREATED);
    // Without it, the token check answers first.
    cli.post("/v1/jobs")
        .header("Sec-Fetch-Site", "cross-site")
        .body_json(&json!({"kind": "x"}))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}
