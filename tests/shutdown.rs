//! Shutdown is bounded by the grace period, even while the database is
//! gone with outcomes still unwritten.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::task::{AbortHandle, JoinHandle};

/// A loopback port forwarding to the test's PostgreSQL until
/// [`Proxy::kill`]: then the server is gone for whoever connected
/// through it (open connections cut, new ones refused).
struct Proxy {
    port: u16,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(pool: &PgPool) -> Proxy {
        let real = pool.connect_options();
        let target = format!("{}:{}", real.get_host(), real.get_port());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Default::default();
        let accept = tokio::spawn({
            let connections = connections.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let target = target.clone();
                    let forward = tokio::spawn(async move {
                        if let Ok(mut out) = tokio::net::TcpStream::connect(&target).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                        }
                    });
                    connections.lock().unwrap().push(forward.abort_handle());
                }
            }
        });
        Proxy {
            port,
            accept,
            connections,
        }
    }

    /// A pool through the proxy, with sqlx's default acquire timeout.
    fn pool(&self, pool: &PgPool) -> PgPool {
        let options = (*pool.connect_options())
            .clone()
            .host("127.0.0.1")
            .port(self.port);
        PgPoolOptions::new()
            .max_connections(10)
            .connect_lazy_with(options)
    }

    fn kill(&self) {
        self.accept.abort();
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }
}

#[sqlx::test]
async fn shutdown_with_the_database_gone_returns_within_the_grace_period(pool: PgPool) {
    let proxy = Proxy::start(&pool).await;
    let through = proxy.pool(&pool);
    let recorder = Recorder::default();
    let mut config = fast_config(&[("default", 2)]);
    let grace = Duration::from_secs(1);
    config.shutdown_grace = grace;
    let worker = RunningWorker::start(&through, config, registry(&recorder));
    // One job that finishes while the database is gone, one that runs
    // past the grace period.
    enqueue_kind(&pool, "test.record", json!({"sleep_ms": 300})).await;
    enqueue_kind(&pool, "test.record", json!({"sleep_ms": 60_000})).await;
    eventually(Duration::from_secs(10), "both jobs to start", || async {
        (recorder.runs().len() == 2).then_some(())
    })
    .await;
    proxy.kill();
    eventually(Duration::from_secs(5), "the short job to end", || async {
        (recorder.concurrency.lock().unwrap().0 == 1).then_some(())
    })
    .await;

    let signalled = Instant::now();
    worker.shutdown.cancel();
    let bound = grace + weir::worker::SHUTDOWN_FINAL_WRITES + Duration::from_secs(3);
    let stopped = tokio::time::timeout(bound, worker.handle)
        .await
        .expect("the worker stops within the grace period and the final writes");
    stopped.unwrap().unwrap();
    assert!(
        signalled.elapsed() >= grace,
        "the outcomes were waited for until the end of the grace period"
    );
    through.close().await;
}
