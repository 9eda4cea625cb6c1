//! Workflows: jobs waiting on jobs (chain, group, chord), release and
//! cancel of dependents, refused shapes, cancel of a workflow, and the
//! parents a handler or an external worker reads.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use sqlx::PgPool;
use weir::worker::Registry;
use weir::workflow::{NewWorkflow, WorkflowState};
use weir::{Client, JobContext, JobError, JobId, JobState, NewJob, Task};

const WAIT: Duration = Duration::from_secs(30);

/// Adds its args' `n` to the sum of its parents' results' `n`, and
/// returns the parents it saw (ref and result).
#[derive(Clone)]
struct Sum;

impl Task for Sum {
    const KIND: &'static str = "test.sum";
    type Args = Value;
    type Output = Value;

    async fn run(&self, ctx: JobContext, args: Value) -> Result<Value, JobError> {
        let parents = ctx
            .parents()
            .await
            .map_err(|e| JobError::Fatal(e.to_string()))?;
        let from_parents: i64 = parents
            .iter()
            .map(|p| p.result["n"].as_i64().unwrap_or(0))
            .sum();
        let seen: Vec<Value> = parents
            .iter()
            .map(|p| json!({"ref": p.job_ref, "id": p.id, "kind": p.kind, "n": p.result["n"]}))
            .collect();
        if args.get("fail").is_some() {
            return Err(JobError::Fatal("asked to fail".into()));
        }
        Ok(json!({"n": from_parents + args["n"].as_i64().unwrap_or(0), "parents": seen}))
    }
}

fn sum_worker(pool: &PgPool) -> RunningWorker {
    let mut registry = Registry::new();
    registry.register(Sum);
    RunningWorker::start(pool, fast_config(&[("default", 8)]), registry)
}

fn sum(n: i64) -> NewJob {
    NewJob::new("test.sum", json!({"n": n}))
}

#[sqlx::test]
async fn a_chain_passes_each_result_to_the_next(pool: PgPool) {
    let client = Client::new(pool.clone());
    let wf = client
        .create_workflow(&NewWorkflow::chain("chain", [sum(1), sum(10), sum(100)]))
        .await
        .unwrap();
    assert_eq!(wf.jobs.len(), 3);
    assert_eq!(wf.jobs[0].state, JobState::Available);
    assert_eq!(wf.jobs[1].state, JobState::Pending);
    assert_eq!(wf.jobs[2].depends_on, Some(vec![wf.jobs[1].id]));
    let worker = sum_worker(&pool);
    let done = client.wait_workflow(wf.id, WAIT).await.unwrap();
    worker.stop().await;
    assert_eq!(done.state, WorkflowState::Succeeded);
    let results: Vec<i64> = done
        .jobs
        .iter()
        .map(|j| j.result.as_ref().unwrap()["n"].as_i64().unwrap())
        .collect();
    assert_eq!(results, [1, 11, 111]);
    let last = done.jobs[2].result.as_ref().unwrap();
    assert_eq!(last["parents"][0]["ref"], "1");
    assert_eq!(last["parents"][0]["id"], json!(done.jobs[1].id));
    // Each step started only after the one before finished.
    for pair in done.jobs.windows(2) {
        assert!(pair[1].started_at.unwrap() >= pair[0].finished_at.unwrap());
    }
}

#[sqlx::test]
async fn a_group_of_100_finishes_with_every_result_readable(pool: PgPool) {
    let client = Client::new(pool.clone());
    let wf = client
        .create_workflow(&NewWorkflow::group("group", (0..100).map(sum)))
        .await
        .unwrap();
    assert_eq!(wf.counts.available, 100);
    let worker = sum_worker(&pool);
    let done = client.wait_workflow(wf.id, WAIT).await.unwrap();
    worker.stop().await;
    assert_eq!(done.state, WorkflowState::Succeeded);
    assert_eq!(done.counts.succeeded, 100);
    for (i, job) in done.jobs.iter().enumerate() {
        assert_eq!(job.job_ref.as_deref(), Some(i.to_string().as_str()));
        assert_eq!(job.result.as_ref().unwrap()["n"], json!(i));
    }
}

#[sqlx::test]
async fn a_chords_callback_sees_every_result(pool: PgPool) {
    let client = Client::new(pool.clone());
    let wf = client
        .create_workflow(&NewWorkflow::chord("chord", (1..=20).map(sum), sum(0)))
        .await
        .unwrap();
    let worker = sum_worker(&pool);
    let done = client.wait_workflow(wf.id, WAIT).await.unwrap();
    worker.stop().await;
    assert_eq!(done.state, WorkflowState::Succeeded);
    let callback = done.jobs.last().unwrap();
    assert_eq!(callback.job_ref.as_deref(), Some("callback"));
    let result = callback.result.as_ref().unwrap();
    assert_eq!(result["n"], json!((1..=20).sum::<i64>()));
    assert_eq!(result["parents"].as_array().unwrap().len(), 20);
    let last_member = done.jobs[..20].iter().map(|j| j.finished_at.unwrap()).max();
    assert!(callback.started_at.unwrap() >= last_member.unwrap());
}

#[sqlx::test]
async fn a_failing_member_cancels_its_dependents_transitively(pool: PgPool) {
    let client = Client::new(pool.clone());
    // a fails; b waits on a, c on b, d on a and b; e is independent.
    let wf = NewWorkflow::new("fails")
        .job("a", NewJob::new("test.sum", json!({"fail": true})), &[])
        .job("b", sum(1), &["a"])
        .job("c", sum(1), &["b"])
        .job("d", sum(1), &["a", "b"])
        .job("e", sum(1), &[]);
    let wf = client.create_workflow(&wf).await.unwrap();
    let worker = sum_worker(&pool);
    let done = client.wait_workflow(wf.id, WAIT).await.unwrap();
    worker.stop().await;
    assert_eq!(done.state, WorkflowState::Failed);
    let by_ref = |r: &str| {
        done.jobs
            .iter()
            .find(|j| j.job_ref.as_deref() == Some(r))
            .unwrap()
    };
    let a = by_ref("a");
    assert_eq!(a.state, JobState::Failed);
    assert_eq!(by_ref("e").state, JobState::Succeeded);
    for r in ["b", "c", "d"] {
        let job = by_ref(r);
        assert_eq!(job.state, JobState::Cancelled, "{r}");
        assert_eq!(job.attempt, 0, "{r} never ran");
        let message = &job.errors.last().unwrap().message;
        assert!(message.contains(&a.id.to_string()), "{r}: {message}");
        assert!(message.contains("(a) ended failed"), "{r}: {message}");
    }
    assert!(
        by_ref("c").errors[0]
            .message
            .contains(&by_ref("b").id.to_string())
    );
    assert_eq!(
        (
            done.counts.failed,
            done.counts.cancelled,
            done.counts.succeeded
        ),
        (1, 3, 1)
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM weir.job_waits) + (SELECT count(*) FROM weir.job_dependents)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 0, "no counter or edge outlives its jobs");
}

async fn create_err(pool: &PgPool, jobs: Value) -> String {
    let err = sqlx::query("SELECT weir.create_workflow('bad', $1)")
        .bind(jobs)
        .execute(pool)
        .await
        .unwrap_err();
    let db = err.as_database_error().unwrap();
    assert_eq!(db.code().as_deref(), Some("22023"), "{}", db.message());
    db.message().to_string()
}

#[sqlx::test]
async fn cycles_unknown_refs_and_duplicate_refs_are_refused_in_sql(pool: PgPool) {
    let cycle = create_err(
        &pool,
        json!([
            {"ref": "a", "kind": "k", "depends_on": ["c"]},
            {"ref": "b", "kind": "k", "depends_on": ["a"]},
            {"ref": "c", "kind": "k", "depends_on": ["b"]},
            {"ref": "d", "kind": "k"}
        ]),
    )
    .await;
    assert!(cycle.contains("cycle"), "{cycle}");
    assert!(!cycle.contains("\"d\""), "d is not on the cycle: {cycle}");
    let unknown = create_err(
        &pool,
        json!([{"ref": "a", "kind": "k", "depends_on": ["nope"]}]),
    )
    .await;
    assert!(unknown.contains("\"nope\""), "{unknown}");
    let duplicate = create_err(
        &pool,
        json!([{"ref": "a", "kind": "k"}, {"ref": "a", "kind": "k"}]),
    )
    .await;
    assert!(duplicate.contains("more than one"), "{duplicate}");
    let too_many: Vec<Value> = (0..1001)
        .map(|i| json!({"ref": i.to_string(), "kind": "k"}))
        .collect();
    let big = create_err(&pool, Value::Array(too_many)).await;
    assert!(big.contains("1 to 1000"), "{big}");
    let stored: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM weir.jobs) + (SELECT count(*) FROM weir.workflows)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 0, "nothing of a refused workflow is stored");
    // Through the client: the same message, as an invalid job.
    let wf = NewWorkflow::new("self").job("a", sum(1), &["a"]);
    let err = Client::new(pool).create_workflow(&wf).await.unwrap_err();
    assert!(
        matches!(err, weir::Error::InvalidJob(ref m) if m.contains("depends on itself")),
        "{err}"
    );
}

#[sqlx::test]
async fn cancelling_a_workflow_cancels_every_unfinished_member(pool: PgPool) {
    let client = Client::new(pool.clone());
    let wf = NewWorkflow::new("to cancel")
        .job("done", NewJob::new("test.sum", json!({"n": 1})), &[])
        .job("running", NewJob::new("nobody.serves", json!({})), &[])
        .job("queued", NewJob::new("nobody.serves", json!({})), &[])
        .job("waiting", sum(1), &["running"]);
    let wf = client.create_workflow(&wf).await.unwrap();
    // Finish "done" and claim "running" by hand, through the worker API.
    let node: uuid::Uuid = sqlx::query_scalar(
        "SELECT weir.register_worker('t', '{default}', '{test.sum,nobody.serves}')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let (done_id, token): (uuid::Uuid, uuid::Uuid) =
        sqlx::query_as("SELECT id, claim_token FROM weir.claim($1, 'default', '{test.sum}', 1)")
            .bind(node)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(done_id, wf.jobs[0].id.0);
    sqlx::query("SELECT weir.complete_job($1, $2, '{}')")
        .bind(done_id)
        .bind(token)
        .execute(&pool)
        .await
        .unwrap();
    let running: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM weir.claim($1, 'default', '{nobody.serves}', 1)")
            .bind(node)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(running, wf.jobs[1].id.0);

    let n: i32 = sqlx::query_scalar("SELECT weir.cancel_workflow($1)")
        .bind(wf.id.0)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 3);
    let after = client.workflow(wf.id).await.unwrap();
    let states: Vec<JobState> = after.jobs.iter().map(|j| j.state).collect();
    assert_eq!(
        states,
        [
            JobState::Succeeded,
            JobState::Running,
            JobState::Cancelled,
            JobState::Cancelled
        ]
    );
    assert!(after.jobs[1].cancel_requested.is_some());
    assert_eq!(after.state, WorkflowState::Running);

    let err = sqlx::query("SELECT weir.cancel_workflow(gen_random_uuid())")
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().code().as_deref(),
        Some("P0002")
    );
}

#[sqlx::test]
async fn an_external_workers_claim_returns_the_parents(pool: PgPool) {
    let client = Client::new(pool.clone());
    let wf = client
        .create_workflow(&NewWorkflow::chord("ext", [sum(1), sum(2)], sum(0)))
        .await
        .unwrap();
    let node: uuid::Uuid =
        sqlx::query_scalar("SELECT weir.register_worker('t', '{default}', '{test.sum}')")
            .fetch_one(&pool)
            .await
            .unwrap();
    let claimed: Vec<(uuid::Uuid, uuid::Uuid, Value)> = sqlx::query_as(
        "SELECT id, claim_token, parents FROM weir.claim($1, 'default', '{test.sum}', 10)",
    )
    .bind(node)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(claimed.len(), 2, "the callback is pending");
    for (i, (id, token, parents)) in claimed.iter().enumerate() {
        assert_eq!(parents, &json!([]));
        sqlx::query("SELECT weir.complete_job($1, $2, $3)")
            .bind(id)
            .bind(token)
            .bind(json!({"n": i + 1}))
            .execute(&pool)
            .await
            .unwrap();
    }
    let (id, parents): (uuid::Uuid, Value) =
        sqlx::query_as("SELECT id, parents FROM weir.claim($1, 'default', '{test.sum}', 10)")
            .bind(node)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(id, wf.jobs[2].id.0);
    let parents = parents.as_array().unwrap();
    assert_eq!(parents.len(), 2);
    for (i, p) in parents.iter().enumerate() {
        assert_eq!(p["ref"], json!(i.to_string()));
        assert_eq!(p["id"], json!(wf.jobs[i].id));
        assert_eq!(p["kind"], "test.sum");
        assert_eq!(p["result"], json!({"n": i + 1}));
    }
}

#[sqlx::test]
async fn enqueue_with_depends_on_waits_releases_and_cancels(pool: PgPool) {
    let client = Client::new(pool.clone());
    let parent = enqueue_kind(&pool, "nobody.serves", json!({})).await;
    let child = client
        .enqueue_job(&NewJob::new("nobody.serves", json!({})).depends_on(parent))
        .await
        .unwrap()
        .id;
    let waiting = client.job(child).await.unwrap();
    assert_eq!(waiting.state, JobState::Pending);
    assert_eq!(waiting.waiting_on, Some(vec![parent]));
    assert_eq!(waiting.depends_on, Some(vec![parent]));

    // A plain INSERT naming depends_on waits the same way.
    let by_insert: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO weir.jobs (kind, depends_on, run_at) VALUES ('nobody.serves', ARRAY[$1::uuid], now() + interval '1 hour') RETURNING id",
    )
    .bind(parent.0)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        client.job(JobId(by_insert)).await.unwrap().state,
        JobState::Pending
    );

    // The parent succeeds: the child becomes available, the inserted one
    // scheduled (its run_at is ahead).
    let node: uuid::Uuid =
        sqlx::query_scalar("SELECT weir.register_worker('t', '{default}', '{nobody.serves}')")
            .fetch_one(&pool)
            .await
            .unwrap();
    let token: uuid::Uuid = sqlx::query_scalar(
        "SELECT claim_token FROM weir.claim($1, 'default', '{nobody.serves}', 1)",
    )
    .bind(node)
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query("SELECT weir.complete_job($1, $2, '{}')")
        .bind(parent.0)
        .bind(token)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(client.job(child).await.unwrap().state, JobState::Available);
    assert_eq!(
        client.job(JobId(by_insert)).await.unwrap().state,
        JobState::Scheduled
    );

    // A succeeded dependency is met at once; a cancelled one cancels at once.
    let late = client
        .enqueue_job(&NewJob::new("nobody.serves", json!({})).depends_on(parent))
        .await
        .unwrap()
        .id;
    assert_eq!(client.job(late).await.unwrap().state, JobState::Available);
    let doomed_parent = enqueue_kind(&pool, "nobody.serves", json!({})).await;
    client.cancel(doomed_parent).await.unwrap();
    let doomed = client
        .enqueue_job(&NewJob::new("nobody.serves", json!({})).depends_on(doomed_parent))
        .await
        .unwrap()
        .id;
    let doomed = client.job(doomed).await.unwrap();
    assert_eq!(doomed.state, JobState::Cancelled);
    assert!(
        doomed.errors[0]
            .message
            .contains(&format!("{doomed_parent} ended cancelled"))
    );

    // Unknown dependencies are refused, nothing stored.
    let err = client
        .enqueue_job(&NewJob::new("nobody.serves", json!({})).depends_on(JobId(uuid::Uuid::nil())))
        .await
        .unwrap_err();
    assert!(
        matches!(err, weir::Error::InvalidJob(ref m) if m.contains("does not exist")),
        "{err}"
    );
}

#[sqlx::test]
async fn a_fan_in_releases_its_callback_after_the_last_member(pool: PgPool) {
    // Many members, finished in batches by one statement each (as the
    // completer does), and one callback: released by the last batch.
    let members: Vec<uuid::Uuid> = sqlx::query_scalar(
        "INSERT INTO weir.jobs (kind) SELECT 'm' FROM generate_series(1, 2000) RETURNING id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let callback: uuid::Uuid = sqlx::query_scalar("SELECT weir.enqueue('cb', depends_on => $1)")
        .bind(&members)
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE weir.jobs_live SET state = 'running', claim_token = gen_random_uuid(), started_at = now(), attempt = 1 WHERE kind = 'm'")
        .execute(&pool)
        .await
        .unwrap();
    for (i, batch) in members.chunks(100).enumerate() {
        let state: String = sqlx::query_scalar("SELECT state::text FROM weir.jobs WHERE id = $1")
            .bind(callback)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(state, "pending", "before batch {i}");
        sqlx::query(
            "UPDATE weir.jobs SET state = 'succeeded', finished_at = now() WHERE id = ANY($1)",
        )
        .bind(batch)
        .execute(&pool)
        .await
        .unwrap();
    }
    let state: String = sqlx::query_scalar("SELECT state::text FROM weir.jobs WHERE id = $1")
        .bind(callback)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(state, "available");
}
