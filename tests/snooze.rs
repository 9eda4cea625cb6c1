//! Snooze: a handler's "not now" (`JobError::Snooze`) sends the job back
//! to `scheduled` for the delay without spending the attempt, fenced by
//! the claim token like every other outcome.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use sqlx::PgPool;
use weir::worker::Registry;
use weir::{Client, JobContext, JobError, JobState, NewJob, Task};

/// `test.snooze`: snoozes for `ms` on its first `times` runs, then
/// succeeds. Records the attempt number and the instant of every run.
#[derive(Clone, Default)]
struct Snoozer {
    runs: Arc<Mutex<Vec<(i32, Instant)>>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SnoozeArgs {
    times: usize,
    ms: u64,
}

impl Task for Snoozer {
    const KIND: &'static str = "test.snooze";
    type Args = SnoozeArgs;
    type Output = serde_json::Value;

    async fn run(&self, ctx: JobContext, args: SnoozeArgs) -> Result<serde_json::Value, JobError> {
        let n = {
            let mut runs = self.runs.lock().unwrap();
            runs.push((ctx.attempt(), Instant::now()));
            runs.len()
        };
        if n <= args.times {
            return Err(JobError::Snooze(Duration::from_millis(args.ms)));
        }
        Ok(json!({"runs": n}))
    }
}

#[sqlx::test]
async fn a_job_with_one_attempt_snoozes_several_times_then_succeeds(pool: PgPool) {
    let snoozer = Snoozer::default();
    let mut registry = Registry::new();
    registry.register(snoozer.clone());
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry);
    let delay = Duration::from_millis(700);
    let id = Client::new(pool.clone())
        .enqueue_job(
            &NewJob::new(
                "test.snooze",
                json!({"times": 3, "ms": delay.as_millis() as u64}),
            )
            .max_attempts(1),
        )
        .await
        .unwrap()
        .id;

    // Between runs the job waits as `scheduled`, its attempt given back.
    let waiting = eventually(Duration::from_secs(10), "the job to be snoozed", || async {
        let j = job(&pool, id).await;
        (j.state == JobState::Scheduled).then_some(j)
    })
    .await;
    assert_eq!(waiting.attempt, 0, "a snooze does not spend the attempt");
    assert!(waiting.errors.is_empty(), "a snooze is not an error");

    let done = wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(30)).await;
    worker.stop().await;
    assert_eq!(done.attempt, 1, "max_attempts = 1 and it still succeeded");
    assert_eq!(done.result, Some(json!({"runs": 4})));
    let runs = snoozer.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 4, "three snoozes, then the run that succeeded");
    assert!(runs.iter().all(|(attempt, _)| *attempt == 1), "{runs:?}");
    for pair in runs.windows(2) {
        let gap = pair[1].1 - pair[0].1;
        assert!(
            gap >= delay,
            "came back after {gap:?}, before the {delay:?} snooze ended"
        );
    }
}

#[sqlx::test]
async fn a_stale_claim_token_snoozes_nothing(pool: PgPool) {
    let client = Client::new(pool.clone());
    let kinds = vec!["py.work".to_string()];
    let node = client
        .register_worker("test", &["default".to_string()], &kinds)
        .await
        .unwrap();
    let a = client
        .enqueue_job(&NewJob::new("py.work", json!({})))
        .await
        .unwrap()
        .id;
    let b = client
        .enqueue_job(&NewJob::new("py.work", json!({})))
        .await
        .unwrap()
        .id;
    let claimed = client
        .claim(node, "default", &kinds, 2, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let token_of = |id| claimed.iter().find(|c| c.id == id).unwrap().claim_token;
    let stale = weir::job::ClaimToken(uuid::Uuid::new_v4());
    let hour = Duration::from_secs(3600);

    // One batch: a's stale token and b's current one.
    let matched =
        weir::db::jobs::snooze_if_running(&pool, &[(a, stale, hour), (b, token_of(b), hour)])
            .await
            .unwrap();
    assert_eq!(matched, vec![(b, token_of(b))]);

    let a_now = job(&pool, a).await;
    assert_eq!(
        a_now.state,
        JobState::Running,
        "the stale snooze changed nothing"
    );
    assert_eq!(a_now.attempt, 1);
    let b_now = job(&pool, b).await;
    assert_eq!(b_now.state, JobState::Scheduled);
    assert_eq!(b_now.attempt, 0);
    assert!(b_now.run_at > chrono::Utc::now() + chrono::Duration::minutes(59));

    // b's token is spent: a second snooze with it matches nothing.
    let again = weir::db::jobs::snooze_if_running(&pool, &[(b, token_of(b), hour)])
        .await
        .unwrap();
    assert!(again.is_empty());
}
