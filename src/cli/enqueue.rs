//! `weir enqueue KIND [ARGS]`: enqueue from the shell.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::client::Client;
use crate::config::DbArgs;
use crate::error::{Error, Result};
use crate::job::{JobId, NewJob};

#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The job's kind, e.g. demo.process_item.
    pub kind: String,
    /// The job's args, a JSON object.
    #[arg(default_value = "{}")]
    pub args: String,
    /// Queue to enqueue on.
    #[arg(long)]
    pub queue: Option<String>,
    /// Priority (higher runs first).
    #[arg(long, allow_negative_numbers = true)]
    pub priority: Option<i16>,
    /// Run no sooner than this from now: seconds, or a number with s, m or h.
    #[arg(long, value_parser = parse_delay)]
    pub delay: Option<Duration>,
    /// Attempts allowed.
    #[arg(long)]
    pub max_attempts: Option<i32>,
    /// Only one live job holds this key; enqueueing it again returns that job.
    #[arg(long)]
    pub unique_key: Option<String>,
    /// Per-attempt timeout in seconds.
    #[arg(long)]
    pub timeout_seconds: Option<i32>,
    /// Concurrency key: at most the queue's max_running_per_key jobs of one
    /// key run at once.
    #[arg(long)]
    pub key: Option<String>,
    /// Wait for this job to succeed first (repeatable); pending until then.
    #[arg(long = "depends-on", value_name = "ID")]
    pub depends_on: Vec<JobId>,
    /// Wait for the job to finish, showing its progress; exit 1 unless it succeeded.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Parses `30`, `30s`, `5m`, `2h` (and fractions, `1.5s`).
fn parse_delay(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c),
        _ => (s, 's'),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a delay (use e.g. 30, 30s, 5m, 2h)"))?;
    let factor = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        _ => return Err(format!("{s:?}: unknown unit (use s, m or h)")),
    };
    if !(0.0..=1e9).contains(&value) {
        return Err(format!("{s:?}: the delay must be between 0 and 1e9"));
    }
    Ok(Duration::from_secs_f64(value * factor))
}

pub async fn run(a: EnqueueArgs) -> Result<ExitCode> {
    let args: serde_json::Value = serde_json::from_str(&a.args)
        .map_err(|e| Error::InvalidArgument(format!("ARGS is not valid JSON: {e}")))?;
    let client = Client::new(a.db.connect().await?);
    let run_at = match a.delay {
        Some(d) => Some(
            chrono::Utc::now()
                + chrono::Duration::from_std(d).map_err(|e| Error::InvalidJob(e.to_string()))?,
        ),
        None => None,
    };
    let job = NewJob {
        kind: a.kind,
        args,
        queue: a.queue,
        priority: a.priority,
        run_at,
        max_attempts: a.max_attempts,
        unique_key: a.unique_key,
        timeout_seconds: a.timeout_seconds,
        traceparent: None,
        concurrency_key: a.key,
        depends_on: a.depends_on,
    };
    let enqueued = client.enqueue_job(&job).await?;
    // Said at once, before any wait: a kind no live worker serves would
    // otherwise wait forever with no hint.
    let stored = client.job(enqueued.id).await?;
    for w in client.enqueue_warnings(&[stored]).await?.concat() {
        eprintln!("warning: {w}");
    }
    if !a.wait {
        println!("{}", enqueued.id);
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("enqueued {}", enqueued.id);
    super::job::follow_to_the_end(client, enqueued.id, |job| {
        println!("{}", super::job_json(job)?);
        Ok(())
    })
    .await
}
