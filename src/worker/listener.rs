//! The worker's one LISTEN connection, fanned out in memory to the queue
//! runners and the stager.
//!
//! A notification is a hint: after a reconnect (when notifications may
//! have been lost) every waiter is woken to look for work at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::db::wakeups::JOBS_AVAILABLE_CHANNEL;
use crate::error::Result;

/// One [`Notify`] per queue name (and the stager), woken by notifications.
#[derive(Default)]
pub struct Wakeups {
    by_queue: HashMap<String, Arc<Notify>>,
}

impl Wakeups {
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        Wakeups {
            by_queue: names
                .into_iter()
                .map(|n| (n, Arc::new(Notify::new())))
                .collect(),
        }
    }

    /// The wake-up of `name` (a queue this node serves, or the stager).
    pub fn get(&self, name: &str) -> Arc<Notify> {
        self.by_queue
            .get(name)
            .cloned()
            .unwrap_or_else(|| Arc::new(Notify::new()))
    }

    /// Wakes `name`'s waiter; names this node does not serve are ignored.
    pub fn wake(&self, name: &str) {
        if let Some(n) = self.by_queue.get(name) {
            n.notify_one();
        }
    }

    pub fn wake_all(&self) {
        for n in self.by_queue.values() {
            n.notify_one();
        }
    }
}

/// Connects and LISTENs; returns once LISTEN is active (so waiters armed
/// after this are heard), leaving a task that forwards notifications until
/// `shutdown`, reconnecting as needed.
pub async fn start(
    pool: &PgPool,
    wakeups: Arc<Wakeups>,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>> {
    let mut listener = db::listen(pool, JOBS_AVAILABLE_CHANNEL).await?;
    let pool = pool.clone();
    Ok(tokio::spawn(async move {
        loop {
            forward(&mut listener, &wakeups, &shutdown).await;
            if shutdown.is_cancelled() {
                return;
            }
            // The connection failed in a way try_recv does not hide:
            // start over with a new listener.
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
                match db::listen(&pool, JOBS_AVAILABLE_CHANNEL).await {
                    Ok(l) => {
                        listener = l;
                        break;
                    }
                    Err(e) => tracing::warn!(error = %e, "listener cannot LISTEN again; retrying"),
                }
            }
            wakeups.wake_all();
        }
    }))
}

async fn forward(listener: &mut PgListener, wakeups: &Wakeups, shutdown: &CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            msg = listener.try_recv() => match msg {
                Ok(Some(n)) => wakeups.wake(n.payload()),
                Ok(None) => {
                    // Reconnected: anything sent meanwhile is lost.
                    tracing::info!("listener reconnected; re-scanning every queue");
                    crate::metrics::listener_reconnected();
                    wakeups.wake_all();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listener failed");
                    return;
                }
            }
        }
    }
}
