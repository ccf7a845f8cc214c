//! Where the scheduler reads the time: the only place the wall clock is consulted.
//!
//! Two clocks, for two kinds of question:
//!
//! * **When** something is due (a delayed run, a retry, a cron occurrence, a retention
//!   limit) is a question about the calendar, answered by a [`Clock`]: every such
//!   statement binds `:now` from it, never from SQLite's own clock, so a test can move a
//!   [`ManualClock`] across a backoff or a cron occurrence without sleeping.
//! * **Whether a worker is still alive** (its lease expired, its heartbeat went stale)
//!   is a question about elapsed time, answered by the host's monotonic clock
//!   ([`HostInstant`]), which every process on the machine reads alike and which no
//!   wall-clock step, NTP correction or [`ManualClock`] move can shift. A live run is
//!   therefore never taken because the wall clock jumped, whatever the size of the jump.
//!
//! Waiting itself (poll intervals, job timeouts) uses the process's monotonic time.

use std::{
    fmt,
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

use time::OffsetDateTime;

/// A source of the current time (UTC).
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's wall clock. The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned read of the wall clock
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A wall clock that only moves when told to, for tests: cross a retry backoff, a delay
/// or a cron occurrence without sleeping. Shared by reference (`Arc`) between the test
/// and the scheduler. It does not move leases: those are judged on the host's monotonic
/// clock ([`HostInstant`]), which no wall-clock move affects (that is the point), so a
/// test of lease expiry uses short real leases.
///
/// ```
/// use std::time::Duration;
/// use runloom::{Clock, ManualClock};
/// use time::macros::datetime;
///
/// let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now(), datetime!(2026-01-01 00:01:30 UTC));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    ms: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `start` (truncated to the millisecond, the resolution the
    /// database stores).
    #[must_use]
    pub fn new(start: OffsetDateTime) -> Self {
        ManualClock {
            ms: AtomicI64::new(to_ms(start)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ms| {
                Some(ms.saturating_add(by))
            })
            .ok();
    }

    /// Moves the clock backward (a wall clock that jumps back).
    pub fn rewind(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ms| {
                Some(ms.saturating_sub(by))
            })
            .ok();
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        self.ms.store(to_ms(at), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        // Stored values always come from `to_ms` of a valid time and moves saturate
        // inside i64 milliseconds, far inside OffsetDateTime's range only for sane
        // inputs; clamp instead of panicking on absurd ones.
        at_ms(self.ms.load(Ordering::SeqCst)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// Milliseconds since the Unix epoch, the resolution of every stored time (and of
/// [`ManualClock`]), clamped to `i64`.
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// The inverse of [`to_ms`]; fails for values outside the calendar `time` supports.
pub(crate) fn at_ms(ms: i64) -> Result<OffsetDateTime, time::error::ComponentRange> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
}

/// A reading of the host's monotonic clock, in milliseconds: the clock by which leases
/// and heartbeats are judged.
///
/// On Linux and the BSDs this is `CLOCK_MONOTONIC`: it counts from boot, is the same for
/// every process on the machine, never steps (NTP only slews its rate), and stands still
/// while the machine is suspended, when no holder could renew anyway. A holder records
/// its lease's expiry on it; an observer in another process compares that with its own
/// reading, so one reading decides and neither side's wall clock matters.
///
/// Readings from another boot of the machine mean nothing here; every worker therefore
/// records the boot it runs in (its *clock domain*, see [`clock_domain`]), and leases of
/// a worker from another domain are judged by their wall-clock expiry instead.
///
/// ```
/// use std::time::Duration;
/// use runloom::clock::HostInstant;
///
/// let now = HostInstant::now();
/// let later = now.after(Duration::from_secs(30));
/// assert_eq!(later.millis() - now.millis(), 30_000);
/// assert!(HostInstant::now() >= now);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostInstant(i64);

impl HostInstant {
    /// The host's monotonic clock now.
    #[must_use]
    pub fn now() -> Self {
        HostInstant(host_monotonic_ms())
    }

    /// The reading `d` after this one (saturating).
    #[must_use]
    pub fn after(self, d: Duration) -> Self {
        let d = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        HostInstant(self.0.saturating_add(d))
    }

    /// Milliseconds since the clock's origin (boot, on Linux), as stored.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// A reading as stored in the database.
    #[must_use]
    pub const fn from_millis(ms: i64) -> Self {
        HostInstant(ms)
    }
}

#[cfg(unix)]
// `tv_nsec` is an i64 with rustix's raw Linux backend and a C long elsewhere.
#[allow(clippy::useless_conversion)]
fn host_monotonic_ms() -> i64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec
        .saturating_mul(1000)
        .saturating_add(i64::from(t.tv_nsec) / 1_000_000)
}

#[cfg(not(unix))]
fn host_monotonic_ms() -> i64 {
    // No clock shared by every process is read here: readings are this process's own,
    // from its start, and `clock_domain` names no domain, so other processes judge this
    // worker's leases by their wall-clock expiry.
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(std::time::Instant::now);
    i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// The boot this process runs in, as the kernel names it
/// (`/proc/sys/kernel/random/boot_id` on Linux): two processes whose domains are equal
/// read the same [`HostInstant`] clock. `None` where the platform offers no such name;
/// workers without a domain are judged by wall-clock expiry, as are workers of another
/// domain (another boot, or another machine on a shared file system, which SQLite does
/// not support anyway).
#[must_use]
pub fn clock_domain() -> Option<&'static str> {
    static DOMAIN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    DOMAIN
        .get_or_init(|| {
            if cfg!(unix) {
                std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                    .ok()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .map(|s| format!("boot:{s}"))
            } else {
                None
            }
        })
        .as_deref()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
        let a = c.now();
        assert_eq!(c.now(), a);
        c.advance(Duration::from_millis(1500));
        assert_eq!(c.now(), datetime!(2026-01-01 00:00:01.5 UTC));
        c.rewind(Duration::from_secs(2));
        assert_eq!(c.now(), datetime!(2025-12-31 23:59:59.5 UTC));
    }
}
