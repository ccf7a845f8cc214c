//! Lifecycle events, delivered to hooks registered on the builder and to bounded
//! channels a host subscribes to. Events of a write (completed, failed, …) are emitted
//! only after the write committed.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;
use time::OffsetDateTime;

use crate::model::{RunId, WorkerId};

/// Something that happened to a run, in this scheduler instance.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A run was enqueued (or, with `created: false`, a unique key matched a run).
    Enqueued {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// False when an unfinished run with the same unique key was returned instead.
        created: bool,
    },
    /// An attempt started on a worker thread.
    Started {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// The attempt number (1 for the first).
        attempt: u32,
    },
    /// The run completed.
    Completed {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// How long the job code ran.
        duration: Duration,
    },
    /// An attempt failed and the run will be retried.
    Retried {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// The attempt that failed.
        attempt: u32,
        /// Why.
        error: String,
        /// When the next attempt is due.
        retry_at: OffsetDateTime,
    },
    /// The run failed for good.
    Failed {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// The last attempt.
        attempt: u32,
        /// Why.
        error: String,
    },
    /// The run was cancelled.
    Cancelled {
        /// The run.
        run: RunId,
        /// Why.
        reason: String,
    },
    /// This instance lost the lease of a run it held (it expired and was taken back):
    /// the job was asked to stop and its result will not be recorded.
    LeaseLost {
        /// The run.
        run: RunId,
        /// The fencing token of the lost lease.
        token: i64,
    },
    /// A run was handed back at shutdown without counting the attempt.
    Released {
        /// The run.
        run: RunId,
    },
    /// A job ran past its timeout and did not stop: its attempt was failed, and the
    /// thread stays busy until the job returns.
    ThreadStuck {
        /// The run whose job holds the thread.
        run: RunId,
        /// Its job type.
        job_type: String,
    },
    /// This instance registered in `workers` and started.
    SchedulerStarted {
        /// Its id.
        worker: WorkerId,
    },
    /// This instance stopped and marked itself offline.
    SchedulerStopped {
        /// Its id.
        worker: WorkerId,
    },
}

/// A hook called with every event, on the scheduler's threads. Keep it quick.
pub trait EventHook: Send + Sync + 'static {
    /// Called once per event.
    fn on_event(&self, event: &Event);
}

impl<F: Fn(&Event) + Send + Sync + 'static> EventHook for F {
    fn on_event(&self, event: &Event) {
        self(event);
    }
}

/// Where events go: hooks, then subscribers (bounded; a full subscriber misses the
/// event and the miss is counted, so a slow reader never slows the scheduler).
pub(crate) struct Events {
    hooks: Vec<Arc<dyn EventHook>>,
    subscribers: Mutex<Vec<Sender<Event>>>,
    dropped: AtomicU64,
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("hooks", &self.hooks.len())
            .field("subscribers", &self.subscribers.lock().len())
            .finish()
    }
}

impl Events {
    pub(crate) fn new(hooks: Vec<Arc<dyn EventHook>>) -> Self {
        Events {
            hooks,
            subscribers: Mutex::new(Vec::new()),
            dropped: AtomicU64::new(0),
        }
    }

    pub(crate) fn subscribe(&self, capacity: usize) -> Receiver<Event> {
        let (tx, rx) = crossbeam_channel::bounded(capacity.max(1));
        self.subscribers.lock().push(tx);
        rx
    }

    pub(crate) fn emit(&self, event: Event) {
        for hook in &self.hooks {
            // A panicking hook must not take the scheduler's thread down with it.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook.on_event(&event)))
                .is_err()
            {
                log::error!("an event hook panicked on {event:?}");
            }
        }
        let mut subs = self.subscribers.lock();
        if subs.is_empty() {
            return;
        }
        subs.retain(|tx| match tx.try_send(event.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn is_observed(&self) -> bool {
        !self.hooks.is_empty() || !self.subscribers.lock().is_empty()
    }
}
