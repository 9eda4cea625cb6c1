//! The one shutdown signal: a [`CancellationToken`] handed to every
//! long-running task, cancelled on SIGINT or SIGTERM. A second signal
//! ends the process at once.

pub use tokio_util::sync::CancellationToken;

/// The exit status after a second signal (128 + SIGINT, as a shell
/// reports an interrupted command).
pub const EXIT_ON_SECOND_SIGNAL: i32 = 130;

/// A token cancelled on the first SIGINT (Ctrl-C) or SIGTERM. A second
/// one exits the process at once with [`EXIT_ON_SECOND_SIGNAL`], without
/// waiting for running jobs or unwritten outcomes (their jobs are rescued
/// and run again, as after a crash).
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received; a second one stops at once");
        t.cancel();
        wait_for_signal().await;
        tracing::warn!("second shutdown signal: exiting now");
        std::process::exit(EXIT_ON_SECOND_SIGNAL);
    });
    token
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
