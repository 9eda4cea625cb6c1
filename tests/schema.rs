//! The schema explains itself in psql: every object of schema `weir` has a
//! COMMENT (tables, views, columns, functions, triggers, indexes, enum and
//! domain types; partition children of a commented index and primary keys
//! excepted).

use sqlx::PgPool;

mod common;

#[sqlx::test]
async fn every_object_in_schema_weir_has_a_comment(pool: PgPool) {
    let missing: Vec<String> = sqlx::query_scalar(
        r#"
        SELECT 'table ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'weir' AND c.relkind IN ('r', 'p', 'v', 'm') AND obj_description(c.oid, 'pg_class') IS NULL
        UNION ALL
        SELECT 'index ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'weir' AND c.relkind IN ('i', 'I') AND obj_description(c.oid, 'pg_class') IS NULL
          AND c.relname NOT LIKE '%\_pkey'
          AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
        UNION ALL
        SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'weir' AND obj_description(p.oid, 'pg_proc') IS NULL
        UNION ALL
        SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'weir' AND t.typtype IN ('e', 'd') AND obj_description(t.oid, 'pg_type') IS NULL
        UNION ALL
        SELECT 'trigger ' || t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'weir' AND NOT t.tgisinternal AND t.tgparentid = 0
          AND obj_description(t.oid, 'pg_trigger') IS NULL
        UNION ALL
        SELECT 'column ' || c.relname || '.' || a.attname FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'weir' AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
          AND a.attnum > 0 AND NOT a.attisdropped AND col_description(a.attrelid, a.attnum) IS NULL
        ORDER BY 1
        "#,
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        missing.is_empty(),
        "objects without COMMENT ON: {missing:#?}"
    );
}

#[sqlx::test]
async fn day_partitions_created_later_are_commented_too(pool: PgPool) {
    let created: i32 =
        sqlx::query_scalar("SELECT weir.ensure_finished_partitions(current_date + 30, 1)")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(created, 1);
    let comment: Option<String> = sqlx::query_scalar(
        "SELECT obj_description(to_regclass('weir.jobs_finished_' || to_char(current_date + 30, 'YYYYMMDD')), 'pg_class')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(comment.unwrap().contains("one UTC day"));
}
