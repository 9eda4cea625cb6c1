//! Enqueue paths (plain INSERT, weir.enqueue, the Rust client, inside a
//! transaction), unique keys, and the schema's rejection of bad jobs.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use weir::{Client, JobId, JobState, NewJob};

#[sqlx::test]
async fn plain_insert_with_only_kind_reaches_succeeded_with_result(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 4)]), registry(&recorder));
    let id: uuid::Uuid =
        sqlx::query_scalar("INSERT INTO weir.jobs (kind) VALUES ('test.echo') RETURNING id")
            .fetch_one(&pool)
            .await
            .unwrap();
    let job = wait_for_state(
        &pool,
        JobId(id),
        JobState::Succeeded,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(job.result, Some(json!({})));
    assert_eq!(job.attempt, 1);
    assert_eq!(job.queue, "default");
    assert_eq!(job.max_attempts, 20);
    assert!(job.finished_at.is_some());
    worker.stop().await;
}

#[sqlx::test]
async fn sql_enqueue_with_named_arguments_reaches_succeeded(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("mail", 2)]), registry(&recorder));
    let id: uuid::Uuid = sqlx::query_scalar(
        "SELECT weir.enqueue('test.echo', '{\"to\":\"a@b.c\"}', queue => 'mail', priority => 5::smallint, max_attempts => 3)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let job = wait_for_state(
        &pool,
        JobId(id),
        JobState::Succeeded,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(job.result, Some(json!({"to": "a@b.c"})));
    assert_eq!(job.priority, 5);
    assert_eq!(job.max_attempts, 3);
    worker.stop().await;
}

#[sqlx::test]
async fn rust_client_job_reaches_succeeded_and_wait_returns_it(pool: PgPool) {
    let recorder = Recorder::default();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 4)]), registry(&recorder));
    let client = Client::new(pool.clone());
    let id = client.enqueue::<Echo>(&json!({"n": 7})).await.unwrap();
    let job = client.wait(id, Duration::from_secs(10)).await.unwrap();
    assert_eq!(job.state, JobState::Succeeded);
    assert_eq!(job.result, Some(json!({"n": 7})));
    worker.stop().await;
}

/// Whether a row of `weir.followed_jobs` names `id`.
async fn followed(pool: &PgPool, id: JobId) -> bool {
    followed_row_version(pool, id).await.is_some()
}

/// A client that re-reads only every minute (so a change seen within
/// seconds was announced by NOTIFY), and a job of its.
async fn slow_client_and_job(pool: &PgPool) -> (Client, JobId) {
    let client = Client::new(pool.clone()).with_recheck_interval(Duration::from_secs(60));
    let id = client
        .enqueue_job(&NewJob::new("test.echo", json!({})))
        .await
        .unwrap()
        .id;
    (client, id)
}

/// Waits (5 s at most) until no row of `weir.followed_jobs` names `id`.
async fn until_unfollowed(pool: &PgPool, id: JobId) {
    let t = std::time::Instant::now();
    while followed(pool, id).await {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the followed_jobs row stayed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test]
async fn rust_client_wait_is_woken_by_the_jobs_notification(pool: PgPool) {
    // Re-reads only every minute: a wait that ends within seconds of the
    // change was woken by its NOTIFY.
    let (client, id) = slow_client_and_job(&pool).await;
    let waiting = {
        let client = client.clone();
        tokio::spawn(async move { client.wait(id, Duration::from_secs(120)).await })
    };
    // The wait has registered its interest, and (one query later, given
    // a second) read the job as available: the change comes after.
    let t = std::time::Instant::now();
    while !followed(&pool, id).await {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the wait never followed the job"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!waiting.is_finished());
    sqlx::query("SELECT weir.cancel_job($1)")
        .bind(id.0)
        .execute(&pool)
        .await
        .unwrap();
    let job = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the wait was not woken by the change")
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Cancelled);

    // Dropping the last clone stops the listener, and its row goes.
    drop(client);
    until_unfollowed(&pool, id).await;
}

/// The `xmin` of the followed_jobs row of `id` (it changes when the row is
/// written again), or `None` when no row names it.
async fn followed_row_version(pool: &PgPool, id: JobId) -> Option<String> {
    sqlx::query_scalar("SELECT xmin::text FROM weir.followed_jobs WHERE job_id = $1")
        .bind(id.0)
        .fetch_optional(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn rust_client_follow_returns_each_change_woken_by_notify_from_one_row(pool: PgPool) {
    // Re-reads only every minute: changes returned within seconds were
    // announced by NOTIFY.
    let (client, id) = slow_client_and_job(&pool).await;
    let mut follow = client.follow(id).await.unwrap();
    let first = follow.changed(Duration::from_secs(120)).await.unwrap();
    assert_eq!(first.state, JobState::Available);
    assert_eq!(first.progress, None);
    let row = followed_row_version(&pool, id).await;
    assert!(row.is_some(), "following wrote no followed_jobs row");

    // Nothing changes: the call waits its whole timeout, then returns the
    // job as it is.
    let same = follow.changed(Duration::from_millis(300)).await.unwrap();
    assert_eq!(same, first);

    for done in 1..=3 {
        let changer = {
            let pool = pool.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                sqlx::query(
                    "UPDATE weir.jobs SET progress = jsonb_build_object('done', $2::int, 'total', 3) WHERE id = $1",
                )
                .bind(id.0)
                .bind(done)
                .execute(&pool)
                .await
                .unwrap();
            })
        };
        let job = tokio::time::timeout(
            Duration::from_secs(5),
            follow.changed(Duration::from_secs(120)),
        )
        .await
        .expect("the follow was not woken by the change")
        .unwrap();
        changer.await.unwrap();
        assert_eq!(job.progress.and_then(|p| p.done), Some(done.into()));
    }
    // One followed_jobs row served every change; dropping the follow removes it.
    assert_eq!(followed_row_version(&pool, id).await, row);
    drop(follow);
    until_unfollowed(&pool, id).await;
    client.close().await.unwrap();
}

#[sqlx::test]
async fn rust_client_wait_returns_the_job_as_it_is_when_the_timeout_passes(pool: PgPool) {
    let client = Client::new(pool.clone());
    let id = client
        .enqueue_job(&NewJob::new("test.echo", json!({})))
        .await
        .unwrap()
        .id;
    let job = client.wait(id, Duration::from_millis(200)).await.unwrap();
    assert_eq!(job.state, JobState::Available);
    let missing = client
        .wait(JobId(uuid::Uuid::nil()), Duration::from_millis(200))
        .await;
    assert!(
        matches!(missing, Err(weir::Error::NotFound(_))),
        "{missing:?}"
    );
    // Closing removes the client's followed_jobs rows before it returns.
    client.close().await.unwrap();
    assert!(!followed(&pool, id).await);
}

#[sqlx::test]
async fn rolled_back_transactional_enqueue_leaves_no_job(pool: PgPool) {
    let mut tx = pool.begin().await.unwrap();
    let enqueued = weir::enqueue_in(&mut *tx, &NewJob::new("test.echo", json!({})))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let err = Client::new(pool.clone())
        .job(enqueued.id)
        .await
        .unwrap_err();
    assert!(matches!(err, weir::Error::NotFound(_)), "{err}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    let mut tx = pool.begin().await.unwrap();
    let enqueued = weir::enqueue_in(&mut *tx, &NewJob::new("test.echo", json!({})))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(job(&pool, enqueued.id).await.state, JobState::Available);
}

#[sqlx::test]
async fn fifty_concurrent_enqueues_with_one_unique_key_give_one_job(pool: PgPool) {
    let client = Client::new(pool.clone());
    let mut tasks = Vec::new();
    for i in 0..50 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client
                .enqueue_job(&NewJob::new("test.echo", json!({"i": i})).unique_key("invoice:42"))
                .await
                .unwrap()
        }));
    }
    let mut ids = Vec::new();
    let mut created = 0;
    for t in tasks {
        let e = t.await.unwrap();
        ids.push(e.id);
        created += usize::from(e.created);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every enqueue returns the same job");
    assert_eq!(created, 1, "exactly one enqueue created it");
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM weir.jobs WHERE unique_key = 'invoice:42'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(count, 1);

    // SQL producers get the same job too; a plain INSERT collides.
    let same: uuid::Uuid =
        sqlx::query_scalar("SELECT weir.enqueue('test.echo', unique_key => 'invoice:42')")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(JobId(same), ids[0]);
    let err =
        sqlx::query("INSERT INTO weir.jobs (kind, unique_key) VALUES ('test.echo', 'invoice:42')")
            .execute(&pool)
            .await
            .unwrap_err();
    assert_eq!(
        err.as_database_error().unwrap().constraint(),
        Some("jobs_live_unique_key_idx")
    );
}

#[sqlx::test]
async fn unique_key_is_free_again_once_the_job_is_terminal(pool: PgPool) {
    let recorder = Recorder::default();
    let client = Client::new(pool.clone());
    let first = client
        .enqueue_job(&NewJob::new("test.echo", json!({})).unique_key("k"))
        .await
        .unwrap();
    let worker = RunningWorker::start(&pool, fast_config(&[("default", 2)]), registry(&recorder));
    wait_for_state(
        &pool,
        first.id,
        JobState::Succeeded,
        Duration::from_secs(10),
    )
    .await;
    worker.stop().await;
    let second = client
        .enqueue_job(&NewJob::new("test.echo", json!({})).unique_key("k"))
        .await
        .unwrap();
    assert!(second.created);
    assert_ne!(second.id, first.id);
}

#[sqlx::test]
async fn a_future_run_at_makes_the_job_scheduled(pool: PgPool) {
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO weir.jobs (kind, run_at) VALUES ('test.echo', now() + interval '1 hour') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(job(&pool, JobId(id)).await.state, JobState::Scheduled);
}

/// The queue-name rule (1 to 128 of letters, digits, `_`, `.`, `:`, `-`)
/// holds at its edges for both SQL entry points and for `weir.queues`.
#[sqlx::test]
async fn queue_names_are_held_to_their_rule_at_the_edges(pool: PgPool) {
    let long = "q".repeat(128);
    let too_long = "q".repeat(129);
    let accepted = [long.as_str(), "a", "A.b:c-d_9", "0"];
    let refused = [
        too_long.as_str(),
        "",
        "no spaces",
        "tab\t",
        "é",
        "semi;colon",
        "new\nline",
    ];
    for sql in [
        "INSERT INTO weir.jobs (kind, queue) VALUES ('x', $1)",
        "SELECT weir.enqueue('x', queue => $1)",
        "INSERT INTO weir.queues (name) VALUES ($1) ON CONFLICT DO NOTHING",
    ] {
        for name in accepted {
            sqlx::query(sql)
                .bind(name)
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql} with {name:?}: {e}"));
        }
        for name in refused {
            let err = sqlx::query(sql)
                .bind(name)
                .execute(&pool)
                .await
                .unwrap_err();
            let constraint = err.as_database_error().and_then(|d| d.constraint());
            let expected = if sql.contains("weir.queues") {
                "queues_name_valid"
            } else {
                "jobs_queue_name_valid"
            };
            assert_eq!(constraint, Some(expected), "{sql} with {name:?}: {err}");
        }
    }
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(jobs, 8, "two statements x four accepted names");

    // Every table of weir.jobs (parents and partitions) and weir.queues
    // carries the check, validated.
    let (tables, checks, unvalidated): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM pg_partition_tree('weir.jobs')) + 1,
                count(*), count(*) FILTER (WHERE NOT c.convalidated)
         FROM pg_constraint c
         WHERE c.conname IN ('jobs_queue_name_valid', 'queues_name_valid')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((checks, unvalidated), (tables, 0));
}

#[sqlx::test]
async fn invalid_sql_inserts_are_rejected_by_named_constraints(pool: PgPool) {
    let cases = [
        (
            "INSERT INTO weir.jobs (kind) VALUES ('')",
            "jobs_kind_not_empty",
        ),
        (
            "INSERT INTO weir.jobs (kind) VALUES ('   ')",
            "jobs_kind_not_empty",
        ),
        (
            "INSERT INTO weir.jobs (kind, max_attempts) VALUES ('x', 0)",
            "jobs_max_attempts_positive",
        ),
        (
            "INSERT INTO weir.jobs (kind, args) VALUES ('x', '[1, 2]')",
            "jobs_args_is_object",
        ),
        (
            "INSERT INTO weir.jobs (kind, args) VALUES ('x', '\"text\"')",
            "jobs_args_is_object",
        ),
        (
            "INSERT INTO weir.jobs (kind, queue) VALUES ('x', 'no spaces')",
            "jobs_queue_name_valid",
        ),
        (
            "INSERT INTO weir.jobs (kind, timeout_seconds) VALUES ('x', 0)",
            "jobs_timeout_positive",
        ),
        (
            "INSERT INTO weir.jobs (kind, progress) VALUES ('x', '[1]')",
            "jobs_progress_is_object",
        ),
        (
            "INSERT INTO weir.jobs (kind, errors) VALUES ('x', '{}')",
            "jobs_errors_is_array",
        ),
        ("SELECT weir.enqueue('')", "jobs_kind_not_empty"),
        ("SELECT weir.enqueue('x', '[]')", "jobs_args_is_object"),
        (
            "SELECT weir.enqueue('x', max_attempts => 0)",
            "jobs_max_attempts_positive",
        ),
    ];
    for (sql, constraint) in cases {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        let db = err
            .as_database_error()
            .unwrap_or_else(|| panic!("{sql}: {err}"));
        assert_eq!(db.constraint(), Some(constraint), "{sql}");
        assert!(db.message().contains(constraint), "{sql}: {}", db.message());
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing was enqueued");

    // The Rust client maps them to a readable error without SQL text.
    let err = Client::new(pool.clone())
        .enqueue_job(&NewJob::new("x", json!({})).max_attempts(0))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid job: max_attempts must be at least 1"
    );
    let err = Client::new(pool.clone())
        .enqueue_job(&NewJob::new("x", json!([1])))
        .await
        .unwrap_err();
    assert!(matches!(err, weir::Error::InvalidJob(_)), "{err}");
}

#[sqlx::test]
async fn enqueue_many_stores_all_in_input_order_or_refuses_a_unique_key(pool: PgPool) {
    let client = Client::new(pool.clone());
    let jobs: Vec<NewJob> = (0..50)
        .map(|i| NewJob::new("test.echo", json!({"i": i})).priority(i as i16 % 3))
        .collect();
    let stored = client.enqueue_many(&jobs).await.unwrap();
    assert_eq!(stored.len(), 50);
    for (i, job) in stored.iter().enumerate() {
        assert_eq!(job.args, json!({"i": i}));
        assert_eq!(job.priority, i as i16 % 3);
        assert_eq!(job.queue, "default");
        assert_eq!(job.state, JobState::Available);
    }

    let with_key = vec![
        NewJob::new("test.echo", json!({})),
        NewJob::new("test.echo", json!({})).unique_key("k"),
    ];
    let err = client.enqueue_many(&with_key).await.unwrap_err();
    assert!(matches!(err, weir::Error::InvalidJob(_)), "{err}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 50);
}

/// Large batches take another path (ids fetched first, rows matched back by
/// id): the same contract, checked on every field that varies.
#[sqlx::test]
async fn a_large_enqueue_many_keeps_input_order_fields_and_atomicity(pool: PgPool) {
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let earlier = chrono::Utc::now() - chrono::Duration::hours(1);
    let jobs: Vec<NewJob> = (0..700)
        .map(|i| {
            let job = NewJob::new(format!("test.k{}", i % 7), json!({"i": i}))
                .queue(format!("q{}", i % 5))
                .priority((i % 3) as i16)
                .max_attempts(1 + i % 4);
            match i % 10 {
                0 => job.run_at(later),
                1 => NewJob {
                    args: serde_json::Value::Null,
                    ..job
                },
                // Every default taken: queue, priority, max_attempts.
                2 => NewJob::new(format!("test.k{}", i % 7), json!({"i": i})),
                3 => job.timeout_seconds(30 + i),
                // Due already: available, with its own run_at.
                4 => job.run_at(earlier),
                _ => job,
            }
        })
        .collect();
    let stored = weir::enqueue_many_in(&pool, &jobs).await.unwrap();
    assert_eq!(stored.len(), jobs.len());
    assert!(
        stored.windows(2).all(|w| w[0].id.0 < w[1].id.0),
        "a batch's ids count up in input order"
    );
    let mut ids = std::collections::HashSet::new();
    for (i, (job, given)) in stored.iter().zip(&jobs).enumerate() {
        assert!(ids.insert(job.id), "duplicate id {}", job.id);
        assert_eq!(job.kind, given.kind, "job {i}");
        assert_eq!(
            job.queue,
            given.queue.as_deref().unwrap_or("default"),
            "job {i}"
        );
        assert_eq!(job.priority, given.priority.unwrap_or(0), "job {i}");
        assert_eq!(
            job.max_attempts,
            given.max_attempts.unwrap_or(20),
            "job {i}"
        );
        assert_eq!(job.timeout_seconds, given.timeout_seconds, "job {i}");
        if i % 10 == 1 {
            assert_eq!(job.args, json!({}), "null args become {{}}");
        } else {
            assert_eq!(job.args, json!({"i": i}));
        }
        let state = if i % 10 == 0 {
            JobState::Scheduled
        } else {
            JobState::Available
        };
        assert_eq!(job.state, state, "job {i}");
        // What was returned is what is stored, field by field.
        let read = weir::Client::new(pool.clone()).job(job.id).await.unwrap();
        assert_eq!(&read, job, "job {i}");
    }

    // One refused job refuses the batch, inside the caller's transaction
    // as on a pool; nothing of it is stored.
    let mut bad = jobs.clone();
    bad[500] = NewJob::new("test.k", json!({})).queue("no spaces allowed");
    let mut tx = pool.begin().await.unwrap();
    let err = weir::enqueue_many_in(&mut *tx, &bad).await.unwrap_err();
    assert!(err.to_string().contains("queue must be"), "{err}");
    drop(tx);
    let err = weir::enqueue_many_in(&pool, &bad).await.unwrap_err();
    assert!(matches!(err, weir::Error::InvalidJob(_)), "{err}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 700);

    // Inside a transaction that rolls back, the jobs are gone with it.
    let mut tx = pool.begin().await.unwrap();
    let stored = weir::enqueue_many_in(&mut *tx, &jobs).await.unwrap();
    assert_eq!(stored.len(), 700);
    tx.rollback().await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 700);
}

/// A large batch whose jobs share their kind, queue, priority, run_at,
/// max_attempts and timeout sends each of those once: stored all the same,
/// and returned as stored.
#[sqlx::test]
async fn a_large_batch_of_alike_jobs_stores_the_shared_values(pool: PgPool) {
    let later = chrono::Utc::now() + chrono::Duration::minutes(5);
    let jobs: Vec<NewJob> = (0..300)
        .map(|i| {
            NewJob::new("test.alike", json!({"i": i}))
                .queue("alike")
                .priority(-3)
                .run_at(later)
                .max_attempts(2)
                .timeout_seconds(45)
        })
        .collect();
    let stored = weir::enqueue_many_in(&pool, &jobs).await.unwrap();
    let client = weir::Client::new(pool.clone());
    for (i, job) in stored.iter().enumerate() {
        assert_eq!(
            (job.kind.as_str(), job.queue.as_str(), job.priority),
            ("test.alike", "alike", -3)
        );
        assert_eq!((job.max_attempts, job.timeout_seconds), (2, Some(45)));
        assert_eq!(job.state, JobState::Scheduled);
        assert_eq!(job.args, json!({"i": i}));
        assert_eq!(&client.job(job.id).await.unwrap(), job, "job {i}");
    }
    let shared: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM weir.jobs WHERE kind = 'test.alike' AND queue = 'alike'
           AND priority = -3 AND max_attempts = 2 AND timeout_seconds = 45
           AND state = 'scheduled'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(shared, 300);
}

/// Milliseconds since the Unix epoch in a version 7 UUID, after checking
/// its version and variant.
fn v7_millis(id: uuid::Uuid) -> u64 {
    assert_eq!(id.get_version_num(), 7, "{id} is not version 7");
    assert_eq!(id.get_variant(), uuid::Variant::RFC4122, "{id}");
    let (secs, nanos) = id.get_timestamp().expect("v7 has a timestamp").to_unix();
    secs * 1000 + u64::from(nanos) / 1_000_000
}

#[sqlx::test]
async fn every_enqueue_path_gives_unique_uuid_v7_ids_from_the_database_clock(pool: PgPool) {
    let clock = || async {
        let ms: i64 = sqlx::query_scalar(
            "SELECT floor(date_part('epoch', clock_timestamp()) * 1000)::bigint",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        ms as u64
    };
    let before = clock().await;
    let mut ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "INSERT INTO weir.jobs (kind) VALUES ('test.a'), ('test.b') RETURNING id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    ids.push(
        sqlx::query_scalar("SELECT weir.enqueue('test.c')")
            .fetch_one(&pool)
            .await
            .unwrap(),
    );
    let client = Client::new(pool.clone());
    ids.push(
        client
            .enqueue_job(&NewJob::new("test.d", json!({})))
            .await
            .unwrap()
            .id
            .0,
    );
    // Both bulk paths: a small batch (ids made inside the INSERT) and a
    // large one (ids asked for first).
    for n in [3, 600] {
        let jobs = vec![NewJob::new("test.e", json!({})); n];
        let stored = weir::enqueue_many_in(&pool, &jobs).await.unwrap();
        ids.extend(stored.iter().map(|j| j.id.0));
    }
    ids.extend(
        sqlx::query_scalar::<_, uuid::Uuid>("SELECT unnest(weir.uuid_v7s(5000))")
            .fetch_all(&pool)
            .await
            .unwrap(),
    );
    ids.extend(
        sqlx::query_scalar::<_, uuid::Uuid>("SELECT weir.uuid_v7() FROM generate_series(1, 5000)")
            .fetch_all(&pool)
            .await
            .unwrap(),
    );
    let after = clock().await;

    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "every id is different");
    for id in &ids {
        let ms = v7_millis(*id);
        assert!(
            (before..=after).contains(&ms),
            "{id} carries {ms} ms, outside the database clock's {before}..={after}"
        );
    }
    // Below the time, all but the version and variant bits are random:
    // among 5,000 ids of either function none of those 74 bits is always
    // 0 or always 1.
    let random = ((1u128 << 80) - 1) & !(0xFu128 << 76) & !(0x3u128 << 62);
    for batch in ids[ids.len() - 10_000..].chunks(5000) {
        let (mut ones, mut zeros) = (0u128, 0u128);
        for id in batch {
            ones |= id.as_u128();
            zeros |= !id.as_u128();
        }
        assert_eq!(ones & random, random, "a random bit is always 0");
        assert_eq!(zeros & random, random, "a random bit is always 1");
    }
}
