//! Statements on `weir.wakeups`: idle workers (and the stager) arm a
//! wake-up per queue so that enqueues notify only when somebody waits.

use sqlx::PgExecutor;

use crate::error::Result;
use crate::job::NodeId;

/// The NOTIFY channel that carries a queue name when work arrives there.
pub const JOBS_AVAILABLE_CHANNEL: &str = "weir_jobs_available";

/// The reserved queue name of the stager's wake-up (scheduled jobs were
/// inserted).
pub const STAGER: &str = "$stager";

/// Arms (or re-arms) `node`'s wake-up for `queue`: the next enqueue there
/// sends a NOTIFY and disarms it. The caller must look for work again
/// after this returns, since an enqueue that committed just before was not
/// announced.
pub async fn arm(db: impl PgExecutor<'_>, node: NodeId, queue: &str) -> Result<()> {
    sqlx::query!(
        r#"INSERT INTO weir.wakeups (node_id, queue, armed) VALUES ($1, $2, true)
           ON CONFLICT (node_id, queue) DO UPDATE SET armed = true"#,
        node.0,
        queue
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Wakes the armed wake-ups of `queues` (NOTIFY, then disarm). Returns how
/// many queues were notified.
pub async fn notify_queues(db: impl PgExecutor<'_>, queues: &[String]) -> Result<i32> {
    Ok(
        sqlx::query_scalar!(r#"SELECT weir.notify_queues($1) AS "n!""#, queues)
            .fetch_one(db)
            .await?,
    )
}

/// Removes `node`'s wake-up for `queue` (the queue stopped being served).
pub async fn remove(db: impl PgExecutor<'_>, node: NodeId, queue: &str) -> Result<()> {
    sqlx::query!(
        "DELETE FROM weir.wakeups WHERE node_id = $1 AND queue = $2",
        node.0,
        queue
    )
    .execute(db)
    .await?;
    Ok(())
}
