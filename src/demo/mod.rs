//! The built-in tasks of the stock binary: the classic Celery + FastAPI
//! "process an item" loop, a task that always fails (to see retries), a
//! cancellable sleep, and a sleep that says which attempt returned it
//! (`scripts/chaos` checks that every recorded result is the final
//! attempt's).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::task::{JobContext, JobError, Task};
use crate::worker::Registry;

/// A registry with every built-in task.
pub fn builtin() -> Registry {
    let mut r = Registry::new();
    r.register(ProcessItem)
        .register(Fail)
        .register(Sleep)
        .register(EchoAttempt);
    r
}

/// `demo.process_item`: `steps` steps of `step_ms` each, reporting
/// progress after every step.
pub struct ProcessItem;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessItemArgs {
    pub name: String,
    #[serde(default = "default_steps")]
    pub steps: u32,
    #[serde(default = "default_step_ms")]
    pub step_ms: u64,
}

fn default_steps() -> u32 {
    30
}

fn default_step_ms() -> u64 {
    1000
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ProcessItemOutput {
    pub result: String,
}

impl Task for ProcessItem {
    const KIND: &'static str = "demo.process_item";
    type Args = ProcessItemArgs;
    type Output = ProcessItemOutput;

    async fn run(
        &self,
        ctx: JobContext,
        args: ProcessItemArgs,
    ) -> Result<ProcessItemOutput, JobError> {
        let total = i64::from(args.steps);
        ctx.progress(
            Some(0),
            Some(total),
            Some(format!("processing {}", args.name)),
        );
        for step in 1..=total {
            tokio::select! {
                _ = ctx.cancelled() => return Err(JobError::Cancelled),
                _ = tokio::time::sleep(Duration::from_millis(args.step_ms)) => {}
            }
            ctx.progress(
                Some(step),
                Some(total),
                Some(format!("step {step} of {total}")),
            );
        }
        Ok(ProcessItemOutput {
            result: format!("Processed item {}", args.name),
        })
    }
}

/// `demo.fail`: always fails with `message`; retryable unless `fatal`.
pub struct Fail;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailArgs {
    #[serde(default = "default_message")]
    pub message: String,
    #[serde(default)]
    pub fatal: bool,
}

fn default_message() -> String {
    "demo.fail failed, as it always does".into()
}

impl Task for Fail {
    const KIND: &'static str = "demo.fail";
    type Args = FailArgs;
    type Output = ();

    async fn run(&self, _ctx: JobContext, args: FailArgs) -> Result<(), JobError> {
        if args.fatal {
            Err(JobError::Fatal(args.message))
        } else {
            Err(JobError::Retry(args.message))
        }
    }
}

/// `demo.sleep`: sleeps `ms` milliseconds, stopping early on cancellation.
pub struct Sleep;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SleepArgs {
    #[serde(default = "default_sleep_ms")]
    pub ms: u64,
}

fn default_sleep_ms() -> u64 {
    1000
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SleepOutput {
    pub slept_ms: u64,
}

impl Task for Sleep {
    const KIND: &'static str = "demo.sleep";
    type Args = SleepArgs;
    type Output = SleepOutput;

    async fn run(&self, ctx: JobContext, args: SleepArgs) -> Result<SleepOutput, JobError> {
        tokio::select! {
            _ = ctx.cancelled() => Err(JobError::Cancelled),
            _ = tokio::time::sleep(Duration::from_millis(args.ms)) => Ok(SleepOutput { slept_ms: args.ms }),
        }
    }
}

/// `demo.echo_attempt`: sleeps `ms` milliseconds like `demo.sleep`, then
/// returns the attempt and claim token it ran under, so that a stored
/// result shows which attempt recorded it.
pub struct EchoAttempt;

#[derive(Debug, Serialize, Deserialize)]
pub struct EchoAttemptOutput {
    pub attempt: i32,
    pub claim_token: uuid::Uuid,
    pub slept_ms: u64,
}

impl Task for EchoAttempt {
    const KIND: &'static str = "demo.echo_attempt";
    type Args = SleepArgs;
    type Output = EchoAttemptOutput;

    async fn run(&self, ctx: JobContext, args: SleepArgs) -> Result<EchoAttemptOutput, JobError> {
        tokio::select! {
            _ = ctx.cancelled() => Err(JobError::Cancelled),
            _ = tokio::time::sleep(Duration::from_millis(args.ms)) => Ok(EchoAttemptOutput {
                attempt: ctx.attempt(),
                claim_token: ctx.claim_token().0,
                slept_ms: args.ms,
            }),
        }
    }
}
