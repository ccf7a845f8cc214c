//! What this instance counts (completions, failures, retries, lost leases, panics,
//! timeouts, and a completion rate over the last seconds) and the snapshot
//! [`Scheduler::stats`](crate::Scheduler::stats) returns.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Instant,
};

use parking_lot::Mutex;

use crate::model::{RunStatus, StatusCounts};

/// A monotonic counter.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Completions per second over the last few seconds, in one-second buckets.
#[derive(Debug)]
struct RateMeter {
    start: Instant,
    buckets: Mutex<[(u64, u64); RATE_WINDOW]>,
}

const RATE_WINDOW: usize = 10;

impl RateMeter {
    fn new() -> Self {
        RateMeter {
            start: Instant::now(),
            buckets: Mutex::new([(u64::MAX, 0); RATE_WINDOW]),
        }
    }

    fn record(&self) {
        let second = self.start.elapsed().as_secs();
        let mut b = self.buckets.lock();
        let slot = &mut b[(second % RATE_WINDOW as u64) as usize];
        if slot.0 != second {
            *slot = (second, 0);
        }
        slot.1 += 1;
    }

    /// Average over the last full seconds of the window (the current second is partial).
    fn per_second(&self) -> f64 {
        let now = self.start.elapsed().as_secs();
        let b = self.buckets.lock();
        let seconds = now.min(RATE_WINDOW as u64 - 1);
        if seconds == 0 {
            return 0.0;
        }
        let total: u64 = b
            .iter()
            .filter(|(s, _)| *s != u64::MAX && *s < now && now - *s <= seconds)
            .map(|(_, n)| n)
            .sum();
        #[allow(clippy::cast_precision_loss)]
        let rate = total as f64 / seconds as f64;
        rate
    }
}

/// Counters of this instance.
#[derive(Debug)]
pub(crate) struct Stats {
    pub(crate) completed: Counter,
    pub(crate) failed: Counter,
    pub(crate) retried: Counter,
    pub(crate) snoozed: Counter,
    pub(crate) cancelled: Counter,
    pub(crate) released: Counter,
    pub(crate) lease_lost: Counter,
    pub(crate) panics: Counter,
    pub(crate) timeouts: Counter,
    rate: RateMeter,
}

impl Stats {
    pub(crate) fn new() -> Self {
        Stats {
            completed: Counter::default(),
            failed: Counter::default(),
            retried: Counter::default(),
            snoozed: Counter::default(),
            cancelled: Counter::default(),
            released: Counter::default(),
            lease_lost: Counter::default(),
            panics: Counter::default(),
            timeouts: Counter::default(),
            rate: RateMeter::new(),
        }
    }

    /// Runs this instance completed per second, over the last seconds.
    pub(crate) fn per_second(&self) -> f64 {
        self.rate.per_second()
    }

    pub(crate) fn record(&self, status: RunStatus) {
        match status {
            RunStatus::Completed => {
                self.completed.inc();
                self.rate.record();
            }
            RunStatus::Failed => self.failed.inc(),
            RunStatus::Cancelled => self.cancelled.inc(),
            RunStatus::Pending => self.retried.inc(),
            RunStatus::Blocked | RunStatus::Running => {}
        }
    }
}

/// A snapshot of the scheduler's figures.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SchedulerStats {
    /// Runs in each status, in the whole database (every process).
    pub counts: StatusCounts,
    /// Runs this instance holds now (running or queued locally).
    pub in_flight: usize,
    /// Runs this instance completed per second, averaged over the last seconds.
    pub completed_per_second: f64,
    /// Outcomes this instance recorded since it started.
    pub completed: u64,
    /// Runs this instance failed for good.
    pub failed: u64,
    /// Attempts this instance failed and scheduled for retry.
    pub retried: u64,
    /// Attempts that snoozed here ([`crate::JobError::snooze`]).
    pub snoozed: u64,
    /// Runs this instance cancelled.
    pub cancelled: u64,
    /// Leases this instance lost.
    pub lease_lost: u64,
    /// Jobs that panicked here.
    pub panics: u64,
    /// Attempts that ran past their timeout here.
    pub timeouts: u64,
    /// Events a full subscriber channel missed.
    pub events_dropped: u64,
}
