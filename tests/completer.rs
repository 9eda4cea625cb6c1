//! The completer: an outcome kept while the database cannot be reached,
//! outcomes the database can never store recorded as failed attempts
//! without holding up the others, each outcome matched to its own
//! attempt, and no write with an old claim token.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use weir::db::jobs::{Failure, Success};
use weir::job::ClaimToken;
use weir::worker::Registry;
use weir::worker::completer::{self, Outcome, Pending, Settled};
use weir::{JobContext, JobError, JobId, JobState, NodeId, Progress, Task};

#[sqlx::test]
async fn outcome_refused_by_the_database_is_recorded_when_it_is_back(pool: PgPool) {
    // Stand-in for an outage that only hits outcome writes: completions
    // fail with "the database is starting up" until the trigger is dropped.
    sqlx::raw_sql(
        "CREATE FUNCTION public.refuse_outcomes() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'database unavailable (test)' USING ERRCODE = '57P03'; END $$;
         CREATE TRIGGER refuse_outcomes BEFORE UPDATE ON weir.jobs_live
             FOR EACH ROW WHEN (NEW.state = 'succeeded')
             EXECUTE FUNCTION public.refuse_outcomes();",
    )
    .execute(&pool)
    .await
    .unwrap();
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    let id = enqueue_kind(&pool, "test.record", json!({})).await;
    eventually(Duration::from_secs(10), "the handler to run", || async {
        (!recorder.runs().is_empty()).then_some(())
    })
    .await;
    // Several refused tries.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(job(&pool, id).await.state, JobState::Running);

    sqlx::raw_sql("DROP TRIGGER refuse_outcomes ON weir.jobs_live")
        .execute(&pool)
        .await
        .unwrap();
    let j = wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(20)).await;
    assert_eq!(j.attempt, 1);
    assert!(j.errors.is_empty());
    assert_eq!(recorder.runs(), vec![(id, 1)], "the handler ran once");
    worker.stop().await;
}

/// Enqueues a `test.record` job and claims it for a node of its own.
async fn claimed(pool: &PgPool) -> (JobId, ClaimToken) {
    let id = enqueue_kind(pool, "test.record", json!({})).await;
    let token = claim(pool, id).await;
    (id, token)
}

async fn claim(pool: &PgPool, id: JobId) -> ClaimToken {
    let kinds = ["test.record".to_string()];
    let node = NodeId(Uuid::new_v4());
    let claimed = weir::db::jobs::claim_available(pool, "default", &kinds, &[60], 1, node)
        .await
        .unwrap();
    assert_eq!(claimed[0].id, id);
    claimed[0].claim_token
}

fn succeeded(id: JobId, token: ClaimToken, result: serde_json::Value) -> Outcome {
    Outcome::Succeeded(Success {
        id,
        token,
        result,
        progress: None,
        start_delay: std::time::Duration::ZERO,
    })
}

fn failed(id: JobId, token: ClaimToken, message: &str, fatal: bool) -> Outcome {
    Outcome::Failed(Failure {
        id,
        token,
        message: message.into(),
        fatal,
        retry_in: Duration::ZERO,
        start_delay: std::time::Duration::ZERO,
    })
}

/// Runs a completer over `outcomes`, all sent before it starts, so they
/// make one batch; returns what became of each, in order.
async fn complete_in_one_batch(pool: &PgPool, outcomes: Vec<Outcome>) -> Vec<Settled> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut told = Vec::new();
    for outcome in outcomes {
        let (recorded, settled) = oneshot::channel();
        let pending = Pending {
            outcome,
            retry_in: Duration::ZERO,
            recorded: Some(recorded),
        };
        tx.send(pending).unwrap();
        told.push(settled);
    }
    drop(tx);
    let done = completer::run(pool.clone(), rx, CancellationToken::new());
    tokio::time::timeout(Duration::from_secs(20), done)
        .await
        .expect("the completer settled the batch");
    let mut settled = Vec::new();
    for t in told {
        settled.push(t.await.expect("every outcome is settled"));
    }
    settled
}

#[sqlx::test]
async fn outcomes_postgres_cannot_store_fail_their_own_jobs_and_hold_up_no_other(pool: PgPool) {
    let mut normal = Vec::new();
    for _ in 0..3 {
        normal.push(claimed(&pool).await);
    }
    let nul_result = claimed(&pool).await;
    let nul_error = claimed(&pool).await;
    let nul_progress = claimed(&pool).await;
    let mut outcomes: Vec<Outcome> = normal
        .iter()
        .map(|(id, token)| succeeded(*id, *token, json!({"ok": true})))
        .collect();
    outcomes.insert(
        1,
        succeeded(nul_result.0, nul_result.1, json!({"text": "a\u{0}b"})),
    );
    outcomes.insert(3, failed(nul_error.0, nul_error.1, "bad\0byte", false));
    outcomes.push(Outcome::Succeeded(Success {
        id: nul_progress.0,
        token: nul_progress.1,
        result: json!("done"),
        progress: Some(Progress {
            message: Some("step\0two".into()),
            ..Default::default()
        }),
        start_delay: std::time::Duration::ZERO,
    }));

    let settled = complete_in_one_batch(&pool, outcomes).await;
    use Settled::*;
    assert_eq!(
        settled,
        [
            Recorded,
            RecordedAsFailure,
            Recorded,
            Recorded,
            Recorded,
            Recorded
        ]
    );
    for (id, _) in normal {
        assert_eq!(job(&pool, id).await.result, Some(json!({"ok": true})));
    }
    let j = job(&pool, nul_result.0).await;
    assert_eq!(
        j.state,
        JobState::Failed,
        "a result jsonb refuses never will be stored"
    );
    assert!(j.result.is_none());
    assert!(
        j.errors[0]
            .message
            .starts_with("result could not be stored: "),
        "{:?}",
        j.errors
    );
    let j = job(&pool, nul_error.0).await;
    assert_eq!(j.state, JobState::Retryable, "the usual rules");
    assert_eq!(j.errors[0].message, "bad\\u0000byte", "stored escaped");
    let j = job(&pool, nul_progress.0).await;
    assert_eq!(j.state, JobState::Succeeded);
    assert_eq!(j.progress.unwrap().message.unwrap(), "step\\u0000two");
}

/// `test.nul_result`: returns a result jsonb cannot hold.
struct NulResult;

impl Task for NulResult {
    const KIND: &'static str = "test.nul_result";
    type Args = serde_json::Value;
    type Output = serde_json::Value;

    async fn run(
        &self,
        _: JobContext,
        _: serde_json::Value,
    ) -> Result<serde_json::Value, JobError> {
        Ok(json!({"text": "a\u{0}b"}))
    }
}

/// `test.nul_error`: fails with a message text cannot hold.
struct NulError;

impl Task for NulError {
    const KIND: &'static str = "test.nul_error";
    type Args = serde_json::Value;
    type Output = serde_json::Value;

    async fn run(
        &self,
        _: JobContext,
        _: serde_json::Value,
    ) -> Result<serde_json::Value, JobError> {
        Err(JobError::Retry("bad\0byte".into()))
    }
}

#[sqlx::test]
async fn a_node_keeps_claiming_after_outcomes_postgres_cannot_store(pool: PgPool) {
    let recorder = Recorder::default();
    let mut tasks: Registry = registry(&recorder);
    tasks.register(NulResult).register(NulError);
    let client = weir::Client::new(pool.clone());
    let mut bad = Vec::new();
    for kind in ["test.nul_result", "test.nul_error"] {
        let job = weir::NewJob::new(kind, json!({})).max_attempts(1);
        bad.push(client.enqueue_job(&job).await.unwrap().id);
    }
    let mut good = Vec::new();
    for _ in 0..3 {
        good.push(enqueue_kind(&pool, "test.record", json!({})).await);
    }
    // One slot: a wedged outcome would keep it for good.
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 1)]), tasks);
    for id in &bad {
        wait_for_state(&pool, *id, JobState::Failed, Duration::from_secs(15)).await;
    }
    for _ in 0..3 {
        good.push(enqueue_kind(&pool, "test.record", json!({})).await);
    }
    for id in good {
        wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(15)).await;
    }
    worker.stop().await;
    let j = job(&pool, bad[1]).await;
    assert_eq!(j.errors[0].message, "bad\\u0000byte");
}

#[sqlx::test]
async fn each_outcome_is_matched_to_its_own_attempt_within_a_batch(pool: PgPool) {
    // Each job's first attempt was handed back and the job claimed again:
    // the old attempt's outcome is stale, the new one's is current.
    let mut jobs = Vec::new();
    for _ in 0..4 {
        let (id, stale) = claimed(&pool).await;
        weir::db::jobs::hand_back_if_running(&pool, &[(id, stale)])
            .await
            .unwrap();
        let current = claim(&pool, id).await;
        jobs.push((id, stale, current));
    }
    let [a, b, c, d] = jobs[..] else {
        unreachable!()
    };
    let outcomes = vec![
        // Stale first, then current; then the other way round.
        succeeded(a.0, a.1, json!("stale")),
        succeeded(a.0, a.2, json!("current")),
        succeeded(b.0, b.2, json!("current")),
        succeeded(b.0, b.1, json!("stale")),
        failed(c.0, c.1, "stale", true),
        failed(c.0, c.2, "current", true),
        failed(d.0, d.2, "current", true),
        failed(d.0, d.1, "stale", true),
    ];
    let settled = complete_in_one_batch(&pool, outcomes).await;
    use Settled::*;
    assert_eq!(
        settled,
        [
            Stale, Recorded, Recorded, Stale, Stale, Recorded, Recorded, Stale
        ]
    );
    for (id, ..) in [a, b] {
        let j = job(&pool, id).await;
        assert_eq!(
            (j.state, j.result),
            (JobState::Succeeded, Some(json!("current")))
        );
    }
    for (id, ..) in [c, d] {
        let j = job(&pool, id).await;
        assert_eq!(j.state, JobState::Failed);
        let messages: Vec<_> = j.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["current"]);
    }
}

#[sqlx::test]
async fn a_write_with_an_old_claim_token_changes_nothing(pool: PgPool) {
    let id = enqueue_kind(&pool, "test.record", json!({})).await;
    let node = NodeId(Uuid::new_v4());
    let kinds = vec!["test.record".to_string()];
    let claimed = weir::db::jobs::claim_available(&pool, "default", &kinds, &[60], 10, node)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let good = claimed[0].claim_token;
    let stale = ClaimToken(Uuid::new_v4());

    let done = weir::db::jobs::complete_if_running(
        &pool,
        &[Success {
            id,
            token: stale,
            result: json!("stale"),
            progress: None,
            start_delay: std::time::Duration::ZERO,
        }],
    )
    .await
    .unwrap();
    assert!(done.is_empty());
    let failed = weir::db::jobs::fail_if_running(
        &pool,
        &[Failure {
            id,
            token: stale,
            message: "stale".into(),
            fatal: true,
            retry_in: Duration::ZERO,
            start_delay: std::time::Duration::ZERO,
        }],
    )
    .await
    .unwrap();
    assert!(failed.is_empty());
    let progressed = weir::db::jobs::set_progress_if_running(
        &pool,
        &[(
            id,
            stale,
            weir::Progress {
                done: Some(1),
                ..Default::default()
            },
        )],
    )
    .await
    .unwrap();
    assert_eq!(progressed, 0);
    assert!(
        weir::db::jobs::cancel_if_running(&pool, &[(id, stale)])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        weir::db::jobs::hand_back_if_running(&pool, &[(id, stale)])
            .await
            .unwrap()
            .1
            .is_empty()
    );
    let j = job(&pool, id).await;
    assert_eq!(j.state, JobState::Running);
    assert!(j.errors.is_empty() && j.result.is_none() && j.progress.is_none());

    // The current token still works.
    let done = weir::db::jobs::complete_if_running(
        &pool,
        &[Success {
            id,
            token: good,
            result: json!("ok"),
            progress: None,
            start_delay: std::time::Duration::ZERO,
        }],
    )
    .await
    .unwrap();
    assert_eq!(done, vec![(id, good)]);
    assert_eq!(job(&pool, id).await.result, Some(json!("ok")));
}
