//! Asking a running job to stop: the reason, and the flag one attempt's job and the
//! scheduler's threads share (the first reason wins; a sleeping job wakes).

use std::{
    fmt,
    sync::atomic::{AtomicBool, Ordering},
    time::Instant,
};

use parking_lot::{Condvar, Mutex};

/// Why a running job is asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelReason {
    /// Someone cancelled the run (from any process sharing the database).
    Requested,
    /// The attempt ran past its timeout and was failed as a timeout; whatever the job
    /// returns now is discarded.
    Timeout,
    /// The scheduler lost the run's lease (it expired and was taken back); whatever the
    /// job returns now is discarded, because another worker may run the job.
    LeaseLost,
    /// The scheduler is shutting down and its grace period ran out; the run was handed
    /// back and will run again.
    Shutdown,
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelReason::Requested => "cancellation requested",
            CancelReason::Timeout => "attempt timed out",
            CancelReason::LeaseLost => "lease lost",
            CancelReason::Shutdown => "scheduler shutting down",
        })
    }
}

/// The cancellation flag of one attempt, shared by the job and the scheduler's threads.
#[derive(Debug, Default)]
pub(crate) struct CancelFlag {
    set: AtomicBool,
    reason: Mutex<Option<CancelReason>>,
    changed: Condvar,
}

impl CancelFlag {
    /// Raises the flag; the first reason wins.
    pub(crate) fn cancel(&self, reason: CancelReason) {
        let mut r = self.reason.lock();
        if r.is_none() {
            *r = Some(reason);
            self.set.store(true, Ordering::Release);
            self.changed.notify_all();
        }
    }

    pub(crate) fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    pub(crate) fn reason(&self) -> Option<CancelReason> {
        if self.is_set() {
            *self.reason.lock()
        } else {
            None
        }
    }

    /// Waits until `until` or until the flag is raised; returns the reason if raised.
    pub(crate) fn wait_until(&self, until: Instant) -> Option<CancelReason> {
        let mut r = self.reason.lock();
        while r.is_none() {
            if self.changed.wait_until(&mut r, until).timed_out() {
                break;
            }
        }
        *r
    }
}
