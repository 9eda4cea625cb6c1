//! The read behind a worker's supervision of its running attempts.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::Result;
use crate::job::{ClaimToken, JobId};

/// What the worker-side watch learns about one of its executions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// Still running with this attempt's claim token.
    Held,
    /// Still this attempt's, and a cancel was requested.
    CancelRequested,
    /// No longer running with this claim token (rescued, re-claimed, or
    /// the claim was lost in a crash): the attempt must stop and record
    /// nothing.
    Lost,
}

/// Looks up, in one statement, whether each `(id, claim token)` still
/// holds its running job and whether a cancel was requested for it.
/// Read-only; every pair gets an answer, in no particular order.
pub async fn watch_running(
    db: impl PgExecutor<'_>,
    jobs: &[(JobId, ClaimToken)],
) -> Result<Vec<(JobId, Watched)>> {
    let ids: Vec<Uuid> = jobs.iter().map(|(id, _)| id.0).collect();
    let tokens: Vec<Uuid> = jobs.iter().map(|(_, t)| t.0).collect();
    let rows = sqlx::query!(
        r#"SELECT u.id AS "id!", j.id IS NOT NULL AS "held!",
                  j.cancel_requested_at IS NOT NULL AS "cancel!"
           FROM unnest($1::uuid[], $2::uuid[]) AS u(id, token)
           LEFT JOIN weir.jobs_live j
             ON j.id = u.id AND j.state = 'running' AND j.claim_token = u.token"#,
        &ids,
        &tokens,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let w = match (r.held, r.cancel) {
                (false, _) => Watched::Lost,
                (true, true) => Watched::CancelRequested,
                (true, false) => Watched::Held,
            };
            (JobId(r.id), w)
        })
        .collect())
}
