//! The least-privilege roles of DESIGN §5.8: what each may do, and what it
//! may not. SQL checks run as the role itself (`SET ROLE`, on a connection
//! of their own); the worker and the web node run on pools that log in as
//! a login role granted `weir_worker` or `weir_app`, as a deployment does.
//!
//! Roles are shared by every database of the cluster: they are created
//! when missing and never dropped (other tests may be using them).

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use weir::maintenance::pruner::{self, Pruner};
use weir::{JobId, JobState};

/// Login roles of these tests, granted one weir role each.
const WORKER_LOGIN: &str = "weir_roles_test_worker";
const APP_LOGIN: &str = "weir_roles_test_app";

/// One test at a time creates roles (concurrent `CREATE ROLE`s of one
/// name fail in all but one session).
static ROLES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Creates the weir roles and the login roles when missing, and grants.
async fn roles(pool: &PgPool) {
    let _one = ROLES.lock().await;
    weir::setup::create_roles(pool).await.unwrap();
    for (login, role) in [(WORKER_LOGIN, "weir_worker"), (APP_LOGIN, "weir_app")] {
        let sql = format!(
            "DO $$ BEGIN
                 IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{login}') THEN
                     CREATE ROLE {login} LOGIN;
                 END IF;
                 IF NOT pg_has_role('{login}', '{role}', 'MEMBER') THEN
                     GRANT {role} TO {login};
                 END IF;
             END $$"
        );
        pool.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
    }
    let granted = weir::setup::grant_roles(pool).await.unwrap();
    assert_eq!(
        granted,
        [
            "weir_app",
            "weir_operator",
            "weir_producer",
            "weir_reader",
            "weir_worker"
        ]
    );
}

/// A connection of its own (never back to the pool) acting as `role`.
async fn as_role(pool: &PgPool, role: &str) -> PgConnection {
    let mut conn = PgConnection::connect_with(&pool.connect_options())
        .await
        .unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("SET ROLE {role}")))
        .await
        .unwrap();
    conn
}

/// A pool on the test database that logs in as `login`.
async fn pool_as(pool: &PgPool, login: &str) -> PgPool {
    let options = (*pool.connect_options()).clone().username(login);
    PgPoolOptions::new()
        .max_connections(10)
        .connect_with(options)
        .await
        .unwrap()
}

/// Runs `sql` and returns its SQLSTATE (None when it succeeded).
async fn code(conn: &mut PgConnection, sql: &str) -> Option<String> {
    match conn.execute(sqlx::AssertSqlSafe(sql.to_string())).await {
        Ok(_) => None,
        Err(e) => Some(
            e.as_database_error()
                .and_then(|d| d.code())
                .unwrap_or_else(|| panic!("{sql}: {e}"))
                .into_owned(),
        ),
    }
}

const DENIED: Option<&str> = Some("42501");

async fn assert_denied(conn: &mut PgConnection, sql: &str) {
    assert_eq!(code(conn, sql).await.as_deref(), DENIED, "{sql}");
}

async fn assert_allowed(conn: &mut PgConnection, sql: &str) {
    assert_eq!(code(conn, sql).await.as_deref(), None, "{sql}");
}

async fn state_of(pool: &PgPool, id: JobId) -> JobState {
    job(pool, id).await.state
}

#[sqlx::test]
async fn a_producer_enqueues_by_function_and_by_insert_and_can_do_nothing_else(pool: PgPool) {
    roles(&pool).await;
    sqlx::query("CREATE TABLE public.other_data (secret text)")
        .execute(&pool)
        .await
        .unwrap();
    // An idle worker's armed wake-up: the producer's enqueue notifies it.
    sqlx::query("INSERT INTO weir.wakeups (node_id, queue) VALUES (gen_random_uuid(), 'default')")
        .execute(&pool)
        .await
        .unwrap();
    let mut p = as_role(&pool, "weir_producer").await;

    let by_function: uuid::Uuid =
        sqlx::query_scalar("SELECT weir.enqueue('roles.fn', '{\"n\": 1}')")
            .fetch_one(&mut p)
            .await
            .unwrap();
    assert_eq!(
        state_of(&pool, JobId(by_function)).await,
        JobState::Available
    );
    let armed: bool = sqlx::query_scalar("SELECT armed FROM weir.wakeups")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!armed, "the enqueue woke the idle worker");
    let keyed: (uuid::Uuid, bool) =
        sqlx::query_as("SELECT * FROM weir.insert_job('roles.fn', unique_key => 'roles:1')")
            .fetch_one(&mut p)
            .await
            .unwrap();
    assert!(keyed.1);

    let by_insert: (uuid::Uuid, String) = sqlx::query_as(
        "INSERT INTO weir.jobs (kind, args, queue, priority, max_attempts, timeout_seconds)
         VALUES ('roles.insert', '{}', 'mail', 5, 3, 60) RETURNING id, state::text",
    )
    .fetch_one(&mut p)
    .await
    .unwrap();
    assert_eq!(by_insert.1, "available");
    let later: String = sqlx::query_scalar(
        "INSERT INTO weir.jobs (kind, run_at) VALUES ('roles.insert', now() + interval '1 hour')
         RETURNING state::text",
    )
    .fetch_one(&mut p)
    .await
    .unwrap();
    assert_eq!(later, "scheduled");
    let read: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(&mut p)
        .await
        .unwrap();
    assert_eq!(read, 4);

    // Nothing that says how a job ended, through the table or its partitions.
    for sql in [
        "INSERT INTO weir.jobs (kind, state, finished_at) VALUES ('x', 'succeeded', now())",
        "INSERT INTO weir.jobs (kind, state) VALUES ('x', 'running')",
        "INSERT INTO weir.jobs (kind, attempt) VALUES ('x', 1)",
        "INSERT INTO weir.jobs (kind, result) VALUES ('x', '{}')",
        "INSERT INTO weir.jobs_live (kind, state) VALUES ('x', 'running')",
        "INSERT INTO weir.jobs_finished (kind, state, finished_at) VALUES ('x', 'succeeded', now())",
        "UPDATE weir.jobs SET state = 'succeeded', finished_at = now()",
        "UPDATE weir.jobs SET priority = 9",
        "DELETE FROM weir.jobs",
        "SELECT weir.cancel_job(id) FROM weir.jobs LIMIT 1",
        "SELECT weir.pause_queue('default')",
        "SELECT * FROM weir.nodes",
        "SELECT * FROM weir.idempotency_keys",
        "SELECT * FROM public.other_data",
        "CREATE TABLE weir.mine (x int)",
    ] {
        assert_denied(&mut p, sql).await;
    }
    assert_eq!(
        state_of(&pool, JobId(by_function)).await,
        JobState::Available
    );
}

#[sqlx::test]
async fn a_reader_reads_jobs_and_stats_but_cannot_cancel_pause_or_enqueue(pool: PgPool) {
    roles(&pool).await;
    let id = enqueue_kind(&pool, "roles.read", json!({})).await;
    let mut r = as_role(&pool, "weir_reader").await;
    for sql in [
        "SELECT * FROM weir.jobs",
        "SELECT * FROM weir.queue_stats",
        "SELECT * FROM weir.queues",
        "SELECT * FROM weir.nodes",
    ] {
        assert_allowed(&mut r, sql).await;
    }
    for sql in [
        format!("SELECT weir.cancel_job('{}')", id.0),
        format!("SELECT weir.retry_job('{}')", id.0),
        "SELECT weir.pause_queue('default')".into(),
        "SELECT weir.resume_queue('default')".into(),
        "SELECT weir.enqueue('roles.read')".into(),
        "INSERT INTO weir.jobs (kind) VALUES ('roles.read')".into(),
        "UPDATE weir.jobs SET priority = 1".into(),
        "SELECT * FROM weir.wakeups".into(),
    ] {
        assert_denied(&mut r, &sql).await;
    }
    assert_eq!(state_of(&pool, id).await, JobState::Available);
}

#[sqlx::test]
async fn an_operator_cancels_retries_pauses_and_resumes_but_cannot_write_jobs_by_hand(
    pool: PgPool,
) {
    roles(&pool).await;
    let id = enqueue_kind(&pool, "roles.op", json!({})).await;
    let mut o = as_role(&pool, "weir_operator").await;

    let answer: String = sqlx::query_scalar("SELECT weir.cancel_job($1)")
        .bind(id.0)
        .fetch_one(&mut o)
        .await
        .unwrap();
    assert_eq!(answer, "cancelled");
    assert_allowed(&mut o, &format!("SELECT weir.retry_job('{}')", id.0)).await;
    assert_eq!(state_of(&pool, id).await, JobState::Available);
    assert_allowed(&mut o, "SELECT weir.pause_queue('default')").await;
    let paused: bool =
        sqlx::query_scalar("SELECT paused FROM weir.queue_stats WHERE queue = 'default'")
            .fetch_one(&mut o)
            .await
            .unwrap();
    assert!(paused);
    assert_allowed(&mut o, "SELECT weir.resume_queue('default')").await;

    for sql in [
        "UPDATE weir.jobs SET state = 'cancelled', finished_at = now()",
        "UPDATE weir.queues SET paused = true",
        "DELETE FROM weir.jobs",
        "INSERT INTO weir.jobs (kind) VALUES ('roles.op')",
        "SELECT weir.enqueue('roles.op')",
    ] {
        assert_denied(&mut o, sql).await;
    }
    // A search_path of the caller's cannot redirect the functions that run
    // as their owner.
    assert_allowed(&mut o, "SET search_path = pg_temp, public").await;
    assert_allowed(&mut o, "SELECT weir.pause_queue('default')").await;
}

#[sqlx::test]
async fn a_worker_role_runs_the_built_in_worker_and_nothing_else(pool: PgPool) {
    roles(&pool).await;
    let worker_pool = pool_as(&pool, WORKER_LOGIN).await;
    weir::setup::migrate(&worker_pool)
        .await
        .expect("a migrated database needs no DDL");

    let mut config = fast_config(&[("default", 4)]);
    config.maintenance = None;
    let worker = RunningWorker::start(&worker_pool, config, weir::demo::builtin());
    let echo = enqueue_kind(&pool, "demo.echo_attempt", json!({"ms": 10})).await;
    let item = enqueue_kind(
        &pool,
        "demo.process_item",
        json!({"name": "x", "steps": 3, "step_ms": 50}),
    )
    .await;
    let fails = enqueue_kind(&pool, "demo.fail", json!({"fatal": true})).await;
    let done = wait_for_state(&pool, echo, JobState::Succeeded, Duration::from_secs(20)).await;
    assert_eq!(done.result.as_ref().unwrap()["attempt"], 1);
    let item = wait_for_state(&pool, item, JobState::Succeeded, Duration::from_secs(20)).await;
    assert_eq!(item.progress.unwrap().done, Some(3));
    wait_for_state(&pool, fails, JobState::Failed, Duration::from_secs(20)).await;
    worker.stop().await;
    let nodes: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.nodes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(nodes, 0, "the worker deregistered itself");

    // A completion that finds no partition creates it.
    let mut w = PgConnection::connect_with(&worker_pool.connect_options())
        .await
        .unwrap();
    assert_allowed(
        &mut w,
        "SELECT weir.ensure_finished_partitions(current_date + 40, 1)",
    )
    .await;
    for sql in [
        "UPDATE weir.jobs SET kind = 'other', args = '{}'",
        "UPDATE weir.jobs SET queue = 'other'",
        "INSERT INTO weir.jobs (kind) VALUES ('roles.worker')",
        "DELETE FROM weir.jobs",
        "SELECT weir.cancel_job(id) FROM weir.jobs LIMIT 1",
        "SELECT weir.pause_queue('default')",
        "SELECT * FROM weir.leaders",
        "SELECT * FROM weir.idempotency_keys",
        "CREATE TABLE weir.mine (x int)",
    ] {
        assert_denied(&mut w, sql).await;
    }
    assert_denied(&mut w, "DROP TABLE weir.jobs_finished").await;
    w.close().await.unwrap();
    worker_pool.close().await;
}

#[sqlx::test]
async fn the_app_role_runs_the_web_node_the_worker_and_maintenance(pool: PgPool) {
    roles(&pool).await;
    // Old finished jobs, in day partitions the pruner must drop.
    sqlx::query("SELECT weir.ensure_finished_partitions(current_date - 20, 2)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO weir.jobs (kind, state, attempt, finished_at)
         VALUES ('roles.old', 'succeeded', 1, now() - interval '20 days')",
    )
    .execute(&pool)
    .await
    .unwrap();

    let app = pool_as(&pool, APP_LOGIN).await;
    weir::setup::migrate(&app)
        .await
        .expect("a migrated database needs no DDL");
    let worker = RunningWorker::start(&app, fast_config(&[("default", 4)]), weir::demo::builtin());
    let cli = api_client(&app, &[]).await;
    cli.get("/readyz").send().await.assert_status_is_ok();

    let created = body_json(
        cli.post("/v1/jobs")
            .header("Idempotency-Key", "roles-1")
            .body_json(&json!({"kind": "demo.echo_attempt", "args": {"ms": 10}}))
            .send()
            .await,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let done = body_json(cli.get(format!("/v1/jobs/{id}?wait=20")).send().await).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["result"]["attempt"], 1);

    // A retry goes through the stager; a cancel and a pause through the
    // operator's functions.
    let retried = weir::Client::new(app.clone())
        .enqueue_job(&weir::NewJob::new("demo.fail", json!({})).max_attempts(2))
        .await
        .unwrap()
        .id;
    wait_for_state(&app, retried, JobState::Failed, Duration::from_secs(20)).await;
    let sleeper = enqueue_kind(&app, "demo.sleep", json!({"ms": 60000})).await;
    wait_for_state(&app, sleeper, JobState::Running, Duration::from_secs(20)).await;
    cli.post(format!("/v1/jobs/{}/cancel", sleeper.0))
        .send()
        .await
        .assert_status(poem::http::StatusCode::ACCEPTED);
    wait_for_state(&app, sleeper, JobState::Cancelled, Duration::from_secs(20)).await;
    cli.post("/v1/queues/default/pause")
        .send()
        .await
        .assert_status_is_ok();
    cli.post("/v1/queues/default/resume")
        .send()
        .await
        .assert_status_is_ok();
    cli.get("/v1/workers").send().await.assert_status_is_ok();

    // The maintenance leader's pruner detached and dropped the old days.
    eventually(
        Duration::from_secs(20),
        "old partitions dropped",
        || async {
            let old: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_class
             WHERE relname IN ('jobs_finished_' || to_char(current_date - 20, 'YYYYMMDD'),
                               'jobs_finished_' || to_char(current_date - 19, 'YYYYMMDD'))",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            (old == 0).then_some(())
        },
    )
    .await;
    let old: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.jobs WHERE kind = 'roles.old'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(old, 0);
    worker.stop().await;

    // Days it creates ahead are its own to drop in turn.
    let created: i32 =
        sqlx::query_scalar("SELECT weir.ensure_finished_partitions(current_date + 30, 2)")
            .fetch_one(&app)
            .await
            .unwrap();
    assert_eq!(created, 2);
    let later = chrono::Utc::now() + chrono::Duration::days(60);
    let counts = Pruner::new(app.clone(), pruner::Config::default())
        .run_once_at(Some(later))
        .await
        .unwrap();
    assert!(counts.partitions_dropped >= 2, "{counts:?}");

    // Short of superuser: no DDL on what it does not own.
    let mut a = PgConnection::connect_with(&app.connect_options())
        .await
        .unwrap();
    for sql in [
        "CREATE TABLE weir.mine (x int)",
        "ALTER TABLE weir.jobs ADD COLUMN mine int",
        "DROP TABLE weir.jobs_live",
        "UPDATE weir.jobs SET kind = 'other'",
    ] {
        assert_denied(&mut a, sql).await;
    }
    a.close().await.unwrap();
    drop(cli);
    app.close().await;
}

#[sqlx::test]
async fn roles_are_granted_again_and_concurrently_without_error(pool: PgPool) {
    roles(&pool).await;
    let (a, b, c) = tokio::join!(
        weir::setup::grant_roles(&pool),
        weir::setup::grant_roles(&pool),
        weir::setup::grant_roles(&pool)
    );
    for granted in [a, b, c] {
        assert_eq!(granted.unwrap().len(), 5);
    }
    let created = weir::setup::create_roles(&pool).await.unwrap();
    assert!(created.is_empty(), "they exist: {created:?}");
    // A function redefined by a later migration (which resets SECURITY
    // DEFINER) runs as its owner again after the next grant.
    sqlx::query(
        "CREATE OR REPLACE FUNCTION weir.pause_queue(queue text) RETURNS void
         LANGUAGE sql AS $$
             INSERT INTO weir.queues (name, paused) VALUES (queue, true)
             ON CONFLICT (name) DO UPDATE SET paused = true, updated_at = now()
         $$",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mut o = as_role(&pool, "weir_operator").await;
    assert_denied(&mut o, "SELECT weir.pause_queue('default')").await;
    weir::setup::grant_roles(&pool).await.unwrap();
    assert_allowed(&mut o, "SELECT weir.pause_queue('default')").await;
}

#[sqlx::test]
async fn an_operator_sets_schedules_and_the_app_role_runs_the_scheduler(pool: PgPool) {
    roles(&pool).await;
    // As if the roles were created after this database was migrated: the
    // next grant_roles (weir migrate runs it) must give the grant back.
    pool.execute("REVOKE UPDATE ON weir.schedules FROM weir_app")
        .await
        .unwrap();
    weir::setup::grant_roles(&pool).await.unwrap();

    let mut operator = as_role(&pool, "weir_operator").await;
    assert_allowed(
        &mut operator,
        "SELECT weir.set_schedule('s', '* * * * * *', 'test.echo')",
    )
    .await;
    assert_denied(&mut operator, "UPDATE weir.schedules SET paused = true").await;
    let mut reader = as_role(&pool, "weir_reader").await;
    assert_allowed(&mut reader, "SELECT * FROM weir.schedules").await;
    assert_denied(&mut reader, "SELECT weir.delete_schedule('s')").await;

    let app = pool_as(&pool, APP_LOGIN).await;
    let scheduler = weir::maintenance::scheduler::Scheduler::new(app.clone(), Default::default());
    let t0 = chrono::Utc::now();
    let first = scheduler.run_once_at(Some(t0)).await.unwrap();
    assert_eq!(first.started, 1);
    let tick = scheduler
        .run_once_at(Some(t0 + chrono::Duration::seconds(1)))
        .await
        .unwrap();
    assert_eq!(tick.enqueued, 1, "weir_app enqueued the tick");
    app.close().await;
}
