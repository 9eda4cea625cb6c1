//! A worker node's own endpoint (`WEIR_WORKER_BIND`): `/metrics` and
//! `/healthz`, so that the nodes where jobs run can be scraped and
//! health-checked like the web node. Not part of the REST API.

use std::time::Duration;

use poem::listener::TcpListener;
use poem::web::Data;
use poem::{EndpointExt, Response, Route, get, handler};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::Client;
use crate::error::Result;

#[handler]
async fn metrics(client: Data<&Client>) -> Response {
    Response::builder()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(super::health::render_metrics(&client).await)
}

#[handler]
fn healthz() -> &'static str {
    "ok"
}

/// The endpoint's routes, reading gauges through `pool`.
pub fn app(pool: PgPool) -> impl poem::Endpoint {
    Route::new()
        .at("/metrics", get(metrics))
        .at("/healthz", get(healthz))
        .data(Client::new(pool))
}

/// Serves [`app`] on `bind` until `shutdown`.
pub async fn serve(pool: PgPool, bind: &str, shutdown: CancellationToken) -> Result<()> {
    poem::Server::new(TcpListener::bind(bind.to_string()))
        .run_with_graceful_shutdown(
            app(pool),
            async move { shutdown.cancelled().await },
            Some(Duration::from_secs(1)),
        )
        .await
        .map_err(|e| crate::error::Error::Config(format!("cannot serve metrics on {bind}: {e}")))
}
