//! Flow control: a queue's limits and the answer to "why isn't this job
//! running?" (docs/flow-control.md). Domain types; no SQL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The most a limit may be (`weir.set_queue_limits` refuses more).
pub const MAX_LIMIT: i32 = 1_000_000;

/// The longest `rate_period` (31 days).
pub const MAX_RATE_PERIOD: Duration = Duration::from_secs(31 * 24 * 3600);

/// A queue's flow-control limits, enforced by every claim on every node.
/// `None` means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueLimits {
    /// Jobs of the queue running at once.
    pub max_running: Option<i32>,
    /// Jobs of one `concurrency_key` running at once.
    pub max_running_per_key: Option<i32>,
    /// Claims (attempt starts) in any window of `rate_period`: a pair, both
    /// set or both unset.
    pub rate: Option<RateLimit>,
}

/// `limit` claims in any window of `period` (a sliding window).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    pub limit: i32,
    pub period: Duration,
}

impl QueueLimits {
    /// True when no limit is set (the queue claims on the plain path).
    pub fn is_unlimited(&self) -> bool {
        self.max_running.is_none() && self.max_running_per_key.is_none() && self.rate.is_none()
    }

    /// Refuses values `weir.set_queue_limits` would refuse, in its words.
    pub fn check(&self) -> Result<()> {
        let in_range = |what: &str, v: Option<i32>| match v {
            Some(n) if !(1..=MAX_LIMIT).contains(&n) => Err(Error::InvalidArgument(format!(
                "{what} must be between 1 and {MAX_LIMIT} (or none)"
            ))),
            _ => Ok(()),
        };
        in_range("max_running", self.max_running)?;
        in_range("max_running_per_key", self.max_running_per_key)?;
        if let Some(r) = self.rate {
            in_range("rate_limit", Some(r.limit))?;
            if r.period.is_zero() || r.period > MAX_RATE_PERIOD {
                return Err(Error::InvalidArgument(
                    "rate_period must be more than 0 and at most 31 days".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Parses a rate as the CLI takes it: `N/PERIOD`, where PERIOD is a unit
/// (`s`, `m`, `h`, `d`, also spelled `second`, `min`, `minute`, `hour`,
/// `day`) with an optional number in front.
///
/// ```
/// use std::time::Duration;
/// let r = weir::flow::parse_rate("10/s").unwrap();
/// assert_eq!((r.limit, r.period), (10, Duration::from_secs(1)));
/// let r = weir::flow::parse_rate("100/5m").unwrap();
/// assert_eq!((r.limit, r.period), (100, Duration::from_secs(300)));
/// assert!(weir::flow::parse_rate("10").is_err());
/// ```
pub fn parse_rate(s: &str) -> std::result::Result<RateLimit, String> {
    let bad = || format!("{s:?} is not a rate (use N/PERIOD, e.g. 10/s, 100/min, 1000/1h)");
    let (n, period) = s.trim().split_once('/').ok_or_else(bad)?;
    let limit: i32 = n.trim().parse().map_err(|_| bad())?;
    let period = period.trim();
    let split = period
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(bad)?;
    let (count, unit) = period.split_at(split);
    let count: f64 = if count.is_empty() {
        1.0
    } else {
        count.parse().map_err(|_| bad())?
    };
    let unit_secs = match unit {
        "s" | "sec" | "second" | "seconds" => 1.0,
        "m" | "min" | "minute" | "minutes" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => return Err(bad()),
    };
    let secs = count * unit_secs;
    if !(secs > 0.0 && secs <= MAX_RATE_PERIOD.as_secs_f64()) {
        return Err("the rate's period must be more than 0 and at most 31 days".into());
    }
    Ok(RateLimit {
        limit,
        period: Duration::from_secs_f64(secs),
    })
}

/// Why a job is not running (yet): `weir.explain_job`. `reason` is one of
/// `scheduled`, `retry_backoff`, `waiting_on_dependencies`,
/// `queue_paused`, `no_worker_for_kind`, `queue_concurrency_limit`,
/// `key_concurrency_limit`, `rate_limited`, `queued_behind`, `running`,
/// or the terminal state; the other fields are the reason's details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub reason: String,
    /// The job's state.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// When the job may run (`scheduled`, `retry_backoff`), or when the
    /// rate window lets one more start (`rate_limited`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// The concurrency key (`key_concurrency_limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Jobs running now (the concurrency limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<i64>,
    /// Starts in the current window (`rate_limited`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<i64>,
    /// The limit reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Available jobs of higher or equal priority ahead of it
    /// (`queued_behind`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ahead: Option<i64>,
    /// The jobs it waits on (`waiting_on_dependencies`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_on: Option<Vec<uuid::Uuid>>,
    /// The node running it (`running`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_units_and_counts() {
        assert_eq!(parse_rate("5/min").unwrap().period, Duration::from_secs(60));
        assert_eq!(
            parse_rate("5/2h").unwrap().period,
            Duration::from_secs(7200)
        );
        assert_eq!(parse_rate(" 7 / day ").unwrap().limit, 7);
        assert!(parse_rate("5/fortnight").is_err());
        assert!(parse_rate("x/s").is_err());
        assert!(parse_rate("5/0s").is_err());
        assert!(parse_rate("5/40d").is_err());
    }

    #[test]
    fn limits_out_of_range_are_refused() {
        let ok = QueueLimits {
            max_running: Some(3),
            ..QueueLimits::default()
        };
        assert!(ok.check().is_ok());
        let zero = QueueLimits {
            max_running_per_key: Some(0),
            ..QueueLimits::default()
        };
        assert!(zero.check().is_err());
        let no_period = QueueLimits {
            rate: Some(RateLimit {
                limit: 1,
                period: Duration::ZERO,
            }),
            ..QueueLimits::default()
        };
        assert!(no_period.check().is_err());
    }
}
