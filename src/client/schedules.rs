//! Cron schedules through the client: set (create or replace), read,
//! list, delete. The expression and the time zone are parsed here, with
//! the scheduler's own parser ([`crate::cron`]), before anything is
//! written, so a bad one is refused at once with the reason.

use std::time::Duration;

use sqlx::PgExecutor;

use super::Client;
use crate::cron::{CatchUp, CronSchedule};
use crate::db;
use crate::db::schedules::ScheduleSpec;
use crate::error::{Error, Result};

pub use crate::db::schedules::ScheduleRow as Schedule;

/// A schedule to set: every tick of `cron` (in `timezone`, UTC unless
/// set) enqueues a job of `kind` with `args`.
///
/// ```
/// use weir::client::NewSchedule;
/// let nightly = NewSchedule::new("nightly-report", "30 2 * * *", "report.build")
///     .timezone("Europe/Berlin")
///     .args(serde_json::json!({"format": "pdf"}))
///     .queue("reports");
/// assert!(nightly.validate().is_ok());
/// assert!(NewSchedule::new("x", "61 * * * *", "k").validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewSchedule {
    pub name: String,
    pub cron: String,
    pub kind: String,
    pub args: serde_json::Value,
    pub timezone: String,
    pub queue: String,
    pub priority: i16,
    pub max_attempts: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub paused: bool,
    pub catch_up: CatchUp,
}

impl NewSchedule {
    pub fn new(name: impl Into<String>, cron: impl Into<String>, kind: impl Into<String>) -> Self {
        NewSchedule {
            name: name.into(),
            cron: cron.into(),
            kind: kind.into(),
            args: serde_json::json!({}),
            timezone: "UTC".into(),
            queue: "default".into(),
            priority: 0,
            max_attempts: None,
            timeout_seconds: None,
            paused: false,
            catch_up: CatchUp::Latest,
        }
    }

    /// The jobs' args (a JSON object).
    pub fn args(mut self, args: serde_json::Value) -> Self {
        self.args = args;
        self
    }

    /// The IANA time zone the expression is read in (default `UTC`).
    pub fn timezone(mut self, timezone: impl Into<String>) -> Self {
        self.timezone = timezone.into();
        self
    }

    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = queue.into();
        self
    }

    pub fn priority(mut self, priority: i16) -> Self {
        self.priority = priority;
        self
    }

    pub fn max_attempts(mut self, max_attempts: i32) -> Self {
        self.max_attempts = Some(max_attempts);
        self
    }

    /// Each job's timeout (whole seconds, at least 1).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout_seconds = Some(timeout.as_secs().clamp(1, i32::MAX as u64) as i32);
        self
    }

    /// A paused schedule enqueues nothing until set again unpaused.
    pub fn paused(mut self, paused: bool) -> Self {
        self.paused = paused;
        self
    }

    /// What to do with ticks missed while no node ran (default
    /// [`CatchUp::Latest`]).
    pub fn catch_up(mut self, catch_up: CatchUp) -> Self {
        self.catch_up = catch_up;
        self
    }

    /// Parses the expression in the time zone; the error says what is
    /// wrong. The database checks the rest.
    pub fn validate(&self) -> Result<()> {
        CronSchedule::parse(&self.cron, &self.timezone).map_err(Error::InvalidArgument)?;
        if !self.args.is_object() {
            return Err(Error::InvalidArgument("args must be a JSON object".into()));
        }
        // Stored, it could not be read back (nor enqueued).
        if let Some(why) = crate::job::unreadable_json(&self.args) {
            return Err(Error::InvalidArgument(format!("args: {why}")));
        }
        Ok(())
    }

    fn spec(&self) -> ScheduleSpec {
        ScheduleSpec {
            name: self.name.clone(),
            cron: self.cron.clone(),
            timezone: self.timezone.clone(),
            kind: self.kind.clone(),
            args: self.args.clone(),
            queue: self.queue.clone(),
            priority: self.priority,
            max_attempts: self.max_attempts,
            timeout_seconds: self.timeout_seconds,
            paused: self.paused,
            catch_up: self.catch_up.as_str().to_string(),
        }
    }
}

/// Validates and sets `schedule` through `db` (for example inside the
/// caller's transaction).
pub async fn set_schedule_in(db: impl PgExecutor<'_>, schedule: &NewSchedule) -> Result<Schedule> {
    schedule.validate()?;
    db::schedules::set(db, &schedule.spec()).await
}

impl Client {
    /// Creates or replaces a schedule (the expression and time zone are
    /// checked first). Its next tick is kept when neither the expression,
    /// the time zone nor a pause changed.
    pub async fn set_schedule(&self, schedule: &NewSchedule) -> Result<Schedule> {
        set_schedule_in(&self.pool, schedule).await
    }

    /// The schedule called `name`; [`Error::ScheduleNotFound`] if none.
    pub async fn schedule(&self, name: &str) -> Result<Schedule> {
        db::schedules::get(&self.pool, name)
            .await?
            .ok_or_else(|| Error::ScheduleNotFound(format!("schedule '{name}' not found")))
    }

    /// Every schedule, by name, with its next tick.
    pub async fn schedules(&self) -> Result<Vec<Schedule>> {
        db::schedules::list(&self.pool).await
    }

    /// Deletes a schedule (the jobs it enqueued stay);
    /// [`Error::ScheduleNotFound`] if none.
    pub async fn delete_schedule(&self, name: &str) -> Result<()> {
        db::schedules::delete(&self.pool, name).await
    }
}
