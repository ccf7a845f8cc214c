//! Lifecycle events, delivered to hooks registered on the builder and to bounded
//! channels a host subscribes to. Events of a write (completed, failed, …) are emitted
//! only after the write committed.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;

pub use crate::model::Event;

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
    changes: Arc<Changes>,
}

/// Wakes threads waiting for runs to change ([`crate::Admin::wait`]): every event this
/// process emits moves a generation counter, so a waiter blocks until the counter
/// passes what it saw (or its own deadline) instead of polling. Changes made by other
/// processes emit nothing here; waiters re-read on a backoff for those.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    generation: Mutex<u64>,
    moved: parking_lot::Condvar,
    /// Waits under way: with none, an event costs one atomic load.
    waiting: std::sync::atomic::AtomicUsize,
}

/// One wait under way; while it lives every event moves the generation.
pub(crate) struct Watching<'a>(&'a Changes);

impl Drop for Watching<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Changes {
    /// Starts a wait: take this before reading what is waited for, so that no event
    /// between the read and the sleep is missed.
    pub(crate) fn watch(&self) -> Watching<'_> {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        Watching(self)
    }

    /// The generation now.
    pub(crate) fn generation(&self) -> u64 {
        *self.generation.lock()
    }

    /// Sleeps until the generation differs from `seen` or `until` passes.
    pub(crate) fn wait_past(&self, _watching: &Watching<'_>, seen: u64, until: std::time::Instant) {
        let mut generation = self.generation.lock();
        while *generation == seen {
            if self.moved.wait_until(&mut generation, until).timed_out() {
                return;
            }
        }
    }

    fn moved(&self) {
        if self.waiting.load(Ordering::Acquire) == 0 {
            return;
        }
        *self.generation.lock() += 1;
        self.moved.notify_all();
    }
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
            changes: Arc::default(),
        }
    }

    /// What waiters for run changes block on.
    pub(crate) fn changes(&self) -> Arc<Changes> {
        self.changes.clone()
    }

    pub(crate) fn subscribe(&self, capacity: usize) -> Receiver<Event> {
        let (tx, rx) = crossbeam_channel::bounded(capacity.max(1));
        self.subscribers.lock().push(tx);
        rx
    }

    pub(crate) fn emit(&self, event: Event) {
        self.changes.moved();
        crate::observe::event(&event);
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
        crate::observe::wants_events()
            || !self.hooks.is_empty()
            || !self.subscribers.lock().is_empty()
    }
}
