//! Applying the migrations: safe when several nodes start at once, and a
//! no-op on a database that is already migrated.

use sqlx::PgPool;
use weir::db::MIGRATOR;

mod common;

#[sqlx::test(migrations = false)]
async fn nodes_migrating_at_once_and_again_apply_each_migration_once(pool: PgPool) {
    let (a, b, c) = tokio::join!(
        weir::db::migrate(&pool),
        weir::db::migrate(&pool),
        weir::db::migrate(&pool)
    );
    for result in [a, b, c] {
        result.unwrap();
    }
    weir::db::migrate(&pool).await.unwrap();

    let expected = MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .count() as i64;
    assert_eq!(weir::db::applied_migrations(&pool).await.unwrap(), expected);
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, expected, "each migration recorded once");

    // The schema works, its first day partitions made once.
    sqlx::query("SELECT weir.enqueue('test.noop')")
        .execute(&pool)
        .await
        .unwrap();
    let days: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'weir.jobs_finished'::regclass",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(days, 5, "yesterday through today + 3");
}
