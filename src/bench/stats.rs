//! Percentiles and resident memory.

use std::time::Duration;

use serde_json::{Value, json};

/// p50/p95/p99/max of a sample, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub n: usize,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (empty: all zero).
    ///
    /// ```ignore
    /// let p = Percentiles::of_ms(&[1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!((p.p50, p.max), (2.0, 4.0));
    /// ```
    pub fn of_ms(samples: &[f64]) -> Self {
        if samples.is_empty() {
            return Percentiles::default();
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Percentiles {
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
            max: v[v.len() - 1],
            n: v.len(),
        }
    }

    pub fn of(samples: &[Duration]) -> Self {
        let ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        Self::of_ms(&ms)
    }

    /// `p50 / p95 / p99 / max ms`.
    pub fn display(&self) -> String {
        format!(
            "{:.2} / {:.2} / {:.2} / {:.2} ms",
            self.p50, self.p95, self.p99, self.max
        )
    }

    /// Inserts `<prefix>_p50_ms` ... `<prefix>_max_ms` into `obj`.
    pub fn insert_into(&self, obj: &mut serde_json::Map<String, Value>, prefix: &str) {
        for (name, v) in [
            ("p50", self.p50),
            ("p95", self.p95),
            ("p99", self.p99),
            ("max", self.max),
        ] {
            obj.insert(format!("{prefix}_{name}_ms"), json!(super::round(v, 3)));
        }
    }
}

/// A field of `/proc/self/status` in kB (`VmRSS`, `VmHWM`), if readable.
pub fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of_ms(&v);
        assert_eq!(
            (p.p50, p.p95, p.p99, p.max, p.n),
            (50.0, 95.0, 99.0, 100.0, 100)
        );
        let one = Percentiles::of_ms(&[3.0]);
        assert_eq!((one.p50, one.p99), (3.0, 3.0));
        assert_eq!(Percentiles::of_ms(&[]).n, 0);
    }

    #[test]
    fn reads_own_rss() {
        assert!(proc_status_kb("VmRSS").is_some_and(|kb| kb > 0));
    }
}
