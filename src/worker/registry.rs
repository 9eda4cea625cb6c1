//! The tasks a worker serves, by kind, behind one object-safe interface.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::task::{JobContext, JobError, Task};

type BoxFuture = Pin<Box<dyn Future<Output = Result<serde_json::Value, JobError>> + Send>>;

trait ErasedTask: Send + Sync {
    fn timeout(&self) -> Option<Duration>;
    fn call(self: Arc<Self>, ctx: JobContext, args: serde_json::Value) -> BoxFuture;
}

struct Erased<T>(T);

impl<T: Task> ErasedTask for Erased<T> {
    fn timeout(&self) -> Option<Duration> {
        self.0.timeout()
    }

    fn call(self: Arc<Self>, ctx: JobContext, args: serde_json::Value) -> BoxFuture {
        Box::pin(async move {
            let args: T::Args = serde_json::from_value(args)
                .map_err(|e| JobError::fatal(format!("invalid args for {}: {e}", T::KIND)))?;
            let output = self.0.run(ctx, args).await?;
            serde_json::to_value(output)
                .map_err(|e| JobError::fatal(format!("result of {} is not JSON: {e}", T::KIND)))
        })
    }
}

/// Tasks by kind.
#[derive(Clone, Default)]
pub struct Registry {
    tasks: BTreeMap<String, Arc<dyn ErasedTask>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `task`, replacing any task of the same kind.
    pub fn register<T: Task>(&mut self, task: T) -> &mut Self {
        self.tasks
            .insert(T::KIND.to_string(), Arc::new(Erased(task)));
        self
    }

    /// The kinds served, sorted.
    pub fn kinds(&self) -> Vec<String> {
        self.tasks.keys().cloned().collect()
    }

    /// Each kind's attempt timeout, in the order of [`Registry::kinds`],
    /// with `default` where the task sets none.
    pub fn timeouts(&self, default: Duration) -> Vec<i32> {
        self.tasks
            .values()
            .map(|t| {
                let secs = t.timeout().unwrap_or(default).as_secs().max(1);
                i32::try_from(secs).unwrap_or(i32::MAX)
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Starts the handler of `kind`, or `None` if this registry lacks it.
    pub(crate) fn call(
        &self,
        kind: &str,
        ctx: JobContext,
        args: serde_json::Value,
    ) -> Option<BoxFuture> {
        self.tasks.get(kind).map(|t| t.clone().call(ctx, args))
    }
}
