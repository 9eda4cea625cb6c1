//! The web node: the typed REST API v1 (poem-openapi), its spec, Swagger
//! UI, health and metrics.
//!
//! - [`jobs`]: enqueue, read and wait, events (SSE), list, cancel, retry;
//! - [`queues`]: queue stats, pause, resume; worker nodes;
//! - [`workflows`]: submit a workflow, read it (with `?wait`), its
//!   events (SSE), list, cancel;
//! - [`worker_api`]: the worker API for workers in any language (register,
//!   claim, heartbeat, complete, fail, snooze, progress, unregister);
//! - [`health`]: `/healthz`, `/readyz`, `/metrics`;
//! - [`node`]: a worker node's own `/metrics` and `/healthz` (`WEIR_WORKER_BIND`);
//!
//! Every operation goes through the library's [`Client`] (never the SQL layer),
//! which also holds the node's one LISTEN connection for waits and streams
//! and groups concurrent enqueues into one INSERT.
//!
//! - [`problem`]: every error as `application/problem+json`;
//! - [`ui`]: the dashboard at `/ui`, served from assets in the binary;
//! - [`guard`]: around every request: auth, cross-site refusal, body
//!   limit, request metrics;
//! - this file: settings, assembly, serving.

pub mod guard;
pub mod health;
pub mod jobs;
pub mod node;
pub mod problem;
pub mod queues;
pub mod schedules;
pub mod spec;
pub mod string_types;
pub mod ui;
pub mod worker_api;
pub mod workflows;

use std::sync::Arc;
use std::time::Duration;

use poem::listener::TcpListener;
use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::auth::Bearer;
use poem_openapi::{OpenApiService, SecurityScheme, Tags};
use sqlx::PgPool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::client::{Client, statement_timeout_pool};
use crate::error::Result;
use crate::follow::Followers;
use problem::ApiError;

/// Default cap of `?wait`.
pub const DEFAULT_WAIT_CAP: Duration = Duration::from_secs(60);
/// Default limit of a request body.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// Default limit of requests following jobs at once (`?wait`, events).
pub const DEFAULT_MAX_FOLLOWERS: usize = 1000;
/// Default lifetime of an event stream.
pub const DEFAULT_STREAM_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Default limit of a page of `GET /v1/jobs`, in bytes of JSON.
pub const DEFAULT_LIST_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Default `statement_timeout` of the web node's statements.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
/// `Retry-After` of every 503, in seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

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
    /// Requests following a job at once (`?wait`, event streams); past it,
    /// 503 with `Retry-After`. Default 1,000.
    pub max_followers: usize,
    /// An event stream ends after this long (clients reconnect, and get
    /// the current state first). Default 15 min.
    pub stream_lifetime: Duration,
    /// A page of `GET /v1/jobs` ends early (with `next_cursor`) before its
    /// jobs pass this many bytes of JSON; it always holds one job. Default
    /// 8 MiB.
    pub list_max_bytes: usize,
    /// `statement_timeout` of every statement the web node runs (zero:
    /// none); one past it answers 503. Default 30 s.
    pub statement_timeout: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            wait_cap: DEFAULT_WAIT_CAP,
            body_limit: DEFAULT_BODY_LIMIT,
            tokens: Vec::new(),
            node_dead_after: Duration::from_secs(30),
            max_followers: DEFAULT_MAX_FOLLOWERS,
            stream_lifetime: DEFAULT_STREAM_LIFETIME,
            list_max_bytes: DEFAULT_LIST_MAX_BYTES,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
        }
    }
}

/// What every endpoint shares.
pub struct AppState {
    /// The door to every job operation: grouped enqueues, and follows
    /// through the node's [`Followers`].
    pub client: Client,
    pub config: ApiConfig,
    /// One permit per request following a job.
    following: Arc<Semaphore>,
}

impl AppState {
    /// The state of a web node on `pool` whose follows go through
    /// `followers` (starts the grouping of enqueues on the current runtime).
    /// Its statements run on a pool like `pool` with the configured
    /// `statement_timeout`.
    pub fn new(pool: PgPool, followers: Arc<Followers>, config: ApiConfig) -> Arc<Self> {
        let pool = statement_timeout_pool(&pool, config.statement_timeout);
        Self::on_pool(pool, followers, config)
    }

    /// [`AppState::new`] on `pool` as it is.
    fn on_pool(pool: PgPool, followers: Arc<Followers>, config: ApiConfig) -> Arc<Self> {
        Arc::new(AppState {
            client: Client::new(pool)
                .with_grouped_enqueues()
                .with_followers(followers),
            following: Arc::new(Semaphore::new(config.max_followers)),
            config,
        })
    }

    /// A permit to follow a job, held as long as the request follows it;
    /// 503 when [`ApiConfig::max_followers`] requests already do.
    pub fn follow_permit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.following.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                poem::http::StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "this web node already follows {} jobs for clients; retry later",
                    self.config.max_followers
                ),
            )
        })
    }
}

#[derive(Tags)]
pub enum ApiTags {
    /// Enqueue jobs, follow them, cancel and retry them.
    Jobs,
    /// Jobs submitted together, waiting on each other (chain, group, chord).
    Workflows,
    /// Queue statistics, pause and resume.
    Queues,
    /// Live worker nodes.
    Workers,
    /// Cron schedules: each tick enqueues one job.
    Schedules,
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
    workflows::WorkflowsApi,
    queues::QueuesApi,
    schedules::SchedulesApi,
    worker_api::WorkerApi,
    health::HealthApi,
);

fn service(state: Arc<AppState>) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            jobs::JobsApi {
                state: state.clone(),
            },
            workflows::WorkflowsApi {
                state: state.clone(),
            },
            queues::QueuesApi {
                state: state.clone(),
            },
            schedules::SchedulesApi {
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
    spec::truthful(&service(state).spec())
}

/// The whole web application: `/v1` API, `/docs`, `/openapi.json`, `/ui`,
/// `/healthz`, `/readyz`, `/metrics`, problem JSON for every error.
pub fn app(state: Arc<AppState>) -> impl Endpoint {
    let config = state.config.clone();
    let api = service(state);
    let docs = api.swagger_ui();
    let spec = poem::endpoint::make_sync(|_| {
        static SPEC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        poem::Response::builder()
            .content_type("application/json; charset=utf-8")
            .body(SPEC.get_or_init(spec_json).clone())
    });
    Route::new()
        .nest("/docs", docs)
        .at("/openapi.json", spec)
        .nest("/ui", ui::routes())
        .nest("/", api)
        .around(move |ep, req| {
            let config = config.clone();
            async move { guard::guard(ep, req, &config).await }
        })
        .catch_all_error(problem::catch_all)
}

/// Serves `app` on `bind` until `shutdown`.
pub async fn serve(
    pool: PgPool,
    config: ApiConfig,
    bind: &str,
    shutdown: CancellationToken,
) -> Result<()> {
    // Every statement of the node, re-reads of followed jobs included, on
    // one pool with the statement timeout; the caller's handle goes (its
    // connections close with the last one).
    let timed = statement_timeout_pool(&pool, config.statement_timeout);
    drop(pool);
    let pool = timed;
    let followers = Followers::start(pool.clone(), shutdown.clone()).await?;
    let state = AppState::on_pool(pool, followers, config);
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
