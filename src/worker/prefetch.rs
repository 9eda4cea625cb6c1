//! How far a queue claims ahead of its free slots, and how long a job
//! claimed ahead may wait for one.
//!
//! A slot that frees should start its next job without a round trip to
//! the database, so the claim loop keeps a few jobs claimed ahead: as many
//! as its slots start in [`Prefetch::window`] at the rate they started
//! lately, at most [`Prefetch::max`]. With no backlog the rate is low and
//! nothing is held ahead, so an idle queue claims exactly as before.
//!
//! Jobs claimed ahead are `running` in the database (they hold a claim
//! token, so cancels and rescues see them) but no handler runs them yet.
//! So that they do not starve other nodes:
//! - a claim that comes back short means the queue is drained: the jobs
//!   it took beyond the free slots are handed back at once (their idle
//!   workers are woken), and the queue claims no further ahead until a
//!   claim fills its free slots again;
//! - a job still waiting for a slot after [`Prefetch::hold`] is handed
//!   back, and the queue stops claiming ahead likewise.
//!
//! Handing back never spends an attempt.

use std::time::{Duration, Instant};

/// The claim-ahead settings of every queue of a worker node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefetch {
    /// Work claimed ahead of the free slots, in time at the rate the
    /// queue's handlers started lately. Default 20 ms; zero turns claiming
    /// ahead off.
    pub window: Duration,
    /// Most jobs claimed ahead per queue. Default 1,000.
    pub max: usize,
    /// Jobs claimed ahead whatever the rate (tests use it to hold jobs
    /// ahead of a busy slot). Default 0.
    pub min: usize,
    /// Longest a job claimed ahead waits for a slot before it is handed
    /// back to the queue. Default 250 ms.
    pub hold: Duration,
}

impl Default for Prefetch {
    fn default() -> Self {
        Prefetch {
            window: Duration::from_millis(20),
            max: 1000,
            min: 0,
            hold: Duration::from_millis(250),
        }
    }
}

impl Prefetch {
    /// Jobs to hold ahead at `rate` handler starts per second.
    pub fn ahead(&self, rate: f64) -> usize {
        if self.window.is_zero() {
            return self.min.min(self.max);
        }
        let by_rate = (rate * self.window.as_secs_f64()).ceil();
        let by_rate = if by_rate.is_finite() && by_rate > 0.0 {
            by_rate as usize
        } else {
            0
        };
        by_rate.max(self.min).min(self.max)
    }
}

/// Shortest span a rate sample covers: shorter ones are too noisy.
const MIN_SAMPLE: Duration = Duration::from_millis(5);

/// The rate at which a queue's handlers start, sampled by its claim loop.
#[derive(Debug, Clone, Copy)]
pub struct RateMeter {
    since: Instant,
    count_at: u64,
    rate: f64,
}

impl RateMeter {
    pub fn new(now: Instant) -> Self {
        RateMeter {
            since: now,
            count_at: 0,
            rate: 0.0,
        }
    }

    /// Handler starts per second, given the count of starts so far. A
    /// sample that covers a whole `window` replaces the estimate (a queue
    /// that stalled stops claiming ahead at once); shorter ones are
    /// averaged in.
    pub fn observe(&mut self, count: u64, now: Instant, window: Duration) -> f64 {
        let dt = now.saturating_duration_since(self.since);
        if dt < MIN_SAMPLE {
            return self.rate;
        }
        let sample = count.saturating_sub(self.count_at) as f64 / dt.as_secs_f64();
        self.rate = if dt >= window || self.rate == 0.0 {
            sample
        } else {
            (self.rate + sample) / 2.0
        };
        self.since = now;
        self.count_at = count;
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ahead_follows_the_rate_within_its_bounds() {
        let p = Prefetch::default();
        assert_eq!(p.ahead(0.0), 0);
        assert_eq!(p.ahead(1000.0), 20);
        assert_eq!(p.ahead(10_000_000.0), 1000);
        assert_eq!(p.ahead(f64::NAN), 0);
        let min = Prefetch { min: 3, ..p };
        assert_eq!(min.ahead(0.0), 3);
        let off = Prefetch {
            window: Duration::ZERO,
            ..p
        };
        assert_eq!(off.ahead(1e6), 0);
    }

    #[test]
    fn the_rate_rises_at_once_and_drops_after_a_stall() {
        let t0 = Instant::now();
        let w = Duration::from_millis(20);
        let mut m = RateMeter::new(t0);
        // Too short a sample keeps the estimate.
        assert_eq!(m.observe(5, t0 + Duration::from_millis(1), w), 0.0);
        let r = m.observe(100, t0 + Duration::from_millis(10), w);
        assert!((r - 10_000.0).abs() < 1.0, "{r}");
        // Half as many starts in the next 10 ms: averaged.
        let r = m.observe(150, t0 + Duration::from_millis(20), w);
        assert!((r - 7_500.0).abs() < 1.0, "{r}");
        // Nothing started for a whole window: no more claiming ahead.
        assert_eq!(m.observe(150, t0 + Duration::from_millis(60), w), 0.0);
    }
}
