//! Statements on `weir.followed_jobs`: the jobs a web node or a client
//! follows, whose changes send `NOTIFY weir_job_events`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::Result;
use crate::job::{JobId, NodeId};

/// The NOTIFY channel carrying the id of a followed job that changed.
pub const JOB_EVENTS_CHANNEL: &str = "weir_job_events";

/// Starts following `job` for `node`.
pub async fn add(db: impl PgExecutor<'_>, job: JobId, node: NodeId) -> Result<()> {
    sqlx::query!(
        "INSERT INTO weir.followed_jobs (job_id, node_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        job.0,
        node.0
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Stops following `job` for `node`.
pub async fn remove(db: impl PgExecutor<'_>, job: JobId, node: NodeId) -> Result<()> {
    sqlx::query!(
        "DELETE FROM weir.followed_jobs WHERE job_id = $1 AND node_id = $2",
        job.0,
        node.0
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes every followed job of `node` (at start and at shutdown of a web node).
pub async fn remove_node(db: impl PgExecutor<'_>, node: NodeId) -> Result<()> {
    sqlx::query!("DELETE FROM weir.followed_jobs WHERE node_id = $1", node.0)
        .execute(db)
        .await?;
    Ok(())
}

/// How the `application_name` of a job events hub's LISTEN connection
/// begins; the hub's node id follows.
const LISTENER_NAME_PREFIX: &str = "weir events ";

/// The `application_name` of a job events hub's LISTEN connection: while
/// a session with this name is connected, the hub is alive.
pub fn listener_application_name(node: NodeId) -> String {
    format!("{LISTENER_NAME_PREFIX}{}", node.0)
}

/// Removes the followed jobs of hubs that are gone: rows older than `grace`
/// whose node has no session named by [`listener_application_name`] (a
/// web node or client that died without removing its rows). Such rows
/// would otherwise stay for good, and while any row exists every
/// `UPDATE` of `weir.jobs` looks for followed jobs among the rows it
/// changed. Returns how many were removed.
pub async fn delete_orphaned(
    db: impl PgExecutor<'_>,
    now: Option<DateTime<Utc>>,
    grace: Duration,
) -> Result<u64> {
    Ok(sqlx::query!(
        r#"DELETE FROM weir.followed_jobs f
           WHERE f.since < coalesce($1, now()) - make_interval(secs => $2)
             AND NOT EXISTS (
                 SELECT 1 FROM pg_stat_activity a
                 WHERE a.application_name = $3 || f.node_id::text)"#,
        now,
        grace.as_secs_f64(),
        LISTENER_NAME_PREFIX,
    )
    .execute(db)
    .await?
    .rows_affected())
}
