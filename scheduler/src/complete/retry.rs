//! Exponential backoff with jitter.

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    time::Duration,
};

/// The delay before the attempt after `attempt` (1 for the first): `base × 2^(attempt-1)`,
/// capped at `max`, then spread uniformly over its upper half (`[d/2, d]`) so runs that
/// failed together do not all come back at the same instant.
pub(crate) fn backoff(base: Duration, attempt: u32, max: Duration, jitter: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(63);
    let factor = 1u64.checked_shl(exp).unwrap_or(u64::MAX);
    let full = u32::try_from(factor)
        .ok()
        .and_then(|f| base.checked_mul(f))
        .unwrap_or(max)
        .min(max);
    let jitter = jitter.clamp(0.0, 1.0);
    full.mul_f64(0.5 + 0.5 * jitter)
}

/// A uniform number in `[0, 1)` from the standard library's randomly seeded hasher:
/// jitter needs spread, not cryptographic quality.
pub(crate) fn jitter() -> f64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x9E37_79B9_7F4A_7C15);
    // The top 53 bits make an f64 in [0, 1).
    #[allow(clippy::cast_precision_loss)]
    let v = (h.finish() >> 11) as f64;
    v / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn doubles_per_attempt_within_its_upper_half() {
        let max = Duration::from_secs(3600);
        assert_eq!(backoff(S, 1, max, 1.0), S);
        assert_eq!(backoff(S, 1, max, 0.0), S / 2);
        assert_eq!(backoff(S, 4, max, 1.0), 8 * S);
        assert_eq!(backoff(S, 4, max, 0.0), 4 * S);
        for _ in 0..100 {
            let d = backoff(S, 3, max, jitter());
            assert!(d >= 2 * S && d <= 4 * S, "{d:?}");
        }
    }

    #[test]
    fn is_capped_and_never_overflows() {
        let max = Duration::from_secs(60);
        assert_eq!(backoff(S, 30, max, 1.0), max);
        assert_eq!(backoff(Duration::MAX, 1000, max, 1.0), max);
        assert_eq!(backoff(S, u32::MAX, max, 0.0), max / 2);
    }

    #[test]
    fn jitter_spreads() {
        let samples: Vec<f64> = (0..200).map(|_| jitter()).collect();
        assert!(samples.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(samples.iter().any(|v| *v < 0.3) && samples.iter().any(|v| *v > 0.7));
    }
}
