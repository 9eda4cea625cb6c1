//! Statements on `weir.watches`: a web node's interest in single jobs,
//! which makes changes to them send `NOTIFY weir_job_events`.

use sqlx::PgExecutor;

use crate::error::Result;
use crate::job::{JobId, NodeId};

/// The NOTIFY channel carrying the id of a watched job that changed.
pub const JOB_EVENTS_CHANNEL: &str = "weir_job_events";

/// Starts watching `job` for `node`.
pub async fn add(db: impl PgExecutor<'_>, job: JobId, node: NodeId) -> Result<()> {
    sqlx::query!(
        "INSERT INTO weir.watches (job_id, node_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        job.0,
        node.0
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Stops watching `job` for `node`.
pub async fn remove(db: impl PgExecutor<'_>, job: JobId, node: NodeId) -> Result<()> {
    sqlx::query!(
        "DELETE FROM weir.watches WHERE job_id = $1 AND node_id = $2",
        job.0,
        node.0
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes every watch of `node` (at start and at shutdown of a web node).
pub async fn remove_node(db: impl PgExecutor<'_>, node: NodeId) -> Result<()> {
    sqlx::query!("DELETE FROM weir.watches WHERE node_id = $1", node.0)
        .execute(db)
        .await?;
    Ok(())
}
