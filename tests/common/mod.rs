//! Shared helpers of the integration tests: a fast worker config, test
//! tasks, a running-worker handle and polling helpers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use weir::backoff::Backoff;
use weir::maintenance::MaintenanceConfig;
use weir::worker::Registry;
use weir::{Job, JobContext, JobError, JobId, JobState, QueueConfig, Task, Worker, WorkerConfig};

/// `#[sqlx::test]` makes each test's database through a connection to the
/// database named in `DATABASE_URL` (`weir` by default, the "master"),
/// which a fresh server does not have yet: create it before any test of
/// this binary runs, marked with [`CREATED_BY_TESTS`] so that
/// [`leave_nothing_behind`] knows it may drop it. When the server is down,
/// say so once; the tests then fail with sqlx's own connection error.
///
/// Every test file with a `#[sqlx::test]` declares `mod common;`, so that
/// this runs before its tests whichever file runs first.
#[ctor::ctor(unsafe)]
fn create_the_sqlx_test_database() {
    let url = master_url();
    let created = block_on(async {
        let existed = PgConnection::connect(&url).await.is_ok();
        weir::db::create_database_if_missing(&url).await?;
        if !existed {
            let mut conn = PgConnection::connect(&url).await?;
            let name = quoted_database_name(&url)?;
            let comment = format!("COMMENT ON DATABASE {name} IS '{CREATED_BY_TESTS}'");
            conn.execute(sqlx::AssertSqlSafe(comment)).await?;
            conn.close().await?;
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    });
    if let Err(e) = created {
        eprintln!("tests: cannot create the database of DATABASE_URL ({url}): {e}");
    }
}

/// The comment on a master database the tests created (no quotes: it is
/// spliced into SQL text).
const CREATED_BY_TESTS: &str =
    "created by the tests of weir, dropped when they leave nothing in it";

/// The advisory lock `#[sqlx::test]` takes while it creates its
/// `_sqlx_test` schema ("sqlxtest" in ASCII): held while the schema is
/// dropped, so that a test binary starting at that moment waits.
const SQLX_TEST_LOCK: i64 = 8318549251334697844;

/// A passing run leaves nothing: when every test database is gone (sqlx
/// drops a test's database when the test passes and keeps a failed
/// test's), drops the bookkeeping schema `_sqlx_test` from the master
/// database, and the master itself if the tests created it. Runs at the
/// exit of every test binary; cargo runs them one after another, and the
/// next one creates the master again.
#[dtor::dtor(unsafe)]
fn leave_nothing_behind() {
    use std::io::Write;
    // On a thread of its own: the main thread's thread-locals, tokio's
    // among them, are gone by now.
    let cleaned = std::thread::spawn(|| block_on(drop_what_the_tests_made()))
        .join()
        .unwrap_or_else(|_| Err("the clean-up panicked".into()));
    if let Err(e) = cleaned {
        // eprintln! may panic this late in the process's exit.
        let _ = writeln!(
            std::io::stderr(),
            "tests: could not clean up the database of DATABASE_URL: {e}"
        );
    }
}

async fn drop_what_the_tests_made() -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    let url = master_url();
    let Ok(mut conn) = PgConnection::connect(&url).await else {
        return Ok(()); // no master (or no server): nothing was left in it
    };
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SQLX_TEST_LOCK)
        .execute(&mut *tx)
        .await?;
    let schema: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_test.databases')::text")
            .fetch_one(&mut *tx)
            .await?;
    if schema.is_some() {
        let kept: Vec<String> =
            sqlx::query_scalar("SELECT db_name FROM _sqlx_test.databases ORDER BY db_name")
                .fetch_all(&mut *tx)
                .await?;
        if !kept.is_empty() {
            let _ = writeln!(
                std::io::stderr(),
                "tests: kept {} database(s) of failed tests for inspection (listed in _sqlx_test.databases of {url}): {}",
                kept.len(),
                kept.join(", ")
            );
            return Ok(());
        }
        tx.execute("DROP SCHEMA _sqlx_test CASCADE").await?;
    }
    // The master goes too if the tests made it and nobody has used it
    // since (say `weir dev` migrated it after a failed run had kept it).
    let droppable: bool = sqlx::query_scalar(
        "SELECT shobj_description(d.oid, 'pg_database') IS NOT DISTINCT FROM $1
            AND NOT EXISTS (SELECT 1 FROM pg_namespace
                            WHERE nspname NOT IN ('public', 'information_schema')
                              AND nspname NOT LIKE 'pg\\_%')
         FROM pg_database d WHERE d.datname = current_database()",
    )
    .bind(CREATED_BY_TESTS)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    conn.close().await?;
    if droppable {
        let options = PgConnectOptions::from_str(&url)?.database("postgres");
        let mut admin = PgConnection::connect_with(&options).await?;
        let name = quoted_database_name(&url)?;
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await?;
        admin.close().await?;
    }
    Ok(())
}

/// The URL `#[sqlx::test]` reads (cargo sets it from `.cargo/config.toml`
/// unless the environment does).
fn master_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| weir::config::DEFAULT_DATABASE_URL.to_string())
}

/// The database name of `url`, quoted as an SQL identifier.
fn quoted_database_name(url: &str) -> Result<String, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let name = options.get_database().unwrap_or("postgres");
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// Runs `f` on a runtime of its own (before or after `main`).
fn block_on<T, E>(f: impl Future<Output = Result<T, E>>) -> Result<T, String>
where
    E: std::fmt::Display,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(f)
        .map_err(|e| e.to_string())
}

/// Short intervals for tests: 100 ms poll, 1 s heartbeat, 100 ms backoff.
pub fn fast_config(queues: &[(&str, usize)]) -> WorkerConfig {
    let mut maintenance = MaintenanceConfig::default();
    maintenance.stager.poll_interval = Duration::from_millis(200);
    maintenance.rescuer.interval = Duration::from_millis(500);
    maintenance.rescuer.backoff = Backoff {
        base: Duration::from_millis(100),
        max: Duration::from_secs(60),
    };
    WorkerConfig {
        queues: queues
            .iter()
            .map(|(name, concurrency)| QueueConfig {
                name: name.to_string(),
                concurrency: *concurrency,
            })
            .collect(),
        poll_interval: Duration::from_millis(100),
        heartbeat_interval: Duration::from_secs(1),
        shutdown_grace: Duration::from_secs(2),
        backoff: Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(60),
        },
        progress_interval: Duration::from_millis(50),
        supervision_interval: Duration::from_millis(200),
        cancel_grace: Duration::from_secs(1),
        maintenance: Some(maintenance),
        ..WorkerConfig::default()
    }
}

/// A worker running in the background of a test.
pub struct RunningWorker {
    pub shutdown: CancellationToken,
    pub handle: JoinHandle<weir::Result<()>>,
    pub node: weir::NodeId,
}

impl RunningWorker {
    pub fn start(pool: &PgPool, config: WorkerConfig, registry: Registry) -> Self {
        let worker = Worker::new(pool.clone(), config).with_registry(registry);
        let node = worker.node_id();
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(worker.run(shutdown.clone()));
        RunningWorker {
            shutdown,
            handle,
            node,
        }
    }

    /// Signals shutdown and waits for the worker to return.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.handle
            .await
            .expect("worker task panicked")
            .expect("worker failed");
    }
}

/// Polls `check` every 20 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn job(pool: &PgPool, id: JobId) -> Job {
    weir::Client::new(pool.clone()).job(id).await.unwrap()
}

/// Waits (up to `timeout`) until the job is in `state`.
pub async fn wait_for_state(pool: &PgPool, id: JobId, state: JobState, timeout: Duration) -> Job {
    eventually(timeout, &format!("job {id} to be {state}"), || async {
        let j = job(pool, id).await;
        (j.state == state).then_some(j)
    })
    .await
}

/// Waits until `node` has an armed wake-up for `queue` (it is idle and
/// listening).
pub async fn wait_until_idle(pool: &PgPool, node: weir::NodeId, queue: &str) {
    eventually(Duration::from_secs(10), "the worker to be idle", || async {
        let armed: Option<bool> =
            sqlx::query_scalar("SELECT armed FROM weir.wakeups WHERE node_id = $1 AND queue = $2")
                .bind(node.0)
                .bind(queue)
                .fetch_optional(pool)
                .await
                .unwrap();
        (armed == Some(true)).then_some(())
    })
    .await
}

/// `test.echo`: returns its args.
pub struct Echo;

impl Task for Echo {
    const KIND: &'static str = "test.echo";
    type Args = serde_json::Value;
    type Output = serde_json::Value;

    async fn run(
        &self,
        _ctx: JobContext,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, JobError> {
        Ok(args)
    }
}

/// Records every execution (job id, attempt, order) of `test.record`.
#[derive(Clone, Default)]
pub struct Recorder {
    pub runs: Arc<Mutex<Vec<(JobId, i32)>>>,
    /// Handlers running now, and the most ever running at once.
    pub concurrency: Arc<Mutex<(usize, usize)>>,
}

impl Recorder {
    pub fn runs(&self) -> Vec<(JobId, i32)> {
        self.runs.lock().unwrap().clone()
    }

    /// The most handlers that ever ran at the same time.
    pub fn max_concurrent(&self) -> usize {
        self.concurrency.lock().unwrap().1
    }

    pub fn counts(&self) -> HashMap<JobId, usize> {
        let mut counts = HashMap::new();
        for (id, _) in self.runs() {
            *counts.entry(id).or_default() += 1;
        }
        counts
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RecordArgs {
    /// Sleep this long before returning.
    #[serde(default)]
    pub sleep_ms: u64,
    /// Fail (retryable) with this message.
    #[serde(default)]
    pub fail: Option<String>,
    /// Fail fatally with this message.
    #[serde(default)]
    pub fatal: Option<String>,
    /// Panic with this message.
    #[serde(default)]
    pub panic: Option<String>,
}

impl Task for Recorder {
    const KIND: &'static str = "test.record";
    type Args = RecordArgs;
    type Output = serde_json::Value;

    async fn run(&self, ctx: JobContext, args: RecordArgs) -> Result<serde_json::Value, JobError> {
        self.runs.lock().unwrap().push((ctx.id(), ctx.attempt()));
        {
            let mut c = self.concurrency.lock().unwrap();
            c.0 += 1;
            c.1 = c.1.max(c.0);
        }
        if args.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(args.sleep_ms)).await;
        }
        self.concurrency.lock().unwrap().0 -= 1;
        if let Some(m) = args.panic {
            panic!("{m}");
        }
        if let Some(m) = args.fatal {
            return Err(JobError::Fatal(m));
        }
        if let Some(m) = args.fail {
            return Err(JobError::Retry(m));
        }
        Ok(serde_json::json!({"attempt": ctx.attempt()}))
    }
}

/// A registry with [`Echo`] and `recorder`.
pub fn registry(recorder: &Recorder) -> Registry {
    let mut r = Registry::new();
    r.register(Echo).register(recorder.clone());
    r
}

/// What [`Blocker`] runs saw, shared with the test.
#[derive(Clone, Default)]
pub struct Blocker {
    /// Job ids, one entry per start.
    pub starts: Arc<Mutex<Vec<JobId>>>,
    /// Job ids whose handler saw `ctx.is_cancelled()`.
    pub saw_cancel: Arc<Mutex<Vec<JobId>>>,
    /// Job ids whose handler ran to its end (was not aborted).
    pub ended: Arc<Mutex<Vec<JobId>>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct BlockerArgs {
    /// Keep running after the cancel (until aborted, or 60 s).
    #[serde(default)]
    pub ignore_cancel: bool,
}

impl Blocker {
    pub fn starts(&self, id: JobId) -> usize {
        self.starts
            .lock()
            .unwrap()
            .iter()
            .filter(|j| **j == id)
            .count()
    }

    pub fn saw_cancel(&self, id: JobId) -> bool {
        self.saw_cancel.lock().unwrap().contains(&id)
    }

    pub fn ended(&self, id: JobId) -> bool {
        self.ended.lock().unwrap().contains(&id)
    }
}

/// `test.block`: runs until cancelled (then returns `Cancelled`), or,
/// with `ignore_cancel`, notes the cancel and keeps running for 60 s.
impl Task for Blocker {
    const KIND: &'static str = "test.block";
    type Args = BlockerArgs;
    type Output = serde_json::Value;

    async fn run(&self, ctx: JobContext, args: BlockerArgs) -> Result<serde_json::Value, JobError> {
        self.starts.lock().unwrap().push(ctx.id());
        let until = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut noted = false;
        while tokio::time::Instant::now() < until {
            if ctx.is_cancelled() && !noted {
                noted = true;
                self.saw_cancel.lock().unwrap().push(ctx.id());
                if !args.ignore_cancel {
                    self.ended.lock().unwrap().push(ctx.id());
                    return Err(JobError::Cancelled);
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.ended.lock().unwrap().push(ctx.id());
        Ok(serde_json::json!("done"))
    }
}

/// A registry with [`Echo`], `recorder` and `blocker`.
pub fn registry_with_blocker(recorder: &Recorder, blocker: &Blocker) -> Registry {
    let mut r = registry(recorder);
    r.register(blocker.clone());
    r
}

/// Enqueues a job of `kind` with `args` through the client.
pub async fn enqueue_kind(pool: &PgPool, kind: &str, args: serde_json::Value) -> JobId {
    let job = weir::NewJob::new(kind, args);
    weir::Client::new(pool.clone())
        .enqueue_job(&job)
        .await
        .unwrap()
        .id
}

/// Cancels a running job with `weir.cancel_job` (the transition REST, CLI
/// and psql share), which answers `cancel_requested` and sets
/// `cancel_requested_at`; the worker does the rest.
pub async fn request_cancel(pool: &PgPool, id: JobId) {
    let answer: String = sqlx::query_scalar("SELECT weir.cancel_job($1)")
        .bind(id.0)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(answer, "cancel_requested");
}

/// An in-process web node over `pool` (no port), with `tokens` if any.
pub async fn api_client(pool: &PgPool, tokens: &[&str]) -> ApiClient {
    let config = weir::api::ApiConfig {
        tokens: tokens.iter().map(|t| t.to_string()).collect(),
        wait_cap: Duration::from_secs(10),
        ..weir::api::ApiConfig::default()
    };
    let stop = CancellationToken::new();
    let events = weir::follow::Followers::start(pool.clone(), stop.clone())
        .await
        .unwrap();
    let state = weir::api::AppState::new(pool.clone(), events, config);
    use poem::EndpointExt;
    ApiClient {
        cli: poem::test::TestClient::new(weir::api::app(state).map_to_response().boxed()),
        _stop: stop.drop_guard(),
    }
}

/// A test client of an in-process web node; dropping it stops the node's
/// listener (so the test database can be dropped at once).
pub struct ApiClient {
    cli: poem::test::TestClient<poem::endpoint::BoxEndpoint<'static, poem::Response>>,
    _stop: tokio_util::sync::DropGuard,
}

impl std::ops::Deref for ApiClient {
    type Target = poem::test::TestClient<poem::endpoint::BoxEndpoint<'static, poem::Response>>;
    fn deref(&self) -> &Self::Target {
        &self.cli
    }
}

/// The body of a test response as JSON.
pub async fn body_json(resp: poem::test::TestResponse) -> serde_json::Value {
    resp.0.into_body().into_json().await.unwrap()
}

/// The registry of the stock binary plus the test tasks.
pub fn full_registry(recorder: &Recorder) -> Registry {
    let mut r = weir::demo::builtin();
    r.register(Echo).register(recorder.clone());
    r
}

/// A loopback port in front of the test's PostgreSQL that refuses
/// connections until [`Gate::open`], then forwards them: a database that
/// cannot be reached (as while it restarts), then can.
pub struct Gate {
    port: u16,
    target: String,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    forward: Option<JoinHandle<()>>,
}

impl Gate {
    /// A free port with nothing listening on it yet.
    pub fn closed(pool: &PgPool) -> Gate {
        let real = pool.connect_options();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Gate {
            port,
            target: format!("{}:{}", real.get_host(), real.get_port()),
            connections: Default::default(),
            forward: None,
        }
    }

    /// A lazy pool on the test's database through the gate, whose
    /// acquires give up after 500 ms.
    pub fn pool(&self, pool: &PgPool) -> PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(Duration::from_millis(500))
            .connect_lazy_with(
                (*pool.connect_options())
                    .clone()
                    .host("127.0.0.1")
                    .port(self.port),
            )
    }

    /// Starts forwarding connections to PostgreSQL.
    pub async fn open(&mut self) {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let (target, connections) = (self.target.clone(), self.connections.clone());
        self.forward = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let (target, connections) = (target.clone(), connections.clone());
                connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                    connections.fetch_sub(1, Ordering::SeqCst);
                });
            }
        }));
    }

    /// Once every pool through the gate is closed: waits for the forwarded
    /// connections to end (so the test database can be dropped).
    pub async fn finish(self) {
        let connections = self.connections.clone();
        eventually(
            Duration::from_secs(10),
            "the forwarded connections closed",
            || {
                let n = connections.load(std::sync::atomic::Ordering::SeqCst);
                async move { (n == 0).then_some(()) }
            },
        )
        .await;
        if let Some(f) = self.forward {
            f.abort();
        }
    }
}
