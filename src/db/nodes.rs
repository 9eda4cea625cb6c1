//! Statements on `weir.nodes`: worker registration and heartbeats.

use sqlx::PgExecutor;

use crate::error::Result;
use crate::job::NodeId;

/// Registers (or re-registers, after a reconnect) a worker node.
pub async fn register(
    db: impl PgExecutor<'_>,
    node: NodeId,
    host: &str,
    pid: i32,
    queues: &serde_json::Value,
    kinds: &[String],
) -> Result<()> {
    sqlx::query!(
        r#"INSERT INTO weir.nodes (id, host, pid, queues, kinds)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE
           SET host = excluded.host, pid = excluded.pid, queues = excluded.queues,
               kinds = excluded.kinds, heartbeat_at = now()"#,
        node.0,
        host,
        pid,
        queues,
        kinds,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Stamps the node's heartbeat (database clock) and running count.
/// Returns false when the row is gone (the node was declared dead and
/// removed): the caller re-registers.
pub async fn heartbeat(db: impl PgExecutor<'_>, node: NodeId, running: i32) -> Result<bool> {
    let done = sqlx::query!(
        "UPDATE weir.nodes SET heartbeat_at = now(), running = $2 WHERE id = $1",
        node.0,
        running
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the node and its waiter rows (clean shutdown).
pub async fn deregister(db: impl PgExecutor<'_>, node: NodeId) -> Result<()> {
    sqlx::query!(
        r#"WITH w AS (DELETE FROM weir.waiters WHERE node_id = $1)
           DELETE FROM weir.nodes WHERE id = $1"#,
        node.0
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A registered worker node.
#[derive(Debug, Clone)]
pub struct NodeRow {
    pub id: uuid::Uuid,
    pub host: String,
    pub pid: i32,
    pub queues: serde_json::Value,
    pub kinds: Vec<String>,
    pub running: i32,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub heartbeat_at: chrono::DateTime<chrono::Utc>,
}

/// Nodes whose last heartbeat is newer than `dead_after` (database clock).
pub async fn list_live(
    db: impl PgExecutor<'_>,
    dead_after: std::time::Duration,
) -> Result<Vec<NodeRow>> {
    Ok(sqlx::query_as!(
        NodeRow,
        r#"SELECT id, host, pid, queues, kinds, running, started_at, heartbeat_at
           FROM weir.nodes
           WHERE heartbeat_at > now() - make_interval(secs => $1)
           ORDER BY started_at"#,
        dead_after.as_secs_f64()
    )
    .fetch_all(db)
    .await?)
}
