//! Statements on `weir.leaders`: leadership with a TTL, which works through
//! transaction-mode poolers because it keeps no session state.

use std::time::Duration;

use sqlx::PgExecutor;

use crate::error::Result;
use crate::job::NodeId;

/// Takes or renews leadership of `role` for `node` for `ttl`, if nobody
/// else holds an unexpired lease. Returns whether `node` is the leader.
pub async fn try_acquire(
    db: impl PgExecutor<'_>,
    role: &str,
    node: NodeId,
    ttl: Duration,
) -> Result<bool> {
    let leader = sqlx::query_scalar!(
        r#"INSERT INTO weir.leaders AS l (name, node_id, expires_at)
           VALUES ($1, $2, now() + make_interval(secs => $3))
           ON CONFLICT (name) DO UPDATE
           SET node_id = excluded.node_id,
               expires_at = excluded.expires_at,
               elected_at = CASE WHEN l.node_id = excluded.node_id THEN l.elected_at ELSE now() END
           WHERE l.node_id = excluded.node_id OR l.expires_at < now()
           RETURNING node_id"#,
        role,
        node.0,
        ttl.as_secs_f64(),
    )
    .fetch_optional(db)
    .await?;
    Ok(leader == Some(node.0))
}

/// Gives up leadership of `role` if `node` holds it, so another node can
/// take over at once.
pub async fn resign(db: impl PgExecutor<'_>, role: &str, node: NodeId) -> Result<()> {
    sqlx::query!(
        "DELETE FROM weir.leaders WHERE name = $1 AND node_id = $2",
        role,
        node.0
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether `node` holds an unexpired lease on `role` (database clock).
pub async fn holds(db: impl PgExecutor<'_>, role: &str, node: NodeId) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM weir.leaders
                          WHERE name = $1 AND node_id = $2 AND expires_at > now()) AS "held!""#,
        role,
        node.0
    )
    .fetch_one(db)
    .await?)
}

/// The node holding an unexpired lease on `role`, if any.
pub async fn current(db: impl PgExecutor<'_>, role: &str) -> Result<Option<NodeId>> {
    let node = sqlx::query_scalar!(
        "SELECT node_id FROM weir.leaders WHERE name = $1 AND expires_at > now()",
        role
    )
    .fetch_optional(db)
    .await?;
    Ok(node.map(NodeId))
}
