//! The least-privilege roles (`migrations/0003_roles.sql`): created and
//! granted by SQL functions, so that psql users get the same.

use sqlx::PgExecutor;

use crate::error::Result;

/// `weir.create_roles()`: creates the NOLOGIN roles that are missing
/// (needs CREATEROLE); returns those it created.
pub async fn create_roles(db: impl PgExecutor<'_>) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar!(r#"SELECT weir.create_roles() AS "created!""#)
            .fetch_one(db)
            .await?,
    )
}

/// `weir.grant_roles()`: grants to the roles that exist what each may do;
/// returns their names. Idempotent.
pub async fn grant_roles(db: impl PgExecutor<'_>) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar!(r#"SELECT weir.grant_roles() AS "granted!""#)
            .fetch_one(db)
            .await?,
    )
}
