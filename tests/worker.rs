//! The worker runtime: results, retries and backoff, fatal errors,
//! priority, schedules, timeouts, kinds, wakeups and shutdown.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use weir::{Client, JobId, JobState, NewJob};

async fn enqueue(pool: &PgPool, job: NewJob) -> JobId {
    Client::new(pool.clone())
        .enqueue_job(&job)
        .await
        .unwrap()
        .id
}

#[sqlx::test]
async fn failing_job_is_retried_with_growing_delays_then_fails(pool: PgPool) {
    let recorder = Recorder::default();
    let mut config = fast_config(&[("default", 2)]);
    config.backoff.base = Duration::from_millis(200);
    let worker = RunningWorker::start(&pool, config, registry(&recorder));
    let id = enqueue(
        &pool,
        NewJob::new("test.record", json!({"fail": "boom"})).max_attempts(4),
    )
    .await;
    let job = wait_for_state(&pool, id, JobState::Failed, Duration::from_secs(30)).await;
    worker.stop().await;

    assert_eq!(job.attempt, 4);
    assert_eq!(job.errors.len(), 4, "one error per attempt");
    for (i, e) in job.errors.iter().enumerate() {
        assert_eq!(e.attempt, i as i32 + 1);
        assert_eq!(e.message, "boom");
    }
    assert_eq!(recorder.runs().len(), 4);
    // Each retry waits at least 0.8 x 200 ms x 2^(n-1) (the jitter's floor).
    let gaps: Vec<Duration> = job
        .errors
        .windows(2)
        .map(|w| (w[1].at - w[0].at).to_std().unwrap())
        .collect();
    for (n, gap) in gaps.iter().enumerate() {
        let floor = Duration::from_millis(160 * (1 << n));
        assert!(
            *gap >= floor,
            "retry {} came after {gap:?} < {floor:?}",
            n + 1
        );
    }
    assert!(gaps[2] > gaps[0], "delays grow: {gaps:?}");
}

#[sqlx::test]
async fn fatal_error_fails_at_once(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    let id = enqueue(
        &pool,
        NewJob::new("test.record", json!({"fatal": "bad input"})),
    )
    .await;
    let job = wait_for_state(&pool, id, JobState::Failed, Duration::from_secs(10)).await;
    worker.stop().await;
    assert_eq!(job.attempt, 1);
    assert_eq!(job.errors.len(), 1);
    assert_eq!(job.errors[0].message, "bad input");
    assert_eq!(recorder.runs().len(), 1);
}

#[sqlx::test]
async fn panicking_handler_is_a_retryable_error(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    let id = enqueue(
        &pool,
        NewJob::new("test.record", json!({"panic": "oops"})).max_attempts(2),
    )
    .await;
    let job = wait_for_state(&pool, id, JobState::Failed, Duration::from_secs(10)).await;
    worker.stop().await;
    assert_eq!(job.errors.len(), 2);
    assert!(
        job.errors[0].message.contains("panicked: oops"),
        "{:?}",
        job.errors
    );
}

#[sqlx::test]
async fn higher_priority_runs_first(pool: PgPool) {
    let mut ids = Vec::new();
    for (i, p) in [0i16, 5, -3, 10, 5, 1].into_iter().enumerate() {
        let id = enqueue(&pool, NewJob::new("test.record", json!({})).priority(p)).await;
        ids.push((p, i, id));
    }
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 1)]), registry(&recorder));
    eventually(Duration::from_secs(10), "all jobs to run", || async {
        (recorder.runs().len() == ids.len()).then_some(())
    })
    .await;
    worker.stop().await;
    // Higher priority first; equal priorities in enqueue order.
    ids.sort_by_key(|(p, i, _)| (-p, *i));
    let expected: Vec<JobId> = ids.iter().map(|(_, _, id)| *id).collect();
    let ran: Vec<JobId> = recorder.runs().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ran, expected);
}

#[sqlx::test]
async fn delayed_job_does_not_start_before_its_time(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    let id: uuid::Uuid = sqlx::query_scalar(
        "SELECT weir.enqueue('test.record', run_at => now() + interval '1.5 seconds')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let id = JobId(id);
    assert_eq!(job(&pool, id).await.state, JobState::Scheduled);
    let job = wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(15)).await;
    worker.stop().await;
    assert!(
        job.started_at.unwrap() >= job.run_at,
        "started {:?} before run_at {:?}",
        job.started_at,
        job.run_at
    );
}

#[sqlx::test]
async fn timed_out_attempt_is_recorded_as_failed(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    let id = enqueue(
        &pool,
        NewJob::new("test.record", json!({"sleep_ms": 60_000}))
            .timeout_seconds(1)
            .max_attempts(1),
    )
    .await;
    let job = wait_for_state(&pool, id, JobState::Failed, Duration::from_secs(15)).await;
    worker.stop().await;
    assert_eq!(job.errors.len(), 1);
    assert_eq!(job.errors[0].message, "timed out after 1 s");
}

#[sqlx::test]
async fn four_workers_run_two_thousand_jobs_exactly_once(pool: PgPool) {
    sqlx::query("INSERT INTO weir.jobs (kind) SELECT 'test.record' FROM generate_series(1, 2000)")
        .execute(&pool)
        .await
        .unwrap();
    let recorder = Recorder::default();
    let workers: Vec<_> = (0..4)
        .map(|_| RunningWorker::start(&pool, fast_config(&[("default", 8)]), registry(&recorder)))
        .collect();
    eventually(Duration::from_secs(120), "2000 jobs to succeed", || async {
        let done: i64 =
            sqlx::query_scalar("SELECT count(*) FROM weir.jobs WHERE state = 'succeeded'")
                .fetch_one(&pool)
                .await
                .unwrap();
        (done == 2000).then_some(())
    })
    .await;
    for w in workers {
        w.stop().await;
    }
    let counts = recorder.counts();
    assert_eq!(counts.len(), 2000);
    assert!(counts.values().all(|&n| n == 1), "a job ran more than once");
    let attempts: Vec<i32> = sqlx::query_scalar("SELECT DISTINCT attempt FROM weir.jobs")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, vec![1]);
}

/// A worker with `slots` on `default`, started and idle with its wake-up
/// armed. Its fallback poll (60 s) never comes within a test, so only a
/// NOTIFY wakes it.
async fn idle_listening_worker(pool: &PgPool, slots: usize) -> (Recorder, RunningWorker) {
    idle_worker_polling_every(pool, slots, Duration::from_secs(60)).await
}

/// [`idle_listening_worker`] with a fallback poll of `poll`.
async fn idle_worker_polling_every(
    pool: &PgPool,
    slots: usize,
    poll: Duration,
) -> (Recorder, RunningWorker) {
    let recorder = Recorder::default();
    let mut config = fast_config(&[("default", slots)]);
    config.poll_interval = poll;
    let worker = RunningWorker::start(pool, config, registry(&recorder));
    wait_until_idle(pool, worker.node, "default").await;
    (recorder, worker)
}

#[sqlx::test]
async fn notify_wakes_an_idle_worker_long_before_the_fallback_poll(pool: PgPool) {
    let (_, worker) = idle_listening_worker(&pool, 2).await;

    // Three producers, one after the other: plain INSERT, weir.enqueue, the client.
    let by_insert: uuid::Uuid =
        sqlx::query_scalar("INSERT INTO weir.jobs (kind) VALUES ('test.record') RETURNING id")
            .fetch_one(&pool)
            .await
            .unwrap();
    wait_for_state(
        &pool,
        JobId(by_insert),
        JobState::Succeeded,
        Duration::from_secs(5),
    )
    .await;
    wait_until_idle(&pool, worker.node, "default").await;
    let by_sql: uuid::Uuid = sqlx::query_scalar("SELECT weir.enqueue('test.record')")
        .fetch_one(&pool)
        .await
        .unwrap();
    wait_for_state(
        &pool,
        JobId(by_sql),
        JobState::Succeeded,
        Duration::from_secs(5),
    )
    .await;
    wait_until_idle(&pool, worker.node, "default").await;
    let by_client = enqueue(&pool, NewJob::new("test.record", json!({}))).await;
    wait_for_state(
        &pool,
        by_client,
        JobState::Succeeded,
        Duration::from_secs(5),
    )
    .await;
    worker.stop().await;
}

#[sqlx::test]
async fn worker_ignores_kinds_it_does_not_serve(pool: PgPool) {
    let other = enqueue(&pool, NewJob::new("someone.else", json!({}))).await;
    let mine = enqueue(&pool, NewJob::new("test.record", json!({}))).await;
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 4)]), registry(&recorder));
    wait_for_state(&pool, mine, JobState::Succeeded, Duration::from_secs(10)).await;
    // Give it several polls to (wrongly) take the other one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    worker.stop().await;
    let other = job(&pool, other).await;
    assert_eq!(other.state, JobState::Available);
    assert_eq!(other.attempt, 0);
}

#[sqlx::test]
async fn shutdown_hands_unfinished_jobs_back_without_spending_an_attempt(pool: PgPool) {
    let recorder = Recorder::default();
    let mut config = fast_config(&[("default", 2)]);
    config.shutdown_grace = Duration::from_millis(300);
    let worker = RunningWorker::start(&pool, config, registry(&recorder));
    let long = enqueue(
        &pool,
        NewJob::new("test.record", json!({"sleep_ms": 60_000})),
    )
    .await;
    let short = enqueue(&pool, NewJob::new("test.record", json!({"sleep_ms": 100}))).await;
    wait_for_state(&pool, long, JobState::Running, Duration::from_secs(10)).await;
    wait_for_state(&pool, short, JobState::Succeeded, Duration::from_secs(10)).await;
    worker.stop().await;
    let long = job(&pool, long).await;
    assert_eq!(long.state, JobState::Available);
    assert_eq!(long.attempt, 0, "the attempt was not spent");
    assert!(long.errors.is_empty());
    let nodes: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.nodes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(nodes, 0, "the node deregistered");
}

#[sqlx::test]
async fn shutdown_lets_jobs_finish_within_the_grace_period(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    let id = enqueue(&pool, NewJob::new("test.record", json!({"sleep_ms": 500}))).await;
    wait_for_state(&pool, id, JobState::Running, Duration::from_secs(10)).await;
    worker.stop().await;
    assert_eq!(job(&pool, id).await.state, JobState::Succeeded);
}

#[sqlx::test]
async fn handler_progress_is_stored_on_the_job(pool: PgPool) {
    let mut registry = weir::worker::Registry::new();
    registry.register(weir::demo::ProcessItem);
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry);
    let id = enqueue(
        &pool,
        NewJob::new(
            "demo.process_item",
            json!({"name": "x", "steps": 10, "step_ms": 100}),
        ),
    )
    .await;
    let progress = eventually(
        Duration::from_secs(10),
        "progress while running",
        || async {
            let j = job(&pool, id).await;
            j.progress
                .filter(|p| j.state == JobState::Running && p.done.unwrap_or(0) >= 2)
        },
    )
    .await;
    assert_eq!(progress.total, Some(10));
    assert!(progress.updated_at.is_some());
    let done = wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(10)).await;
    worker.stop().await;
    assert_eq!(done.result, Some(json!({"result": "Processed item x"})));
    assert_eq!(done.progress.unwrap().done, Some(10));
}

/// Inserts a `test.record` job into `default` about every millisecond for
/// 2 s; returns how many, and how many NOTIFYs on `weir_jobs_available`
/// they caused.
async fn steady_inserts_and_their_wake_ups(pool: &PgPool) -> (usize, usize) {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool)
        .await
        .unwrap();
    listener.listen("weir_jobs_available").await.unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(2);
    let mut inserted = 0;
    // Bounded by `until`.
    while std::time::Instant::now() < until {
        sqlx::query("INSERT INTO weir.jobs (kind) VALUES ('test.record')")
            .execute(pool)
            .await
            .unwrap();
        inserted += 1;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut notifications = 0;
    // Everything sent during the loop is buffered; stop at the first gap.
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(300), listener.recv()).await {
        notifications += 1;
    }
    (inserted, notifications)
}

/// Whether `worker`'s wake-up on `default` is armed.
async fn default_wakeup_armed(pool: &PgPool, worker: &RunningWorker) -> bool {
    sqlx::query_scalar("SELECT armed FROM weir.wakeups WHERE node_id = $1 AND queue = 'default'")
        .bind(worker.node.0)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_paused_queue_is_not_armed_so_its_producers_send_no_wake_ups(pool: PgPool) {
    // The first insert after the pause wakes the idle worker; its look
    // finds nothing, it finds the queue paused and does not arm again:
    // no other insert sends a NOTIFY (before, the worker re-armed ~20
    // times a second and as many inserts did).
    let (recorder, worker) = idle_listening_worker(&pool, 2).await;
    sqlx::query("SELECT weir.pause_queue('default')")
        .execute(&pool)
        .await
        .unwrap();
    let (inserted, notifications) = steady_inserts_and_their_wake_ups(&pool).await;
    assert!(inserted > 100, "only {inserted} inserts in 2 s");
    assert!(notifications >= 1, "the paused worker was never woken");
    assert!(
        notifications <= 2,
        "{notifications} NOTIFYs for {inserted} inserts in 2 s"
    );
    assert!(!default_wakeup_armed(&pool, &worker).await);
    assert!(recorder.runs().is_empty());

    // Resuming wakes it although it is not armed: the jobs run long
    // before its fallback poll (60 s).
    sqlx::query("SELECT weir.resume_queue('default')")
        .execute(&pool)
        .await
        .unwrap();
    eventually(
        Duration::from_secs(5),
        "every job run after resume",
        || async { (recorder.runs().len() >= inserted).then_some(()) },
    )
    .await;
    worker.stop().await;
}

/// Pauses `default`, inserts a job and waits until the idle `worker`,
/// woken by it, has seen the pause and left its wake-up disarmed.
async fn paused_with_one_job_waiting(pool: &PgPool, worker: &RunningWorker) {
    sqlx::query("SELECT weir.pause_queue('default')")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO weir.jobs (kind) VALUES ('test.record')")
        .execute(pool)
        .await
        .unwrap();
    eventually(
        Duration::from_secs(5),
        "the worker woken and disarmed",
        || async { (!default_wakeup_armed(pool, worker).await).then_some(()) },
    )
    .await;
}

#[sqlx::test]
async fn a_pause_lifted_by_a_direct_update_delete_or_truncate_wakes_the_workers(pool: PgPool) {
    // The fallback poll is 60 s: a job run within seconds of the change
    // was woken by it.
    let (recorder, worker) = idle_listening_worker(&pool, 2).await;
    let lifts = [
        "UPDATE weir.queues SET paused = false WHERE name = 'default'",
        "DELETE FROM weir.queues WHERE name = 'default'",
        "TRUNCATE weir.queues",
    ];
    for (ran_before, lift) in lifts.into_iter().enumerate() {
        paused_with_one_job_waiting(&pool, &worker).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            recorder.runs().len(),
            ran_before,
            "a paused queue's job ran"
        );
        sqlx::query(lift).execute(&pool).await.unwrap();
        eventually(Duration::from_secs(5), lift, || async {
            (recorder.runs().len() == ran_before + 1).then_some(())
        })
        .await;
    }
    worker.stop().await;
}

#[sqlx::test]
async fn a_queue_fed_faster_than_its_linger_sends_few_wake_ups(pool: PgPool) {
    // Jobs arrive every millisecond or two and are run at once: each drain
    // lingers, its second look finds the next job, and the wake-up is
    // seldom armed, so few inserts send a NOTIFY. A drained queue arms
    // without lingering only while lingers keep finding nothing; a
    // notification that comes sooner after arming than a linger lasts
    // turns lingering back on.
    // Enough slots that a claim is never cut short by busy ones: every
    // claim that finds fewer jobs than free slots drains the queue. What
    // is counted is the producers' NOTIFYs, so the worker keeps the
    // default fallback poll: an insert that commits while the worker arms
    // its wake-up can go unannounced, and then waits for that poll.
    let (recorder, worker) = idle_worker_polling_every(&pool, 50, Duration::from_secs(2)).await;
    let (inserted, notifications) = steady_inserts_and_their_wake_ups(&pool).await;
    eventually(Duration::from_secs(20), "every job run", || async {
        (recorder.runs().len() >= inserted).then_some(())
    })
    .await;
    worker.stop().await;
    assert!(inserted > 100, "only {inserted} inserts in 2 s");
    assert!(
        notifications * 4 < inserted,
        "{notifications} NOTIFYs for {inserted} inserts in 2 s"
    );
}

/// A worker node that starts while the database cannot be reached (its
/// port refuses connections, as while PostgreSQL restarts) waits for it,
/// then runs jobs; it does not exit with the connection error.
#[sqlx::test]
async fn a_worker_started_while_the_database_is_unreachable_waits_for_it(pool: PgPool) {
    let mut gate = Gate::closed(&pool);
    let gated = gate.pool(&pool);
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&gated, fast_config(&[("default", 2)]), registry(&recorder));
    // Several times the pool's acquire timeout.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !worker.handle.is_finished(),
        "the worker gave up while the database was unreachable: {:?}",
        worker.handle.await
    );

    gate.open().await;
    let id = enqueue(&pool, NewJob::new("test.record", json!({}))).await;
    wait_for_state(&pool, id, JobState::Succeeded, Duration::from_secs(20)).await;

    worker.stop().await;
    gated.close().await;
    gate.finish().await;
}
