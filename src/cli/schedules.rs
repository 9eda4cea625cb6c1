//! `weir schedules`, `weir schedule set NAME CRON KIND [ARGS]`, `weir
//! schedule rm NAME`.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::client::{NewSchedule, Schedule};
use crate::config::DbArgs;
use crate::cron::CatchUp;
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct SchedulesArgs {
    /// Print JSON (the API's shape).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Create or replace a schedule: every tick of CRON enqueues a KIND job.
    #[command(
        after_help = "Examples:\n  weir schedule set nightly '30 2 * * *' report.build '{\"format\":\"pdf\"}' --tz Europe/Berlin\n  weir schedule set heartbeat '*/10 * * * * *' demo.sleep --catch-up none"
    )]
    #[command(override_usage = "weir schedule set [OPTIONS] <NAME> <CRON> <KIND> [ARGS]")]
    Set(SetArgs),
    /// Delete a schedule (the jobs it enqueued stay).
    #[command(after_help = "Example:\n  weir schedule rm nightly")]
    Rm(RmArgs),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The schedule's name (letters, digits, `_ . : -`).
    pub name: String,
    /// 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), quoted.
    pub cron: String,
    /// The kind of job each tick enqueues.
    pub kind: String,
    /// The jobs' args, a JSON object (default `{}`).
    pub args: Option<String>,
    /// IANA time zone the expression is read in.
    #[arg(long = "tz", default_value = "UTC")]
    pub timezone: String,
    /// The jobs' queue.
    #[arg(long, default_value = "default")]
    pub queue: String,
    /// The jobs' priority (higher runs first).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub priority: i16,
    /// The jobs' attempts allowed (default 20).
    #[arg(long)]
    pub max_attempts: Option<i32>,
    /// The jobs' per-attempt timeout, in seconds.
    #[arg(long)]
    pub timeout: Option<i32>,
    /// Ticks missed while no node ran: latest or none.
    #[arg(long, default_value = "latest")]
    pub catch_up: String,
    /// Create it paused (it enqueues nothing until set again without --paused).
    #[arg(long)]
    pub paused: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// The schedule's name.
    pub name: String,
    #[command(flatten)]
    pub db: DbArgs,
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".into())
}

pub async fn list(args: SchedulesArgs) -> Result<ExitCode> {
    let all = args.db.client().await?.schedules().await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "schedules": all }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.cron.clone(),
                s.timezone.clone(),
                s.kind.clone(),
                s.queue.clone(),
                if s.paused { "paused" } else { "active" }.into(),
                s.error
                    .as_ref()
                    .map(|e| format!("error: {e}"))
                    .unwrap_or_else(|| when(s.next_run_at)),
                when(s.last_enqueued_at),
            ]
        })
        .collect();
    println!(
        "{}",
        super::table::render(
            &[
                "NAME",
                "CRON",
                "TIMEZONE",
                "KIND",
                "QUEUE",
                "STATUS",
                "NEXT RUN",
                "LAST ENQUEUED"
            ],
            &rows
        )
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn run(command: ScheduleCommand) -> Result<ExitCode> {
    match command {
        ScheduleCommand::Set(a) => set(a).await,
        ScheduleCommand::Rm(a) => {
            a.db.client().await?.delete_schedule(&a.name).await?;
            println!("schedule {} deleted", a.name);
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn set(a: SetArgs) -> Result<ExitCode> {
    let args = match &a.args {
        None => serde_json::json!({}),
        Some(text) => match serde_json::from_str(text) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "ARGS must be a JSON object, e.g. '{{\"to\":\"a@b.c\"}}', not {text}"
                )));
            }
        },
    };
    let mut schedule = NewSchedule::new(&a.name, &a.cron, &a.kind)
        .args(args)
        .timezone(&a.timezone)
        .queue(&a.queue)
        .priority(a.priority)
        .paused(a.paused)
        .catch_up(CatchUp::parse(&a.catch_up).map_err(Error::InvalidArgument)?);
    schedule.max_attempts = a.max_attempts;
    schedule.timeout_seconds = a.timeout;
    // Refused before connecting: a bad expression needs no database.
    schedule.validate()?;
    let stored: Schedule = a.db.client().await?.set_schedule(&schedule).await?;
    let next = match crate::cron::CronSchedule::parse(&stored.cron, &stored.timezone)
        .ok()
        .and_then(|c| {
            stored
                .next_run_at
                .or_else(|| c.next_after(chrono::Utc::now()))
        }) {
        Some(t) if !stored.paused => when(Some(t)),
        _ => "-".into(),
    };
    println!("schedule {} set; next run {next}", stored.name);
    Ok(ExitCode::SUCCESS)
}
