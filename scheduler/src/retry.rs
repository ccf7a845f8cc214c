//! When a failed attempt is tried again: one [`RetryPolicy`], used alike for attempts
//! that failed in their job (an error, a panic, a timeout) and for attempts whose
//! worker died (the lease rescue), so a job that crashes its process backs off like one
//! that returns an error instead of being retried at once in a crash loop.
//!
//! The default, [`ExponentialBackoff`], doubles the run's base backoff per attempt, caps
//! it, and spreads it over its upper half (jitter).
//!
//! ```
//! use std::time::Duration;
//! use runloom::{AttemptErrorKind, ExponentialBackoff, FailedAttempt, RetryPolicy};
//!
//! /// Retries crashes (lost leases) after a minute, everything else by the default.
//! #[derive(Debug)]
//! struct SlowAfterCrash(ExponentialBackoff);
//!
//! impl RetryPolicy for SlowAfterCrash {
//!     fn retry_delay(&self, failed: &FailedAttempt<'_>) -> Duration {
//!         match failed.kind {
//!             AttemptErrorKind::LeaseExpired => Duration::from_secs(60),
//!             _ => self.0.retry_delay(failed),
//!         }
//!     }
//! }
//!
//! let policy = SlowAfterCrash(ExponentialBackoff::default());
//! let crash = FailedAttempt::new("import", 1, Duration::from_secs(1), AttemptErrorKind::LeaseExpired);
//! assert_eq!(policy.retry_delay(&crash), Duration::from_secs(60));
//! ```

use std::{
    collections::hash_map::RandomState,
    fmt,
    hash::{BuildHasher, Hasher},
    time::Duration,
};

use crate::model::AttemptErrorKind;

/// Default longest delay between retries, whatever the backoff computes.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);

/// A failed attempt, as a [`RetryPolicy`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedAttempt<'a> {
    /// The run's job type.
    pub job_type: &'a str,
    /// The number of the attempt that failed (1 for the first).
    pub attempt: u32,
    /// The run's base backoff (its `backoff` option).
    pub backoff: Duration,
    /// How it failed: an error or panic of the job, a timeout, or a lease that expired
    /// because its worker died or stalled.
    pub kind: AttemptErrorKind,
}

impl<'a> FailedAttempt<'a> {
    /// Attempt `attempt` of a run of `job_type` with base backoff `backoff` failed as
    /// `kind`.
    #[must_use]
    pub fn new(job_type: &'a str, attempt: u32, backoff: Duration, kind: AttemptErrorKind) -> Self {
        FailedAttempt {
            job_type,
            attempt,
            backoff,
            kind,
        }
    }
}

/// Decides how long after a failed attempt the next one becomes due. Asked only when
/// the run has attempts left (running out of attempts fails the run whatever the
/// policy says), and never for a job that asked for its own delay
/// ([`crate::JobError::retry_after`]).
///
/// Implementations must be quick and must not block: the dispatcher and the maintenance
/// thread call it inside their write transactions.
pub trait RetryPolicy: Send + Sync + fmt::Debug + 'static {
    /// The delay before the next attempt.
    fn retry_delay(&self, failed: &FailedAttempt<'_>) -> Duration;
}

/// The default policy: `backoff × 2^(attempt-1)`, capped at a maximum, then spread
/// uniformly over its upper half (`[d/2, d]`) so runs that failed together do not all
/// come back at the same instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExponentialBackoff {
    max: Duration,
}

impl ExponentialBackoff {
    /// Exponential backoff capped at `max`.
    #[must_use]
    pub fn new(max: Duration) -> Self {
        ExponentialBackoff { max }
    }

    /// The cap.
    #[must_use]
    pub fn max(&self) -> Duration {
        self.max
    }
}

impl Default for ExponentialBackoff {
    /// Capped at [`DEFAULT_MAX_BACKOFF`] (24 h).
    fn default() -> Self {
        ExponentialBackoff::new(DEFAULT_MAX_BACKOFF)
    }
}

impl RetryPolicy for ExponentialBackoff {
    fn retry_delay(&self, failed: &FailedAttempt<'_>) -> Duration {
        backoff(failed.backoff, failed.attempt, self.max, jitter())
    }
}

/// The delay before the attempt after `attempt` (1 for the first): `base × 2^(attempt-1)`,
/// capped at `max`, then spread uniformly over its upper half (`[d/2, d]`) so runs that
/// failed together do not all come back at the same instant.
fn backoff(base: Duration, attempt: u32, max: Duration, jitter: f64) -> Duration {
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
