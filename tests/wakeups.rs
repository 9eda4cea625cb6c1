//! Wake-up rows stay cheap to read. This file holds a single test, so that
//! no other test's transaction runs while it does (see below): keep it
//! alone here.

mod common;

use sqlx::PgPool;

/// Every enqueue reads `weir.wakeups`, and every arm and disarm of a
/// wake-up leaves a dead row version on its page; a read looks at each
/// one until the page is pruned. The table's fillfactor makes PostgreSQL
/// prune it while only a few versions have piled up, so a wake-up re-armed
/// after every NOTIFY stays near the start of its page instead of walking
/// through most of it (the default fillfactor prunes only a nearly full
/// page).
///
/// PostgreSQL prunes a page only of versions no running transaction of the
/// cluster might still see (on-access pruning compares them with the
/// oldest transaction running in any database), so this test must not run
/// beside others: it is alone in its file, and cargo runs test files one
/// after another.
#[sqlx::test]
async fn a_wakeup_armed_and_woken_many_times_keeps_its_page_pruned(pool: PgPool) {
    let node = weir::NodeId(uuid::Uuid::new_v4());
    let mut highest_slot = 0;
    for _ in 0..300 {
        weir::db::wakeups::arm(&pool, node, "default")
            .await
            .unwrap();
        // Finds the wake-up armed: disarms it and notifies.
        sqlx::query("SELECT weir.enqueue('test.noop')")
            .execute(&pool)
            .await
            .unwrap();
        let (armed, slot): (bool, i32) = sqlx::query_as(
            "SELECT armed, (ctid::text::point)[1]::int FROM weir.wakeups
             WHERE node_id = $1 AND queue = 'default'",
        )
        .bind(node.0)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(!armed, "the enqueue disarmed the wake-up");
        highest_slot = highest_slot.max(slot);
    }
    // Far below the slots a full page of these rows holds.
    assert!(
        highest_slot < 50,
        "the wake-up's row version reached slot {highest_slot} of its page"
    );
}
