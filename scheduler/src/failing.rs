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

/// The state of one kind of work: working, or failing since when, how, how often.
#[derive(Debug)]
pub(crate) struct Failing {
    what: String,
    failing: Option<Streak>,
}

#[derive(Debug)]
struct Streak {
    class: String,
    since: Instant,
    tries: u32,
}

impl Failing {
    /// `what` names the work in the log ("writing outcomes", "heartbeat").
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Failing {
            what: what.into(),
            failing: None,
        }
    }

    /// Consecutive failed tries.
    pub(crate) fn tries(&self) -> u32 {
        self.failing.as_ref().map_or(0, |s| s.tries)
    }

    /// A try failed with `e`: logged if the work was working, or failed differently
    /// before. Returns how long to wait before the next try.
    pub(crate) fn failed(&mut self, e: &Error, detail: &str) -> Duration {
        let class = class(e);
        match &mut self.failing {
            Some(streak) if streak.class == class => streak.tries = streak.tries.saturating_add(1),
            _ => {
                let level = if e.is_busy() {
                    log::Level::Warn
                } else {
                    log::Level::Error
                };
                log::log!(
                    level,
                    "{} failed ({detail}); retrying with backoff, logged again when it \
                     recovers or fails otherwise: {}",
                    self.what,
                    e.report()
                );
                self.failing = Some(Streak {
                    class,
                    since: Instant::now(),
                    tries: 1,
                });
            }
        }
        self.pause()
    }

    /// A try succeeded: logs the recovery if the work was failing.
    pub(crate) fn succeeded(&mut self) {
        if let Some(streak) = self.failing.take() {
            log::info!(
                "{} works again after {} failed tr{} over {:.1?}",
                self.what,
                streak.tries,
                if streak.tries == 1 { "y" } else { "ies" },
                streak.since.elapsed()
            );
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
