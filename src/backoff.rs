//! Retry backoff: how long a failed attempt waits before the next one.
//!
//! Exponential from `base` (1 s by default), doubling per attempt, capped at
//! `max` (1 h), with jitter so that jobs failing together do not retry
//! together.

use std::time::Duration;

/// Default delay after the first failed attempt.
pub const DEFAULT_BASE: Duration = Duration::from_secs(1);
/// Default ceiling of any delay.
pub const DEFAULT_MAX: Duration = Duration::from_secs(3600);

/// Smallest factor the jitter scales a delay by.
pub const JITTER_MIN: f64 = 0.8;
/// Width of the jitter factor's range: factors are in [0.8, 1.2).
pub const JITTER_SPAN: f64 = 0.4;

/// Exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay after attempt 1, before jitter.
    pub base: Duration,
    /// Ceiling of the delay, before jitter.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: DEFAULT_BASE,
            max: DEFAULT_MAX,
        }
    }
}

impl Backoff {
    /// The delay before the next attempt after `attempt` (1-based) failed,
    /// without jitter: `base * 2^(attempt-1)`, capped at `max`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::backoff::Backoff;
    /// let b = Backoff::default();
    /// assert_eq!(b.nominal(1), Duration::from_secs(1));
    /// assert_eq!(b.nominal(3), Duration::from_secs(4));
    /// assert_eq!(b.nominal(40), Duration::from_secs(3600));
    /// ```
    pub fn nominal(&self, attempt: i32) -> Duration {
        let exponent = attempt.saturating_sub(1).clamp(0, 30) as u32;
        self.base
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The delay to use: the nominal delay scaled by a random factor in
    /// [`JITTER_MIN`, `JITTER_MIN + JITTER_SPAN`).
    pub fn delay(&self, attempt: i32) -> Duration {
        self.nominal(attempt)
            .mul_f64(JITTER_MIN + JITTER_SPAN * fastrand::f64())
    }

    /// The nominal delay in seconds after attempts 1, 2, ... up to the
    /// point where the cap is reached (the last entry holds for every later
    /// attempt). Lets SQL apply this policy (the rescuer) without a second
    /// copy of the formula.
    pub fn nominal_table_secs(&self) -> Vec<f64> {
        let mut table = Vec::new();
        for attempt in 1..=31 {
            let d = self.nominal(attempt);
            table.push(d.as_secs_f64());
            if d >= self.max {
                break;
            }
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        let b = Backoff::default();
        let mut last = Duration::ZERO;
        for attempt in 1..=12 {
            let d = b.nominal(attempt);
            assert!(d > last, "attempt {attempt}: {d:?} <= {last:?}");
            last = d;
        }
        assert_eq!(b.nominal(13), b.max);
        assert_eq!(b.nominal(i32::MAX), b.max);
        assert_eq!(b.nominal(0), b.base);
    }

    #[test]
    fn nominal_table_matches_nominal_and_ends_at_the_cap() {
        let b = Backoff::default();
        let table = b.nominal_table_secs();
        for (i, secs) in table.iter().enumerate() {
            assert_eq!(*secs, b.nominal(i as i32 + 1).as_secs_f64());
        }
        assert_eq!(*table.last().unwrap(), b.max.as_secs_f64());
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let b = Backoff::default();
        for _ in 0..1000 {
            let d = b.delay(2);
            assert!(d >= Duration::from_millis(1600) && d < Duration::from_millis(2400));
        }
    }
}
