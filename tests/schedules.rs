//! Cron schedules: each tick enqueued exactly once across leaders that
//! fight over the lease and die mid-way, catch-up after a stop, bad input
//! refused in SQL, and a bad expression reported on the schedule.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::*;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use weir::maintenance::scheduler::{Config as SchedulerConfig, Scheduler};
use weir::maintenance::{MaintenanceConfig, ROLE};
use weir::worker::Registry;
use weir::{JobContext, JobError, NodeId, Task};

/// `test.tick`: does nothing, so tick jobs finish at once (a second job
/// for a tick could then be enqueued: a live job no longer holds its key).
#[derive(Clone)]
struct Tick;

impl Task for Tick {
    const KIND: &'static str = "test.tick";
    type Args = serde_json::Value;
    type Output = ();

    async fn run(&self, _ctx: JobContext, _args: serde_json::Value) -> Result<(), JobError> {
        Ok(())
    }
}

async fn set_every_second(pool: &PgPool, name: &str, catch_up: &str) {
    sqlx::query(
        "SELECT name FROM weir.set_schedule($1, '* * * * * *', 'test.tick', catch_up => $2)",
    )
    .bind(name)
    .bind(catch_up)
    .fetch_one(pool)
    .await
    .unwrap();
}

/// The tick of each job a schedule enqueued (from its unique_key), one
/// entry per job, sorted.
async fn ticks_of(pool: &PgPool, name: &str) -> Vec<DateTime<Utc>> {
    let prefix = format!("schedule:{name}:");
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT unique_key FROM weir.jobs WHERE starts_with(unique_key, $1) ORDER BY unique_key",
    )
    .bind(&prefix)
    .fetch_all(pool)
    .await
    .unwrap();
    keys.iter()
        .map(|k| {
            DateTime::parse_from_rfc3339(&k[prefix.len()..])
                .unwrap()
                .with_timezone(&Utc)
        })
        .collect()
}

/// A maintenance node: the leader loop alone, as `weir worker` runs it.
struct Node {
    id: NodeId,
    stop: CancellationToken,
    handle: JoinHandle<()>,
}

fn start_node(pool: &PgPool) -> Node {
    let mut config = MaintenanceConfig {
        leader_ttl: Duration::from_secs(1),
        ..MaintenanceConfig::default()
    };
    config.stager.poll_interval = Duration::from_millis(200);
    // Above any handover in this test (lease 1 s, renewed every 333 ms):
    // a tick due while the leader changes is late, not missed.
    config.scheduler.misfire_grace = Duration::from_secs(5);
    let id = NodeId(uuid::Uuid::new_v4());
    let stop = CancellationToken::new();
    let handle = tokio::spawn(weir::maintenance::run(
        pool.clone(),
        id,
        config,
        Arc::new(Notify::new()),
        stop.clone(),
    ));
    Node { id, stop, handle }
}

async fn job_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM weir.jobs")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Aborts the current leader the moment after it enqueued a tick (no
/// resignation: its lease must expire), and starts a fresh node in its
/// place, as a restarted process would be.
async fn kill_leader_after_an_enqueue(pool: &PgPool, nodes: &mut Vec<Node>) {
    let before = job_count(pool).await;
    let leader = eventually(
        Duration::from_secs(10),
        "a leader and a new tick",
        || async {
            let leader = weir::db::leaders::current(pool, ROLE).await.unwrap()?;
            (job_count(pool).await > before).then_some(leader)
        },
    )
    .await;
    let i = nodes
        .iter()
        .position(|n| n.id == leader)
        .expect("the leader is one of ours");
    let dead = nodes.remove(i);
    dead.handle.abort();
    let _ = dead.handle.await;
    nodes.push(start_node(pool));
}

#[sqlx::test]
async fn two_leaders_with_restarts_enqueue_every_tick_exactly_once(pool: PgPool) {
    let mut registry = Registry::new();
    registry.register(Tick);
    let mut config = fast_config(&[("default", 4)]);
    config.maintenance = None;
    let worker = RunningWorker::start(&pool, config, registry);
    set_every_second(&pool, "every-second", "latest").await;

    let mut nodes = vec![start_node(&pool), start_node(&pool)];
    tokio::time::sleep(Duration::from_secs(3)).await;
    kill_leader_after_an_enqueue(&pool, &mut nodes).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    kill_leader_after_an_enqueue(&pool, &mut nodes).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for n in nodes {
        n.stop.cancel();
        n.handle.await.unwrap();
    }
    worker.stop().await;

    let ticks = ticks_of(&pool, "every-second").await;
    assert!(ticks.len() >= 8, "about 10 s of ticks: {ticks:?}");
    for t in &ticks {
        assert_eq!(t.timestamp_subsec_nanos(), 0, "ticks fall on whole seconds");
    }
    for pair in ticks.windows(2) {
        assert_ne!(pair[0], pair[1], "tick {} enqueued twice", pair[0]);
        // Both handovers are well within the misfire grace, so even the
        // ticks due while no leader held the lease are enqueued.
        assert_eq!(
            pair[1] - pair[0],
            chrono::Duration::seconds(1),
            "a gap after {}: {ticks:?}",
            pair[0]
        );
    }
    let finished: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM weir.jobs WHERE kind = 'test.tick' AND state = 'succeeded'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        finished > 0,
        "tick jobs ran, so a repeated tick would have made a new job"
    );
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::milliseconds(ms)
}

/// Runs an every-second schedule with `catch_up` on a pinned clock: a
/// first tick on time, then a 5 s stop; returns the ticks enqueued and
/// the next tick.
async fn stop_for_five_seconds(pool: &PgPool, catch_up: &str) -> Vec<DateTime<Utc>> {
    set_every_second(pool, "s", catch_up).await;
    let scheduler = Scheduler::new(
        pool.clone(),
        SchedulerConfig {
            misfire_grace: Duration::from_millis(500),
        },
    );
    let first = scheduler.run_once_at(Some(at(200))).await.unwrap();
    assert_eq!(first.started, 1);
    assert_eq!(first.until_next, Some(Duration::from_millis(800)));
    let on_time = scheduler.run_once_at(Some(at(1100))).await.unwrap();
    assert_eq!(on_time.enqueued, 1);
    // No pass from 1.1 s to 6.7 s: ticks 2 s to 6 s are missed (6 s is
    // 700 ms old, past the grace).
    let after = scheduler.run_once_at(Some(at(6700))).await.unwrap();
    assert_eq!(after.until_next, Some(Duration::from_millis(300)));
    let next: DateTime<Utc> =
        sqlx::query_scalar("SELECT next_run_at FROM weir.schedules WHERE name = 's'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(next, at(7000), "the next tick comes after the stop");
    ticks_of(pool, "s").await
}

#[sqlx::test]
async fn after_a_stop_only_the_latest_missed_tick_is_caught_up(pool: PgPool) {
    assert_eq!(
        stop_for_five_seconds(&pool, "latest").await,
        vec![at(1000), at(6000)]
    );
}

#[sqlx::test]
async fn with_catch_up_none_missed_ticks_are_dropped(pool: PgPool) {
    assert_eq!(stop_for_five_seconds(&pool, "none").await, vec![at(1000)]);
}

#[sqlx::test]
async fn two_schedulers_on_one_due_tick_enqueue_it_once(pool: PgPool) {
    set_every_second(&pool, "s", "latest").await;
    let a = Scheduler::new(pool.clone(), SchedulerConfig::default());
    let b = Scheduler::new(pool.clone(), SchedulerConfig::default());
    a.run_once_at(Some(at(0))).await.unwrap();
    // Both see tick 1 s due at the same moment.
    let (ca, cb) = tokio::join!(a.run_once_at(Some(at(1001))), b.run_once_at(Some(at(1001))));
    let (ca, cb) = (ca.unwrap(), cb.unwrap());
    assert_eq!(ca.enqueued + cb.enqueued, 1, "{ca:?} {cb:?}");
    assert_eq!(ticks_of(&pool, "s").await, vec![at(1000)]);
}

#[sqlx::test]
async fn a_deposed_leader_enqueues_nothing(pool: PgPool) {
    set_every_second(&pool, "s", "latest").await;
    let node = NodeId(uuid::Uuid::new_v4());
    let scheduler = Scheduler::new(pool.clone(), SchedulerConfig::default()).with_lease(node);
    scheduler.run_once_at(Some(at(0))).await.unwrap();
    let c = scheduler.run_once_at(Some(at(1001))).await.unwrap();
    assert_eq!(c.enqueued, 0, "no lease held");
    assert!(ticks_of(&pool, "s").await.is_empty());
    assert!(
        weir::db::leaders::try_acquire(&pool, ROLE, node, Duration::from_secs(10))
            .await
            .unwrap()
    );
    let c = scheduler.run_once_at(Some(at(1001))).await.unwrap();
    assert_eq!(c.enqueued, 1);
}

/// The SQLSTATE and message of a failed statement.
async fn sql_error(pool: &PgPool, sql: &str) -> (String, String) {
    let e = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
        .expect_err(sql);
    let db = e.as_database_error().expect("a database error");
    (db.code().unwrap().into_owned(), db.message().to_string())
}

#[sqlx::test]
async fn bad_input_raises_a_clear_sql_exception_and_changes_nothing(pool: PgPool) {
    for (sql, code, says) in [
        (
            "SELECT weir.set_schedule('a', '* * * *', 'k')",
            "22023",
            "5 fields",
        ),
        (
            "SELECT weir.set_schedule('a', '* * * * * * *', 'k')",
            "22023",
            "5 fields",
        ),
        (
            "SELECT weir.set_schedule('a', '* * * * %', 'k')",
            "22023",
            "characters",
        ),
        (
            "SELECT weir.set_schedule('a', '* * * * *', 'k', timezone => 'Mars/Olympus')",
            "22023",
            "unknown time zone",
        ),
        (
            "SELECT weir.set_schedule('a', '* * * * *', 'k', catch_up => 'all')",
            "22023",
            "catch_up",
        ),
        (
            "SELECT weir.set_schedule('a b', '* * * * *', 'k')",
            "22023",
            "schedule name",
        ),
        (
            "SELECT weir.set_schedule('a', '* * * * *', '')",
            "23514",
            "jobs_kind_not_empty",
        ),
        (
            "SELECT weir.delete_schedule('nope')",
            "P0002",
            "schedule 'nope' not found",
        ),
    ] {
        let (c, m) = sql_error(&pool, sql).await;
        assert_eq!(c, code, "{sql}: {m}");
        assert!(m.contains(says), "{sql}: {m}");
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM weir.schedules")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[sqlx::test]
async fn an_expression_sql_accepts_but_cron_refuses_is_reported_on_the_schedule(pool: PgPool) {
    sqlx::query("SELECT weir.set_schedule('bad', '61 * * * *', 'test.tick')")
        .execute(&pool)
        .await
        .unwrap();
    set_every_second(&pool, "good", "latest").await;
    let scheduler = Scheduler::new(pool.clone(), SchedulerConfig::default());
    let c = scheduler.run_once_at(Some(at(0))).await.unwrap();
    assert_eq!(
        (c.errors, c.started),
        (1, 1),
        "the other schedule still runs"
    );
    let bad = weir::db::schedules::get(&pool, "bad")
        .await
        .unwrap()
        .unwrap();
    assert!(bad.next_run_at.is_none());
    let error = bad.error.expect("the error is recorded");
    assert!(error.contains("61 * * * *"), "{error}");
    // Reported once, not retried on every pass.
    let c = scheduler.run_once_at(Some(at(1001))).await.unwrap();
    assert_eq!((c.errors, c.enqueued), (0, 1));
    // Setting a good expression clears it.
    sqlx::query("SELECT weir.set_schedule('bad', '0 * * * *', 'test.tick')")
        .execute(&pool)
        .await
        .unwrap();
    let fixed = weir::db::schedules::get(&pool, "bad")
        .await
        .unwrap()
        .unwrap();
    assert!(fixed.error.is_none());
    scheduler.run_once_at(Some(at(1500))).await.unwrap();
    let fixed = weir::db::schedules::get(&pool, "bad")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fixed.next_run_at, Some(at(3_600_000)));
}

#[sqlx::test]
async fn setting_the_same_schedule_again_keeps_its_next_tick(pool: PgPool) {
    set_every_second(&pool, "s", "latest").await;
    let scheduler = Scheduler::new(pool.clone(), SchedulerConfig::default());
    scheduler.run_once_at(Some(at(0))).await.unwrap();
    set_every_second(&pool, "s", "latest").await;
    let s = weir::db::schedules::get(&pool, "s").await.unwrap().unwrap();
    assert_eq!(
        s.next_run_at,
        Some(at(1000)),
        "a re-declaration at start skips nothing"
    );
    sqlx::query("SELECT weir.set_schedule('s', '*/2 * * * * *', 'test.tick')")
        .execute(&pool)
        .await
        .unwrap();
    let s = weir::db::schedules::get(&pool, "s").await.unwrap().unwrap();
    assert_eq!(s.next_run_at, None, "a new expression restarts the timing");
}

#[sqlx::test]
async fn a_daily_berlin_tick_runs_once_on_both_2026_transition_days(pool: PgPool) {
    sqlx::query(
        "SELECT name FROM weir.set_schedule('nightly', '30 2 * * *', 'test.tick', \
         timezone => 'Europe/Berlin')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let scheduler = Scheduler::new(pool.clone(), SchedulerConfig::default());
    let utc = |mo, d, h, mi| Utc.with_ymd_and_hms(2026, mo, d, h, mi, 0).unwrap();
    let half = chrono::Duration::milliseconds(500);
    let next = || async {
        weir::db::schedules::get(&pool, "nightly")
            .await
            .unwrap()
            .unwrap()
            .next_run_at
    };
    // Spring forward (2026-03-29): 02:30 does not exist; the tick is at
    // 03:00 CEST (01:00 UTC), then 02:30 CEST (00:30 UTC) again.
    scheduler
        .run_once_at(Some(utc(3, 28, 12, 0)))
        .await
        .unwrap();
    assert_eq!(next().await, Some(utc(3, 29, 1, 0)));
    let c = scheduler
        .run_once_at(Some(utc(3, 29, 1, 0) + half))
        .await
        .unwrap();
    assert_eq!(c.enqueued, 1);
    assert_eq!(next().await, Some(utc(3, 30, 0, 30)));
    // Fall back (2026-10-25): 02:30 happens twice; the tick is at the
    // first (00:30 UTC), and the next one is the following day's.
    sqlx::query("UPDATE weir.schedules SET next_run_at = $1")
        .bind(utc(10, 25, 0, 30))
        .execute(&pool)
        .await
        .unwrap();
    let c = scheduler
        .run_once_at(Some(utc(10, 25, 0, 30) + half))
        .await
        .unwrap();
    assert_eq!(c.enqueued, 1);
    assert_eq!(
        next().await,
        Some(utc(10, 26, 1, 30)),
        "not the second 02:30"
    );
    let c = scheduler
        .run_once_at(Some(utc(10, 25, 1, 30) + half))
        .await
        .unwrap();
    assert_eq!(c.enqueued, 0, "nothing at the repeated 02:30");
    assert_eq!(
        ticks_of(&pool, "nightly").await,
        vec![utc(3, 29, 1, 0), utc(10, 25, 0, 30)]
    );
}

#[sqlx::test]
async fn a_tick_the_database_refuses_does_not_stop_the_other_schedules(pool: PgPool) {
    // A trigger that refuses jobs of one kind stands for any refusal.
    sqlx::raw_sql(
        "CREATE FUNCTION public.refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = 'check_violation'; END $$;
         CREATE TRIGGER refuse_boom BEFORE INSERT ON weir.jobs_live FOR EACH ROW
         WHEN (NEW.kind = 'test.boom') EXECUTE FUNCTION public.refuse_boom();
         SELECT weir.set_schedule('a-boom', '* * * * * *', 'test.boom');",
    )
    .execute(&pool)
    .await
    .unwrap();
    set_every_second(&pool, "b-good", "latest").await;
    let scheduler = Scheduler::new(pool.clone(), SchedulerConfig::default());
    scheduler.run_once_at(Some(at(0))).await.unwrap();
    let c = scheduler.run_once_at(Some(at(1001))).await.unwrap();
    assert_eq!((c.errors, c.enqueued), (1, 1), "{c:?}");
    assert_eq!(ticks_of(&pool, "b-good").await, vec![at(1000)]);
    let boom = weir::db::schedules::get(&pool, "a-boom")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        boom.next_run_at,
        Some(at(1000)),
        "its tick was rolled back, not skipped"
    );
}
