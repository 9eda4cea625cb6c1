//! Cron schedules as pure policy: parsing an expression in an IANA time
//! zone, the next tick after an instant, and which due ticks a scheduler
//! enqueues. No SQL and no clock: callers pass the time.
//!
//! Expressions are parsed by the `croner` crate (5 fields, or 6 with
//! seconds first) and zones come from the IANA database compiled into
//! `chrono-tz`. Daylight saving time follows croner's rules (those of
//! Vixie cron and the Open Cron Pattern Specification):
//!
//! - a tick whose wall-clock time does not exist that day (spring
//!   forward, e.g. 02:30 in Europe/Berlin on the last Sunday of March)
//!   runs at the first instant after the gap (03:00 local);
//! - a tick whose wall-clock time happens twice (fall back, 02:30 on the
//!   last Sunday of October) runs once, at the first of the two;
//! - patterns with a wildcard or a step in the second, minute or hour
//!   field (`*/15 * * * *`) skip instants in the gap and run on both
//!   passes of a repeated hour, as their wall clock says.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! let daily = weir::cron::CronSchedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
//! // Spring forward: 02:30 does not exist on 2026-03-29; the tick is at 03:00 CEST.
//! let after = Utc.with_ymd_and_hms(2026, 3, 28, 12, 0, 0).unwrap();
//! assert_eq!(daily.next_after(after), Some(Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap()));
//! assert!(weir::cron::CronSchedule::parse("61 * * * *", "UTC").is_err());
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// Most ticks one scheduler pass enqueues for one schedule (a pass that
/// finds more on-time ticks than this enqueues the latest ones).
pub const MAX_TICKS_PER_PASS: usize = 100;

/// What a schedule does with ticks missed while no scheduler ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Enqueue the latest missed tick (the default).
    Latest,
    /// Enqueue none of them.
    None,
}

impl CatchUp {
    pub fn as_str(self) -> &'static str {
        match self {
            CatchUp::Latest => "latest",
            CatchUp::None => "none",
        }
    }

    /// `latest` or `none`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "latest" => Ok(CatchUp::Latest),
            "none" => Ok(CatchUp::None),
            other => Err(format!("catch_up must be latest or none, not {other:?}")),
        }
    }
}

/// A parsed cron expression in a time zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: Cron,
    tz: Tz,
}

impl CronSchedule {
    /// Parses `expr` (5 fields, or 6 with seconds first) in `timezone` (an
    /// IANA name such as `Europe/Berlin`). The error is one line for a
    /// person: what is wrong and what is expected.
    pub fn parse(expr: &str, timezone: &str) -> Result<Self, String> {
        let fields = expr.split_whitespace().count();
        if !(5..=6).contains(&fields) {
            return Err(format!(
                "cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 \
                 (seconds first), not {fields}: {expr:?}"
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(expr)
            .map_err(|e| format!("cron expression {expr:?} is not valid: {e}"))?;
        let tz: Tz = timezone.parse().map_err(|_| {
            format!("unknown time zone {timezone:?}: use an IANA name such as Europe/Berlin or UTC")
        })?;
        let schedule = CronSchedule { cron, tz };
        // A pattern that never matches (30 February) is refused here
        // rather than found out by the scheduler.
        if schedule.next_after(DateTime::<Utc>::UNIX_EPOCH).is_none() {
            return Err(format!("cron expression {expr:?} never matches a date"));
        }
        Ok(schedule)
    }

    /// The first tick strictly after `t`; `None` when there is none.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.tz);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// What a scheduler pass at `now` does for a schedule whose next tick
    /// was `next_run_at` (see [`Plan`]). Ticks at most `grace` old are on
    /// time, each enqueued; older ones were missed: with
    /// [`CatchUp::Latest`] the latest of them is enqueued, unless an
    /// on-time tick is, with [`CatchUp::None`] none.
    pub fn plan(
        &self,
        next_run_at: DateTime<Utc>,
        now: DateTime<Utc>,
        catch_up: CatchUp,
        grace: Duration,
    ) -> Plan {
        let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
        let mut on_time = Vec::new();
        let mut latest_missed = None;
        let mut tick = Some(next_run_at);
        // Skip the missed ticks without listing them: the latest missed
        // one is the last tick at or before now - grace.
        let cutoff = now - grace;
        if next_run_at < cutoff {
            let before_cutoff = self
                .cron
                .find_previous_occurrence(&cutoff.with_timezone(&self.tz), true);
            if let Ok(m) = before_cutoff {
                let m = m.with_timezone(&Utc);
                if m >= next_run_at {
                    latest_missed = Some(m);
                    tick = self.next_after(m);
                }
            }
        }
        while let Some(t) = tick.filter(|t| *t <= now) {
            if t < cutoff {
                latest_missed = Some(t);
            } else {
                on_time.push(t);
            }
            tick = self.next_after(t);
        }
        if on_time.len() > MAX_TICKS_PER_PASS {
            on_time.drain(..on_time.len() - MAX_TICKS_PER_PASS);
        }
        let enqueue = match (on_time.is_empty(), latest_missed, catch_up) {
            (false, _, _) => on_time,
            (true, Some(m), CatchUp::Latest) => vec![m],
            _ => Vec::new(),
        };
        Plan {
            enqueue,
            next_run_at: tick,
        }
    }
}

/// One scheduler pass over one due schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The ticks to enqueue, oldest first.
    pub enqueue: Vec<DateTime<Utc>>,
    /// The schedule's next tick, after `now` (`None`: it never ticks again).
    pub next_run_at: Option<DateTime<Utc>>,
}

/// The `unique_key` of the job a tick enqueues: `schedule:<name>:<tick>`,
/// the tick in UTC as RFC 3339 with whole seconds.
pub fn tick_key(name: &str, tick: DateTime<Utc>) -> String {
    format!(
        "schedule:{name}:{}",
        tick.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    /// Every tick in [from, to).
    fn ticks(s: &CronSchedule, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = s.next_after(from - chrono::Duration::seconds(1));
        while let Some(x) = t.filter(|x| *x < to) {
            out.push(x);
            t = s.next_after(x);
        }
        out
    }

    #[test]
    fn a_daily_tick_in_berlin_neither_vanishes_nor_doubles_across_2026s_transitions() {
        let s = CronSchedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        // Spring forward on 2026-03-29 (02:00 CET -> 03:00 CEST): 02:30
        // does not exist; the tick runs at 03:00 CEST (01:00 UTC).
        assert_eq!(
            ticks(&s, utc(2026, 3, 27, 22, 0, 0), utc(2026, 3, 30, 22, 0, 0)),
            vec![
                utc(2026, 3, 28, 1, 30, 0), // 02:30 CET
                utc(2026, 3, 29, 1, 0, 0),  // 03:00 CEST, right after the gap
                utc(2026, 3, 30, 0, 30, 0), // 02:30 CEST
            ]
        );
        // Fall back on 2026-10-25 (03:00 CEST -> 02:00 CET): 02:30 happens
        // twice; the tick runs once, at the first (00:30 UTC).
        assert_eq!(
            ticks(&s, utc(2026, 10, 23, 22, 0, 0), utc(2026, 10, 26, 23, 0, 0)),
            vec![
                utc(2026, 10, 24, 0, 30, 0), // 02:30 CEST
                utc(2026, 10, 25, 0, 30, 0), // the first 02:30 (CEST)
                utc(2026, 10, 26, 1, 30, 0), // 02:30 CET
            ]
        );
    }

    #[test]
    fn a_year_of_berlin_days_has_one_daily_tick_each() {
        let s = CronSchedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        let all = ticks(&s, utc(2026, 1, 1, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0));
        assert_eq!(all.len(), 365);
        let days: std::collections::BTreeSet<_> = all
            .iter()
            .map(|t| t.with_timezone(&chrono_tz::Europe::Berlin).date_naive())
            .collect();
        assert_eq!(days.len(), 365, "one tick per local day");
    }

    #[test]
    fn five_and_six_fields_parse_and_other_shapes_are_refused() {
        assert!(CronSchedule::parse("*/5 * * * *", "UTC").is_ok());
        assert!(CronSchedule::parse("*/10 * * * * *", "UTC").is_ok());
        for bad in [
            "* * * *",
            "0 0 0 * * * 2026",
            "@daily",
            "",
            "61 * * * *",
            "* * 31 2 *",
        ] {
            assert!(CronSchedule::parse(bad, "UTC").is_err(), "{bad:?}");
        }
        let e = CronSchedule::parse("* * * * *", "Mars/Olympus").unwrap_err();
        assert!(e.contains("unknown time zone"), "{e}");
    }

    #[test]
    fn six_fields_tick_every_second() {
        let s = CronSchedule::parse("* * * * * *", "UTC").unwrap();
        let t = utc(2026, 12, 5, 4, 0, 0);
        assert_eq!(s.next_after(t), Some(utc(2026, 12, 5, 4, 0, 1)));
    }

    #[test]
    fn a_pass_enqueues_on_time_ticks_and_only_the_latest_missed_one() {
        let s = CronSchedule::parse("* * * * * *", "UTC").unwrap();
        let t0 = utc(2026, 12, 5, 4, 0, 0);
        let grace = Duration::from_millis(500);
        let ms = |n| chrono::Duration::milliseconds(n);
        // On time: the due tick, 100 ms late.
        let p = s.plan(t0, t0 + ms(100), CatchUp::None, grace);
        assert_eq!(p.enqueue, vec![t0]);
        assert_eq!(p.next_run_at, Some(t0 + ms(1000)));
        // Stopped for 5 s: t0 .. t0+5 s are missed (t0+5 s is 700 ms old).
        let now = t0 + ms(5700);
        let latest = s.plan(t0, now, CatchUp::Latest, grace);
        assert_eq!(latest.enqueue, vec![t0 + ms(5000)]);
        assert_eq!(latest.next_run_at, Some(t0 + ms(6000)));
        let none = s.plan(t0, now, CatchUp::None, grace);
        assert!(none.enqueue.is_empty());
        assert_eq!(none.next_run_at, Some(t0 + ms(6000)));
        // A week of missed ticks costs no walk through them.
        let later = t0 + chrono::Duration::days(7) + ms(700);
        let p = s.plan(t0, later, CatchUp::Latest, grace);
        assert_eq!(p.enqueue, vec![later - ms(700)]);
    }

    #[test]
    fn tick_keys_name_the_schedule_and_the_utc_second() {
        assert_eq!(
            tick_key("nightly", utc(2026, 3, 29, 1, 0, 0)),
            "schedule:nightly:2026-03-29T01:00:00Z"
        );
    }
}
