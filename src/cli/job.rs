//! `weir job ID`: one job, readable or as JSON; with `--wait`, followed
//! to its end (also the tail of `weir enqueue --wait`).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::client::Client;
use crate::config::DbArgs;
use crate::error::{Error, Result};
use crate::job::{Job, JobId, JobState};

#[derive(Debug, Args)]
pub struct JobArgs {
    /// The job's id (a UUID).
    pub id: String,
    /// Print the job object as JSON (the API's shape).
    #[arg(long)]
    pub json: bool,
    /// Follow the job until it is terminal, printing its progress on
    /// stderr, then print it; exit 0 if it succeeded, 1 if not, 130 on
    /// Ctrl-C (the job goes on).
    #[arg(long)]
    pub wait: bool,
    /// Say why the job is not running (yet): one reason and its details
    /// (with --json, the API's explanation object).
    #[arg(long, conflicts_with = "wait")]
    pub explain: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Parses a job id given on the command line.
pub(crate) fn parse_id(s: &str) -> Result<JobId> {
    s.trim()
        .parse()
        .map_err(|_| Error::InvalidArgument(format!("{s:?} is not a job id (expected a UUID)")))
}

pub async fn run(args: JobArgs) -> Result<ExitCode> {
    let id = parse_id(&args.id)?;
    let client = Client::new(args.db.connect().await?);
    let print = |job: &Job| -> Result<()> {
        if args.json {
            println!("{}", super::job_json(job)?);
        } else {
            println!("{}", super::table::describe(job));
        }
        Ok(())
    };
    if args.wait {
        return follow_to_the_end(client, id, print).await;
    }
    if args.explain {
        let e = client.explain(id).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&e)?);
        } else {
            println!("{}", super::table::explanation(&e));
        }
        return Ok(ExitCode::SUCCESS);
    }
    print(&client.job(id).await?)?;
    Ok(ExitCode::SUCCESS)
}

/// Follows `id` until it is terminal, its progress on stderr, then
/// `print`s it: exit 0 if it succeeded, 1 if not. Ctrl-C stops following
/// (exit 130; the job goes on). The client's followed-job row is removed before
/// this returns.
pub(crate) async fn follow_to_the_end(
    client: Client,
    id: JobId,
    print: impl Fn(&Job) -> Result<()>,
) -> Result<ExitCode> {
    let followed = tokio::select! {
        r = follow(&client, id) => r,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\ninterrupted; job {id} goes on (weir job {id} shows it)");
            return finish(client, Ok(ExitCode::from(130))).await;
        }
    };
    let code = followed.and_then(|job| {
        print(&job)?;
        Ok(if job.state == JobState::Succeeded {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    });
    finish(client, code).await
}

/// Removes the client's followed-job rows now, not with the process; `code` wins
/// over an error of the removal.
async fn finish(client: Client, code: Result<ExitCode>) -> Result<ExitCode> {
    let closed = client.close().await;
    let code = code?;
    closed?;
    Ok(code)
}

/// Prints `id`'s progress on stderr as it changes; returns the job once
/// it is terminal.
async fn follow(client: &Client, id: JobId) -> Result<Job> {
    let tty = std::io::stderr().is_terminal();
    let mut last_progress = None;
    let mut follow = client.follow(id).await?;
    loop {
        let job = follow.changed(Duration::from_secs(3600)).await?;
        if job.progress != last_progress {
            if let Some(p) = &job.progress {
                let line = progress_line(p);
                if tty {
                    eprint!("\r\x1b[2K{line}");
                } else {
                    eprintln!("{line}");
                }
            }
            last_progress = job.progress.clone();
        }
        if job.state.is_terminal() {
            if tty && last_progress.is_some() {
                eprintln!();
            }
            return Ok(job);
        }
    }
}

/// `[#########.....] 3/10 message`
fn progress_line(p: &crate::job::Progress) -> String {
    let bar = match (p.done, p.total) {
        (Some(d), Some(t)) if t > 0 => {
            let filled = ((d.clamp(0, t) * 30) / t) as usize;
            format!(
                "[{}{}] {d}/{t} ",
                "#".repeat(filled),
                ".".repeat(30 - filled)
            )
        }
        (Some(d), _) => format!("{d} "),
        _ => String::new(),
    };
    format!("{bar}{}", p.message.as_deref().unwrap_or(""))
}
