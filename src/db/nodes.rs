//! Statements on `weir.nodes`: worker registration and heartbeats.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::jobs::LeaseGuard;
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

/// Removes the node and its wake-ups (clean shutdown).
pub async fn deregister(db: impl PgExecutor<'_>, node: NodeId) -> Result<()> {
    sqlx::query!(
        r#"WITH w AS (DELETE FROM weir.wakeups WHERE node_id = $1)
           DELETE FROM weir.nodes WHERE id = $1"#,
        node.0
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes nodes whose heartbeat is older than `dead_after` (database
/// clock; `now` defaults to it) with their wake-ups. With `lease`,
/// nothing changes unless that maintenance lease is still held. Returns the
/// removed ids. Their running jobs are the rescuer's (a running job whose
/// node row is missing counts as lost).
pub async fn delete_dead(
    db: impl PgExecutor<'_>,
    now: Option<DateTime<Utc>>,
    dead_after: Duration,
    lease: Option<LeaseGuard<'_>>,
) -> Result<Vec<NodeId>> {
    let ids = sqlx::query_scalar!(
        r#"WITH dead AS (
               DELETE FROM weir.nodes
               WHERE heartbeat_at < coalesce($1, now()) - make_interval(secs => $2)
                 AND ($3::uuid IS NULL OR EXISTS (
                      SELECT 1 FROM weir.leaders l
                      WHERE l.name = $4 AND l.node_id = $3 AND l.expires_at > now()))
               RETURNING id
           ), wakeups AS (
               DELETE FROM weir.wakeups w USING dead WHERE w.node_id = dead.id
           )
           SELECT id AS "id!" FROM dead"#,
        now,
        dead_after.as_secs_f64(),
        lease.map(|l| l.node.0),
        lease.map(|l| l.role),
    )
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(NodeId).collect())
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

/// The `(queue, kind)` pairs among `queues[i], kinds[i]` that no live node
/// serves (heartbeat within `dead_after`, the queue among its queues, the
/// kind among its kinds): jobs of those wait until a worker comes.
pub async fn unserved(
    db: impl PgExecutor<'_>,
    queues: &[&str],
    kinds: &[&str],
    dead_after: Duration,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT p.queue AS "queue!", p.kind AS "kind!"
           FROM unnest($1::text[], $2::text[]) AS p(queue, kind)
           WHERE NOT EXISTS (
               SELECT 1 FROM weir.nodes n
               WHERE n.heartbeat_at > now() - make_interval(secs => $3)
                 AND n.queues ? p.queue AND p.kind = ANY(n.kinds))"#,
        queues as &[&str],
        kinds as &[&str],
        dead_after.as_secs_f64(),
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.queue, r.kind)).collect())
}
