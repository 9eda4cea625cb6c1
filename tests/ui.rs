//! The dashboard at `/ui`: served from the binary outside the token check,
//! and driven end to end in Debian's headless Chromium by `tests/ui/e2e.mjs`
//! (playwright-core) against a real web node and worker on a loopback port.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use poem::http::StatusCode;
use poem::listener::TcpAcceptor;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "e2e-secret-token";
const CHROMIUM: &str = "/usr/bin/chromium";

#[sqlx::test]
async fn ui_is_served_without_a_token_while_v1_still_needs_one(pool: PgPool) {
    let cli = api_client(&pool, &[TOKEN]).await;

    for (path, content_type) in [
        ("/ui", "text/html; charset=utf-8"),
        ("/ui/", "text/html; charset=utf-8"),
        ("/ui/app.js", "text/javascript; charset=utf-8"),
        ("/ui/batch.js", "text/javascript; charset=utf-8"),
        ("/ui/app.css", "text/css; charset=utf-8"),
        ("/ui/icon.svg", "image/svg+xml"),
    ] {
        let resp = cli.get(path).send().await;
        resp.assert_status_is_ok();
        resp.assert_header("content-type", content_type);
        let csp = resp.0.headers().get("content-security-policy").cloned();
        let csp = csp
            .expect("every asset has a CSP")
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
    }
    let page = cli
        .get("/ui")
        .send()
        .await
        .0
        .into_body()
        .into_string()
        .await;
    assert!(page.unwrap().contains("/ui/app.js"));

    cli.get("/v1/queues")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let missing = cli.get("/ui/nope.js").send().await;
    missing.assert_status(StatusCode::NOT_FOUND);
    missing.assert_header("content-type", "application/problem+json");
}

/// What the browser test needs that is not on this machine.
fn missing_browser_tools(dir: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push(format!("{CHROMIUM} (apt-get install -y chromium)"));
    }
    if !dir.join("node_modules/playwright-core").exists() {
        missing.push(format!(
            "{}/node_modules (npm ci in that folder)",
            dir.display()
        ));
    }
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        missing.push("node (Node.js)".into());
    }
    missing
}

/// Set to 1 to skip the browser test on a machine without its tools.
const SKIP_VAR: &str = "WEIR_SKIP_BROWSER_TEST";

#[sqlx::test]
async fn dashboard_end_to_end_in_headless_chromium(pool: PgPool) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/ui");
    let missing = missing_browser_tools(&dir);
    if !missing.is_empty() {
        let missing = missing.join(", ");
        // A skip that prints `ok` is easy to miss: fail unless asked to skip.
        assert!(
            std::env::var(SKIP_VAR).is_ok_and(|v| v == "1"),
            "the dashboard's browser test needs {missing}: run scripts/test, which installs them and runs the suite (or set {SKIP_VAR}=1 to skip this test)"
        );
        // Past the test harness's capture, so the line shows in a passing run.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED dashboard_end_to_end_in_headless_chromium ({SKIP_VAR}=1): missing {missing}"
        );
        return;
    }

    // The worker's and web node's logs, shown when the test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info,weir::worker::supervisor=debug,sqlx=warn")
        .with_test_writer()
        .try_init();
    // The worker and the web node share one pool, as under `weir dev`, of
    // its default size (WEIR_DB_POOL_SIZE, 10): the test's own pool holds
    // 5, and the two listeners (worker and web node) keep one each.
    let node_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect_with((*pool.connect_options()).clone())
        .await
        .unwrap();
    let worker = RunningWorker::start(
        &node_pool,
        fast_config(&[("default", 4)]),
        weir::demo::builtin(),
    );
    // The real web node with a token, on a free loopback port held from
    // bind to serve (no race for the port).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let state = weir::api::AppState::new(
        node_pool.clone(),
        weir::follow::Followers::start(node_pool.clone(), shutdown.clone())
            .await
            .unwrap(),
        weir::api::ApiConfig {
            tokens: vec![TOKEN.into()],
            ..weir::api::ApiConfig::default()
        },
    );
    let stop = shutdown.clone();
    let server = tokio::spawn(
        poem::Server::new_with_acceptor(TcpAcceptor::from_std(listener).unwrap())
            .run_with_graceful_shutdown(
                weir::api::app(state),
                async move { stop.cancelled().await },
                Some(Duration::from_secs(2)),
            ),
    );

    let artifacts = std::env::var_os("WEIR_UI_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/ui-artifacts"));
    let run = tokio::process::Command::new("node")
        .arg("e2e.mjs")
        .current_dir(&dir)
        .env("WEIR_URL", format!("http://{addr}"))
        .env("WEIR_TOKEN", TOKEN)
        .env("WEIR_ARTIFACTS", &artifacts)
        .env("CHROMIUM", CHROMIUM)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the browser test ran for over 5 minutes")
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");

    let passed = output.status.success() && stdout.contains("UI E2E PASSED");
    if !passed {
        print_diagnostics(&pool).await;
    }
    shutdown.cancel();
    server.await.unwrap().unwrap();
    worker.stop().await;
    node_pool.close().await;

    assert!(
        passed,
        "the browser test failed ({}; its output is above); screenshots in {}",
        output.status,
        artifacts.display()
    );
}

/// What the database held when the browser test failed: every job that is
/// not finished, and what each connection of the test database was doing.
async fn print_diagnostics(pool: &PgPool) {
    let jobs: Vec<(String,)> = sqlx::query_as(
        "SELECT format('%s %s %s attempt %s cancel_requested %s node %s started %s errors %s',
                       id, kind, state, attempt, cancel_requested_at, node_id, started_at, errors)
         FROM weir.jobs WHERE state NOT IN ('succeeded', 'failed', 'cancelled')
         ORDER BY created_at LIMIT 50",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    let activity: Vec<(String,)> = sqlx::query_as(
        "SELECT format('%s %s wait %s/%s since %s: %s', pid, state, wait_event_type, wait_event,
                       now() - state_change, left(query, 200))
         FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    eprintln!("--- unfinished jobs at the failure:");
    for (line,) in jobs {
        eprintln!("{line}");
    }
    eprintln!("--- connections of the test database:");
    for (line,) in activity {
        eprintln!("{line}");
    }
}
