//! The web node: the typed REST API v1 (poem-openapi), its spec, Swagger
//! UI, health and metrics.
//!
//! - [`jobs`]: enqueue, read and wait, events (SSE), list, cancel, retry;
//! - [`queues`]: queue stats, pause, resume; worker nodes;
//! - [`worker_api`]: the worker API for workers in any language (register,
//!   claim, heartbeat, complete, fail, snooze, progress, unregister);
//! - [`health`]: `/healthz`, `/readyz`, `/metrics`;
//!
//! Every operation goes through the library's [`Client`] (never the SQL layer),
//! which also holds the node's one LISTEN connection for waits and streams
//! and groups concurrent enqueues into one INSERT.
//!
//! - [`problem`]: every error as `application/problem+json`;
//! - [`ui`]: the dashboard at `/ui`, served from assets in the binary;
//! - this file: assembly, auth, body limit, request metrics, serving.

pub mod health;
pub mod jobs;
pub mod problem;
pub mod queues;
pub mod string_types;
pub mod ui;
pub mod worker_api;

use std::sync::Arc;
use std::time::Duration;

use poem::http::{Method, StatusCode};
use poem::listener::TcpListener;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::auth::Bearer;
use poem_openapi::{OpenApiService, SecurityScheme, Tags};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::client::Client;
use crate::error::Result;
use crate::follow::Followers;
use problem::Problem;

/// Default cap of `?wait`.
pub const DEFAULT_WAIT_CAP: Duration = Duration::from_secs(60);
/// Default limit of a request body.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Web node settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Longest `?wait`. Default 60 s.
    pub wait_cap: Duration,
    /// Largest request body in bytes. Default 1 MiB.
    pub body_limit: usize,
    /// Accepted bearer tokens; empty means no auth. Default empty.
    pub tokens: Vec<String>,
    /// A worker node whose heartbeat is older than this is not listed.
    /// Default 30 s.
    pub node_dead_after: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            wait_cap: DEFAULT_WAIT_CAP,
            body_limit: DEFAULT_BODY_LIMIT,
            tokens: Vec::new(),
            node_dead_after: Duration::from_secs(30),
        }
    }
}

/// What every endpoint shares.
pub struct AppState {
    /// The door to every job operation: grouped enqueues, and follows
    /// through the node's [`Followers`].
    pub client: Client,
    pub config: ApiConfig,
}

impl AppState {
    /// The state of a web node on `pool` whose follows go through
    /// `followers` (starts the grouping of enqueues on the current runtime).
    pub fn new(pool: PgPool, followers: Arc<Followers>, config: ApiConfig) -> Arc<Self> {
        Arc::new(AppState {
            client: Client::new(pool)
                .with_grouped_enqueues()
                .with_followers(followers),
            config,
        })
    }
}

#[derive(Tags)]
pub enum ApiTags {
    /// Enqueue jobs, follow them, cancel and retry them.
    Jobs,
    /// Queue statistics, pause and resume.
    Queues,
    /// Live worker nodes.
    Workers,
    /// Health, readiness and metrics.
    Operations,
}

/// `Authorization: Bearer <token>`, required on every `/v1` call when
/// `WEIR_API_TOKENS` is set (checked before the operation runs).
#[derive(SecurityScheme)]
pub enum ApiAuth {
    /// A token from `WEIR_API_TOKENS`.
    Bearer(BearerToken),
    /// No token: accepted only when the server has no tokens configured.
    #[oai(fallback)]
    NoAuth,
}

/// The bearer token scheme.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", rename = "bearer")]
pub struct BearerToken(pub Bearer);

type Apis = (
    jobs::JobsApi,
    queues::QueuesApi,
    queues::WorkersApi,
    worker_api::WorkerApi,
    health::HealthApi,
);

fn service(state: Arc<AppState>) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            jobs::JobsApi {
                state: state.clone(),
            },
            queues::QueuesApi {
                state: state.clone(),
            },
            queues::WorkersApi {
                state: state.clone(),
            },
            worker_api::WorkerApi {
                state: state.clone(),
            },
            health::HealthApi { state },
        ),
        "weir",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "A background job queue that lives in PostgreSQL. Enqueue a job, get its id at once, \
         follow its progress and read its result. Errors are application/problem+json.",
    )
}

/// The OpenAPI spec as JSON, exactly as committed in `openapi.json`.
pub fn spec_json() -> String {
    // The spec does not depend on state; build it without a database. A
    // lazy pool still needs a runtime context to exist in.
    let runtime = match tokio::runtime::Handle::try_current() {
        Ok(_) => None,
        Err(_) => Some(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime"),
        ),
    };
    let _entered = runtime.as_ref().map(|r| r.enter());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://localhost/spec-only")
        .expect("a lazy pool needs no connection");
    let state = AppState::new(
        pool.clone(),
        Followers::detached(pool),
        ApiConfig::default(),
    );
    let mut spec = service(state).spec();
    spec.push('\n');
    spec
}

/// The whole web application: `/v1` API, `/docs`, `/openapi.json`, `/ui`,
/// `/healthz`, `/readyz`, `/metrics`, problem JSON for every error.
pub fn app(state: Arc<AppState>) -> impl Endpoint {
    let config = state.config.clone();
    let api = service(state);
    let docs = api.swagger_ui();
    let spec = api.spec_endpoint();
    Route::new()
        .nest("/docs", docs)
        .at("/openapi.json", spec)
        .nest("/ui", ui::routes())
        .nest("/", api)
        .around(move |ep, req| {
            let config = config.clone();
            async move { guard(ep, req, &config).await }
        })
        .catch_all_error(problem::catch_all)
}

/// Auth, body limit, request metrics and the request log line around
/// every request.
async fn guard<E: Endpoint>(
    ep: std::sync::Arc<E>,
    mut req: Request,
    config: &ApiConfig,
) -> poem::Result<Response> {
    let path = req.uri().path().to_string();
    if path == "/" && matches!(*req.method(), Method::GET | Method::HEAD) {
        // The front door of a web node is its dashboard (Swagger UI is at
        // /docs).
        return Ok(poem::web::Redirect::see_other("/ui").into_response());
    }
    if path.starts_with("/v1") && !config.tokens.is_empty() && !authorized(&req, &config.tokens) {
        let resp =
            Problem::new(StatusCode::UNAUTHORIZED, "missing or wrong bearer token").into_response();
        let mut resp = resp;
        resp.headers_mut()
            .insert("WWW-Authenticate", "Bearer".parse().expect("static header"));
        record(req.method(), &path, resp.status());
        return Ok(resp);
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let declared = req
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        // Built only when refused: most requests never need it.
        let too_large = || {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over the limit of {} bytes",
                    config.body_limit
                ),
            )
            .into_response()
        };
        if declared.is_some_and(|n| n > config.body_limit) {
            record(req.method(), &path, StatusCode::PAYLOAD_TOO_LARGE);
            return Ok(too_large());
        }
        match req.take_body().into_bytes_limit(config.body_limit).await {
            Ok(bytes) => req.set_body(bytes),
            Err(_) => {
                record(req.method(), &path, StatusCode::PAYLOAD_TOO_LARGE);
                return Ok(too_large());
            }
        }
    }
    let method = req.method().clone();
    let started = std::time::Instant::now();
    let resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => problem::catch_all(e).await,
    };
    // One line per request at debug (`RUST_LOG=weir=debug`): at thousands of
    // enqueues a second, an info line each would cost more than the work.
    tracing::debug!(
        %method,
        path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    record(&method, &path, resp.status());
    Ok(resp)
}

/// Constant-time comparison of the presented token with each configured one.
fn authorized(req: &Request, tokens: &[String]) -> bool {
    let Some(presented) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let mut ok = false;
    for token in tokens {
        ok |= constant_time_eq(presented.as_bytes(), token.as_bytes());
    }
    ok
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Counts a request by route template (ids replaced) and status.
fn record(method: &Method, path: &str, status: StatusCode) {
    let route = route_template(path);
    crate::metrics::inc(
        "weir_http_requests_total",
        &[
            ("method", method.as_str()),
            ("route", &route),
            ("status", status.as_str()),
        ],
    );
}

/// `/v1/jobs/<uuid>/cancel` → `/v1/jobs/{id}/cancel`, keeping label sets small.
fn route_template(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    let mut out = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        let templated = match (i, parts.get(1), parts.get(2)) {
            (3, Some(&"v1"), Some(&"jobs")) if *p != "batch" => "{id}",
            (3, Some(&"v1"), Some(&"queues")) => "{name}",
            _ => p,
        };
        out.push(templated);
    }
    if !matches!(
        parts.get(1),
        Some(&"v1" | &"docs" | &"ui" | &"healthz" | &"readyz" | &"metrics" | &"openapi.json")
    ) {
        return "other".into();
    }
    out.join("/")
}

/// Serves `app` on `bind` until `shutdown`.
pub async fn serve(
    pool: PgPool,
    config: ApiConfig,
    bind: &str,
    shutdown: CancellationToken,
) -> Result<()> {
    let followers = Followers::start(pool.clone(), shutdown.clone()).await?;
    let state = AppState::new(pool, followers, config);
    let server = poem::Server::new(TcpListener::bind(bind.to_string()));
    let shutdown_signal = shutdown.clone();
    server
        .run_with_graceful_shutdown(
            app(state),
            async move { shutdown_signal.cancelled().await },
            Some(Duration::from_secs(5)),
        )
        .await
        .map_err(|e| crate::error::Error::Config(format!("cannot serve on {bind}: {e}")))
}
