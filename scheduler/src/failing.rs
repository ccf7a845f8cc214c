//! Work that keeps failing (a full disk, a lock another process holds, an I/O error):
//! how long to wait before the next try, and what to log.
//!
//! Every retry loop of the runtime goes through a [`Failing`]: tries back off
//! exponentially up to a bound, and the log gets one line when the work starts failing
//! (or fails differently), and one when it recovers, with the count and duration of
//! the failures in between, never a line per try. A dispatcher that retried a full disk
//! thousands of times a second, logging each, used to take a core and fill the log.

use std::time::{Duration, Instant};

use crate::error::Error;

/// The first pause after a failure.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
/// The longest pause between two tries.
pub(crate) const MAX_PAUSE: Duration = Duration::from_secs(1);
/// A failure of the same kind within this long after a recovery continues the streak
/// it recovered from, quietly and with its backoff: work that flaps (a full disk that
/// a log truncation frees for a moment, each time) logs once, not three lines a flap,
/// and never falls back to retrying at full speed.
pub(crate) const FLAP_WINDOW: Duration = Duration::from_secs(10);

/// The state of one kind of work: working, or failing since when, how, how often.
#[derive(Debug)]
pub(crate) struct Failing {
    what: String,
    failing: Option<Streak>,
    /// The last streak that recovered, and when: a failure like it soon after resumes it.
    recovered: Option<(Streak, Instant)>,
}

#[derive(Debug)]
struct Streak {
    class: String,
    since: Instant,
    tries: u32,
    /// Resumed after a brief recovery (see [`FLAP_WINDOW`]), not logged yet: when.
    quiet_since: Option<Instant>,
    /// Brief recoveries so far.
    flaps: u32,
}

impl Failing {
    /// `what` names the work in the log ("writing outcomes", "heartbeat").
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Failing {
            what: what.into(),
            failing: None,
            recovered: None,
        }
    }

    /// Consecutive failed tries (of the streak, across brief recoveries).
    pub(crate) fn tries(&self) -> u32 {
        self.failing.as_ref().map_or(0, |s| s.tries)
    }

    /// A try failed with `e`: logged if the work was working, or failed differently
    /// before. Returns how long to wait before the next try.
    pub(crate) fn failed(&mut self, e: &Error, detail: &str) -> Duration {
        let class = class(e);
        if self.failing.is_none() {
            // The same failure again soon after it recovered: the same streak, flapping.
            if let Some((mut streak, at)) = self.recovered.take() {
                if streak.class == class && at.elapsed() < FLAP_WINDOW {
                    streak.flaps = streak.flaps.saturating_add(1);
                    streak.quiet_since.get_or_insert_with(Instant::now);
                    self.failing = Some(streak);
                }
            }
        }
        match &mut self.failing {
            Some(streak) if streak.class == class => {
                streak.tries = streak.tries.saturating_add(1);
                // Flapping long enough to be failing for good again: say so once.
                if streak
                    .quiet_since
                    .is_some_and(|q| q.elapsed() >= FLAP_WINDOW)
                {
                    streak.quiet_since = None;
                    log::log!(
                        level_of(e),
                        "{} keeps failing ({detail}) after {} brief recover{}; retrying \
                         with backoff: {}",
                        self.what,
                        streak.flaps,
                        if streak.flaps == 1 { "y" } else { "ies" },
                        e.report()
                    );
                }
            }
            _ => {
                log::log!(
                    level_of(e),
                    "{} failed ({detail}); retrying with backoff, logged again when it \
                     recovers or fails otherwise: {}",
                    self.what,
                    e.report()
                );
                self.failing = Some(Streak {
                    class,
                    since: Instant::now(),
                    tries: 1,
                    quiet_since: None,
                    flaps: 0,
                });
            }
        }
        self.pause()
    }

    /// A try succeeded: logs the recovery if the work was failing (once: the brief
    /// recoveries of a flapping streak are logged at debug level).
    pub(crate) fn succeeded(&mut self) {
        if let Some(streak) = self.failing.take() {
            let level = if streak.flaps > 0 {
                log::Level::Debug
            } else {
                log::Level::Info
            };
            log::log!(
                level,
                "{} works again after {} failed tr{} over {:.1?}",
                self.what,
                streak.tries,
                if streak.tries == 1 { "y" } else { "ies" },
                streak.since.elapsed()
            );
            self.recovered = Some((streak, Instant::now()));
        }
    }

    /// The pause before the next try: 5 ms doubling per consecutive failure, at most
    /// [`MAX_PAUSE`]. Zero while working.
    pub(crate) fn pause(&self) -> Duration {
        match self.tries() {
            0 => Duration::ZERO,
            n => FIRST_PAUSE
                .saturating_mul(1u32 << (n - 1).min(16))
                .min(MAX_PAUSE),
        }
    }
}

/// A busy database is a warning (another process is in the way); the rest errors.
fn level_of(e: &Error) -> log::Level {
    if e.is_busy() {
        log::Level::Warn
    } else {
        log::Level::Error
    }
}

/// What makes two failures "the same" for the log: the kind of database error, not its
/// text (which names rows and times).
fn class(e: &Error) -> String {
    match e {
        Error::Database(e) => format!("{:?}", e.kind()),
        other => format!("{:?}", std::mem::discriminant(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Error {
        Error::Database(crate::error::DatabaseError::new(
            crate::error::DatabaseErrorKind::DiskFull,
            std::io::Error::other("database or disk is full"),
        ))
    }

    #[test]
    fn pauses_grow_to_a_bound_and_reset_on_success() {
        let mut f = Failing::new("test");
        assert_eq!(f.pause(), Duration::ZERO);
        assert_eq!(f.failed(&full(), "x"), Duration::from_millis(5));
        assert_eq!(f.failed(&full(), "x"), Duration::from_millis(10));
        for _ in 0..40 {
            f.failed(&full(), "x");
        }
        assert_eq!(f.pause(), MAX_PAUSE);
        assert_eq!(f.tries(), 42);
        f.succeeded();
        assert_eq!(f.tries(), 0);
        assert_eq!(f.pause(), Duration::ZERO);
    }

    #[test]
    fn a_failure_soon_after_a_recovery_continues_its_streak_and_its_backoff() {
        let mut f = Failing::new("test");
        f.failed(&full(), "x");
        f.failed(&full(), "x");
        f.succeeded();
        assert_eq!(f.pause(), Duration::ZERO, "working: no pause");
        // The disk fills again at once: the third try of the streak, not a first one.
        assert_eq!(f.failed(&full(), "x"), Duration::from_millis(20));
        assert_eq!(f.tries(), 3);
        // Another kind of failure after a recovery is a streak of its own.
        f.succeeded();
        let busy = Error::Database(crate::error::DatabaseError::new(
            crate::error::DatabaseErrorKind::Busy,
            std::io::Error::other("database is locked"),
        ));
        assert_eq!(f.failed(&busy, "x"), Duration::from_millis(5));
    }

    #[test]
    fn another_kind_of_failure_starts_a_new_streak() {
        let mut f = Failing::new("test");
        f.failed(&full(), "x");
        f.failed(&full(), "x");
        let busy = Error::Database(crate::error::DatabaseError::new(
            crate::error::DatabaseErrorKind::Busy,
            std::io::Error::other("database is locked"),
        ));
        f.failed(&busy, "x");
        assert_eq!(f.tries(), 1);
    }
}
