//! Every SQL statement of weir, one module per table. Each function takes
//! any executor, so it also runs inside a caller's transaction.

#[cfg(feature = "cli")]
pub mod bench;
pub mod followed_jobs;
pub mod idempotency;
pub mod jobs;
pub mod leaders;
pub mod nodes;
pub mod queues;
pub mod roles;
pub mod schedules;
pub mod wakeups;
pub mod worker_api;
pub mod workflows;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::error::Result;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Applies the embedded migrations. sqlx holds an advisory lock while it
/// migrates, so several nodes starting at once apply each migration once.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Creates the database named in `url` when it does not exist yet, by
/// connecting to the `postgres` maintenance database of the same server.
pub async fn create_database_if_missing(url: &str) -> Result<()> {
    let options = PgConnectOptions::from_str(url)?;
    let Some(name) = options.get_database().map(str::to_string) else {
        return Ok(());
    };
    if options.connect().await.is_ok() {
        return Ok(());
    }
    let mut admin = PgConnection::connect_with(&options.clone().database("postgres")).await?;
    let exists: bool = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "e!""#,
        name
    )
    .fetch_one(&mut admin)
    .await?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let sql = format!("CREATE DATABASE {quoted}");
        match sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
        {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another node created it at the same moment.
            Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    admin.close().await?;
    Ok(())
}

/// Connects a pool of `size` connections to `url`. With `max_attempts`,
/// jobs enqueued through this pool default to that many attempts.
pub async fn connect(url: &str, size: u32, max_attempts: Option<i32>) -> Result<PgPool> {
    let mut options = PgConnectOptions::from_str(url)?;
    if let Some(n) = max_attempts {
        options = options.options([("weir.default_max_attempts", n.to_string())]);
    }
    Ok(PgPoolOptions::new()
        .max_connections(size)
        .connect_with(options)
        .await?)
}

/// A pool on the same server as `pool` whose commits do not wait for the
/// WAL flush (`synchronous_commit = off`). Used only for claims, heartbeats
/// and progress: losing one of those in a crash makes a job run again,
/// never disappear. Enqueues and outcomes always use a durable pool.
pub fn async_commit_pool(pool: &PgPool, size: u32) -> PgPool {
    let options = (*pool.connect_options())
        .clone()
        .options([("synchronous_commit", "off")]);
    PgPoolOptions::new()
        .max_connections(size)
        .connect_lazy_with(options)
}

/// A pool on the same server as `pool`, with its settings, whose sessions
/// cancel any statement running longer than `timeout`
/// (`statement_timeout`; zero: never): the web node's, so that a request
/// never holds a connection for long. Connections open as they are needed.
pub fn with_statement_timeout(pool: &PgPool, timeout: std::time::Duration) -> PgPool {
    let ms = timeout.as_millis().to_string();
    let options = (*pool.connect_options())
        .clone()
        .options([("statement_timeout", ms.as_str())]);
    pool.options().clone().connect_lazy_with(options)
}

/// A connection of `pool`'s, kept apart from it, that LISTENs on
/// `channel`: returns once LISTEN is active.
pub async fn listen(pool: &PgPool, channel: &str) -> Result<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

/// [`listen`] on a connection of its own, outside `pool` (same server and
/// credentials), whose session is named `application_name` (so that it
/// can be seen in `pg_stat_activity`), also after a reconnect.
pub async fn listen_as(
    pool: &PgPool,
    channel: &str,
    application_name: &str,
) -> Result<sqlx::postgres::PgListener> {
    let options = pool
        .connect_options()
        .as_ref()
        .clone()
        .application_name(application_name);
    let own = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options);
    listen(&own, channel).await
}

/// Runs `attempt` until it succeeds, retrying while the database cannot be
/// reached (a restart, a failover: see
/// [`crate::Error::is_connection_failure`]) with a backoff from 100 ms to
/// 5 s. Other errors return at once; so does the last connection failure
/// once `stop` is cancelled or `give_up_after` has passed.
pub async fn retry_while_unreachable<T, F, Fut>(
    what: &str,
    stop: &tokio_util::sync::CancellationToken,
    give_up_after: Option<std::time::Duration>,
    attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let retryable = crate::Error::is_connection_failure;
    retry_with_backoff(what, stop, give_up_after, retryable, attempt).await
}

/// [`retry_while_unreachable`], retrying the errors `retryable` accepts
/// instead of connection failures only.
pub async fn retry_with_backoff<T, F, Fut>(
    what: &str,
    stop: &tokio_util::sync::CancellationToken,
    give_up_after: Option<std::time::Duration>,
    retryable: impl Fn(&crate::Error) -> bool,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let started = tokio::time::Instant::now();
    let mut delay = std::time::Duration::from_millis(100);
    loop {
        match attempt().await {
            Err(e) if retryable(&e) => {
                if stop.is_cancelled() || give_up_after.is_some_and(|g| started.elapsed() >= g) {
                    return Err(e);
                }
                if e.is_connection_failure() {
                    tracing::warn!(error = %e, retry_in = ?delay, "{what}: the database cannot be reached; retrying");
                } else {
                    tracing::warn!(error = %e, retry_in = ?delay, "{what} failed; retrying");
                }
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(std::time::Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// How many migrations have been applied successfully.
pub async fn applied_migrations(pool: &PgPool) -> Result<i64> {
    // Not a checked macro: the table belongs to sqlx's migrator, and the
    // offline data is prepared on a schema applied without it.
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?,
    )
}

/// `pg_notification_queue_usage()`: the fraction of the NOTIFY queue in use.
pub async fn notification_queue_usage(pool: &PgPool) -> Result<f64> {
    Ok(
        sqlx::query_scalar!(r#"SELECT pg_notification_queue_usage() AS "u!""#)
            .fetch_one(pool)
            .await?,
    )
}
