//! Waiter rows stay cheap to read. This file holds a single test, so that
//! no other test's transaction runs while it does (see below): keep it
//! alone here.

mod common;

use sqlx::PgPool;

/// Every enqueue reads `weir.waiters`, and every arm and disarm of a
/// waiter leaves a dead row version on its page; a read looks at each
/// one until the page is pruned. The table's fillfactor (migration 0013)
/// makes PostgreSQL prune it while only a few versions have piled up, so
/// a waiter re-armed after every wake-up stays near the start of its page
/// instead of walking through ~120 slots (the default fillfactor prunes
/// only a nearly full page).
///
/// PostgreSQL prunes a page only of versions no running transaction of the
/// cluster might still see (on-access pruning compares them with the
/// oldest transaction running in any database), so this test must not run
/// beside others: it is alone in its file, and cargo runs test files one
/// after another.
#[sqlx::test]
async fn a_waiter_armed_and_woken_many_times_keeps_its_page_pruned(pool: PgPool) {
    let node = weir::NodeId(uuid::Uuid::new_v4());
    let mut highest_slot = 0;
    for _ in 0..300 {
        weir::db::waiters::arm(&pool, node, "default")
            .await
            .unwrap();
        // Finds the waiter armed: disarms it and notifies.
        sqlx::query("SELECT weir.enqueue('test.noop')")
            .execute(&pool)
            .await
            .unwrap();
        let (armed, slot): (bool, i32) = sqlx::query_as(
            "SELECT armed, (ctid::text::point)[1]::int FROM weir.waiters
             WHERE node_id = $1 AND queue = 'default'",
        )
        .bind(node.0)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(!armed, "the enqueue disarmed the waiter");
        highest_slot = highest_slot.max(slot);
    }
    // ~13 versions fit before a prune with fillfactor 10, ~120 with 100.
    assert!(
        highest_slot < 50,
        "the waiter's row version reached slot {highest_slot} of its page"
    );
}
