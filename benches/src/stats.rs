//! Rates and percentiles.

use std::time::Duration;

/// Items per second for `n` items done in `took`.
#[must_use]
pub fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64().max(f64::MIN_POSITIVE)
}

/// The `p`-th percentile (0–100) of `samples`, nearest rank; zero for no samples.
#[must_use]
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let s: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&s, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&s, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&s, 100.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }

    #[test]
    fn rate_is_items_per_second() {
        assert!((rate(500, Duration::from_millis(250)) - 2000.0).abs() < 1e-9);
    }
}
