//! What every node and library user does first: connect, create the
//! database when it is missing, apply the embedded migrations.

use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::error::Result;

pub use crate::db::{connect, create_database_if_missing, migrate};

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
