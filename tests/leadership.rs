//! Maintenance leadership: one leader at a time, a new one within seconds
//! when it goes away, and a deposed leader changes nothing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use weir::db;
use weir::maintenance::{self, MaintenanceConfig, ROLE, rescuer};
use weir::{JobState, NodeId};

fn short_lease() -> MaintenanceConfig {
    MaintenanceConfig {
        leader_ttl: Duration::from_secs(2),
        ..MaintenanceConfig::default()
    }
}

fn start(pool: &PgPool, node: NodeId) -> (JoinHandle<()>, CancellationToken) {
    let stop = CancellationToken::new();
    let handle = tokio::spawn(maintenance::run(
        pool.clone(),
        node,
        short_lease(),
        Arc::new(Notify::new()),
        stop.clone(),
    ));
    (handle, stop)
}

async fn leader(pool: &PgPool) -> Option<NodeId> {
    db::leaders::current(pool, ROLE).await.unwrap()
}

async fn wait_for_leader(pool: &PgPool, node: NodeId) {
    eventually(
        Duration::from_secs(15),
        &format!("{node} to lead"),
        || async { (leader(pool).await == Some(node)).then_some(()) },
    )
    .await;
}

#[sqlx::test]
async fn leadership_moves_when_the_leader_dies_without_resigning(pool: PgPool) {
    let a = NodeId(Uuid::new_v4());
    let b = NodeId(Uuid::new_v4());
    let (task_a, _stop_a) = start(&pool, a);
    wait_for_leader(&pool, a).await;
    let (task_b, stop_b) = start(&pool, b);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(leader(&pool).await, Some(a), "one leader at a time");

    // The leader's task is gone, as if its process was killed.
    task_a.abort();
    wait_for_leader(&pool, b).await;
    stop_b.cancel();
    task_b.await.unwrap();
    assert_eq!(leader(&pool).await, None, "a stopping leader resigns");
}

#[sqlx::test]
async fn leadership_moves_when_the_leader_loses_its_database(pool: PgPool) {
    let a = NodeId(Uuid::new_v4());
    let b = NodeId(Uuid::new_v4());
    let options = (*pool.connect_options())
        .clone()
        .application_name("weir-test-leader-a");
    let pool_a = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let (task_a, _stop_a) = start(&pool_a, a);
    wait_for_leader(&pool, a).await;
    let (task_b, stop_b) = start(&pool, b);

    // Cut the leader off: its pool refuses and its connections are killed.
    pool_a.close().await;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'weir-test-leader-a' AND datname = current_database()",
    )
    .execute(&pool)
    .await
    .unwrap();
    wait_for_leader(&pool, b).await;
    stop_b.cancel();
    task_b.await.unwrap();
    task_a.abort();
}

#[sqlx::test]
async fn deposed_leader_changes_nothing(pool: PgPool) {
    let deposed = NodeId(Uuid::new_v4());
    let vanished = NodeId(Uuid::new_v4());
    let id = enqueue_kind(&pool, "test.record", json!({})).await;
    db::jobs::claim_available(
        &pool,
        "default",
        &["test.record".to_string()],
        &[60],
        1,
        vanished,
    )
    .await
    .unwrap();
    // Somebody else holds the lease.
    assert!(
        db::leaders::try_acquire(&pool, ROLE, NodeId(Uuid::new_v4()), Duration::from_secs(60))
            .await
            .unwrap()
    );
    let counts = rescuer::Rescuer::new(pool.clone(), rescuer::Config::default())
        .with_lease(deposed)
        .run_once()
        .await
        .unwrap();
    assert_eq!(counts.rescued(), 0);
    assert_eq!(job(&pool, id).await.state, JobState::Running);

    // The same rescue by the lease holder goes through.
    db::leaders::resign(&pool, ROLE, leader(&pool).await.unwrap())
        .await
        .unwrap();
    assert!(
        db::leaders::try_acquire(&pool, ROLE, deposed, Duration::from_secs(60))
            .await
            .unwrap()
    );
    let counts = rescuer::Rescuer::new(pool.clone(), rescuer::Config::default())
        .with_lease(deposed)
        .run_once()
        .await
        .unwrap();
    assert_eq!(counts.rescued(), 1);
}

/// A node whose last heartbeat is a minute old (as after an outage), with
/// one `test.record` job claimed.
async fn node_silent_for_a_minute_with_a_job(pool: &PgPool) -> (NodeId, weir::JobId) {
    let node = NodeId(Uuid::new_v4());
    db::nodes::register(pool, node, "test", 1, &json!({"default": 1}), &[])
        .await
        .unwrap();
    sqlx::query("UPDATE weir.nodes SET heartbeat_at = now() - interval '1 minute' WHERE id = $1")
        .bind(node.0)
        .execute(pool)
        .await
        .unwrap();
    let id = enqueue_kind(pool, "test.record", json!({})).await;
    let kinds = ["test.record".to_string()];
    let claimed = db::jobs::claim_available(pool, "default", &kinds, &[600], 1, node)
        .await
        .unwrap();
    assert_eq!(claimed[0].id, id);
    (node, id)
}

#[sqlx::test]
async fn after_an_outage_a_node_gets_dead_after_to_heartbeat_before_it_is_declared_dead(
    pool: PgPool,
) {
    let (alive, on_alive) = node_silent_for_a_minute_with_a_job(&pool).await;
    let (_dead, on_dead) = node_silent_for_a_minute_with_a_job(&pool).await;
    // A leader that cannot reach the database, then can.
    let mut gate = Gate::closed(&pool);
    let leader_pool = gate.pool(&pool);
    let leader = NodeId(Uuid::new_v4());
    let mut config = MaintenanceConfig {
        leader_ttl: Duration::from_secs(1),
        ..MaintenanceConfig::default()
    };
    config.rescuer.dead_after = Duration::from_secs(4);
    config.rescuer.interval = Duration::from_millis(100);
    let stop = CancellationToken::new();
    let task = tokio::spawn(maintenance::run(
        leader_pool.clone(),
        leader,
        config,
        Arc::new(Notify::new()),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    gate.open().await;
    wait_for_leader(&pool, leader).await;

    // The rescuer has run several times since, well within dead_after of
    // the end of the outage: nobody is declared dead yet.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for id in [on_alive, on_dead] {
        assert_eq!(job(&pool, id).await.state, JobState::Running);
    }
    // One node heartbeats again; the other stays silent and is rescued
    // once the leader has reached the database for dead_after.
    assert!(db::nodes::heartbeat(&pool, alive, 1).await.unwrap());
    let j = wait_for_state(&pool, on_dead, JobState::Retryable, Duration::from_secs(15)).await;
    assert_eq!(j.errors[0].message, "worker lost");
    assert_eq!(job(&pool, on_alive).await.state, JobState::Running);

    stop.cancel();
    task.await.unwrap();
    leader_pool.close().await;
    gate.finish().await;
}
