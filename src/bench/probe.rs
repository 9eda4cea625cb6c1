//! The benchmark's no-op task: counts its runs, remembers when the first
//! one started and, for the latency scenario, reports each start.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tokio::sync::mpsc;

use crate::job::JobId;
use crate::task::{JobContext, JobError, Task};

/// A no-op handler of kind [`super::KIND`] that observes its runs.
#[derive(Clone, Default)]
pub struct Probe {
    runs: Arc<AtomicU64>,
    first: Arc<OnceLock<Instant>>,
    starts: Option<mpsc::UnboundedSender<(JobId, Instant)>>,
}

impl Probe {
    /// A probe that also sends `(job, start instant)` for every run.
    pub fn reporting(starts: mpsc::UnboundedSender<(JobId, Instant)>) -> Self {
        Probe {
            starts: Some(starts),
            ..Probe::default()
        }
    }

    /// Handler runs so far.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// When the first handler started.
    pub fn first_start(&self) -> Option<Instant> {
        self.first.get().copied()
    }
}

impl Task for Probe {
    const KIND: &'static str = super::KIND;
    type Args = serde_json::Value;
    type Output = ();

    async fn run(&self, ctx: JobContext, _args: serde_json::Value) -> Result<(), JobError> {
        let now = Instant::now();
        let _ = self.first.get_or_init(|| now);
        if let Some(tx) = &self.starts {
            let _ = tx.send((ctx.id(), now));
        }
        self.runs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
