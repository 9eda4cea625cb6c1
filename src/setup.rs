//! What every node and library user does first: connect, create the
//! database when it is missing, apply the embedded migrations; and the
//! least-privilege roles (docs/deployment.md, "Roles").

use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::error::Result;

pub use crate::db::{connect, create_database_if_missing};

/// Applies the embedded migrations that are not applied yet, then grants
/// to the roles that exist ([`grant_roles`]). A database that already has
/// every migration is left alone: a node that connects as `weir_app` or
/// `weir_worker`, which may not change the schema, starts on it.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    if up_to_date(pool).await {
        return Ok(());
    }
    crate::db::migrate(pool).await?;
    grant_roles(pool).await?;
    Ok(())
}

/// Whether every migration this binary knows is applied. False when that
/// cannot be read (a new database, or a role that may not read it): then
/// the migrator runs and says what is wrong.
async fn up_to_date(pool: &PgPool) -> bool {
    let expected = crate::db::MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .count() as i64;
    matches!(crate::db::applied_migrations(pool).await, Ok(n) if n == expected)
}

/// Creates the NOLOGIN roles `weir_producer`, `weir_reader`,
/// `weir_operator`, `weir_worker` and `weir_app` that do not exist yet
/// (the session needs CREATEROLE); returns those it created. Grant them
/// with [`grant_roles`], and to login roles with `GRANT weir_app TO ...`.
pub async fn create_roles(pool: &PgPool) -> Result<Vec<String>> {
    crate::db::roles::create_roles(pool).await
}

/// Grants to each of the roles that exist what it may do (the functions
/// that guard transitions run as their owner; `weir_app` gets the
/// finished-jobs partitions, which its pruner drops); returns their
/// names. Idempotent. The session must own schema `weir`, and be a
/// superuser or a member of `weir_app` once that role exists.
pub async fn grant_roles(pool: &PgPool) -> Result<Vec<String>> {
    crate::db::roles::grant_roles(pool).await
}

/// Runs `connect` until it succeeds, waiting up to `wait` for a database
/// that cannot be reached (restarting, or not up yet); unless
/// `no_migrate`, creates the database of `url` when missing first and
/// applies the migrations after.
pub async fn connect_and_migrate<F, Fut>(
    url: &str,
    no_migrate: bool,
    wait: Duration,
    connect: F,
) -> Result<PgPool>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<PgPool>>,
{
    let never = CancellationToken::new();
    let pool = crate::db::retry_while_unreachable("connecting", &never, Some(wait), || async {
        if !no_migrate {
            create_database_if_missing(url).await?;
        }
        connect().await
    })
    .await?;
    if !no_migrate {
        migrate(&pool).await?;
    }
    Ok(pool)
}
