//! The maintenance thread: settings ([`MaintenanceConfig`]) and one timer thread that runs each maintenance service on its own
//! interval, each in bounded batches with a short pause between them, so the write lock
//! is never held long and the dispatcher's transactions are never starved.
//!
//! Services (each its own file, each with a `run_once` that returns what it did):
//!
//! * `lease_rescuer`: runs whose lease expired go back to `pending` (attempt counted)
//!   or `failed` when no attempt is left;
//! * `worker_reaper`: instances whose heartbeat went stale are marked offline and
//!   their leases expired at once, for the rescuer to take back.
//!
//! Every service is safe to run from several processes at once: each statement is
//! guarded by the rows' current state, and the write lock serialises them.

pub(crate) mod lease_rescuer;
pub(crate) mod worker_reaper;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, select};

use crate::{
    error::{Error, Result},
    scheduler::Shared,
};

/// Default interval of the lease rescue.
pub const DEFAULT_LEASE_RESCUE_INTERVAL: Duration = Duration::from_secs(5);
/// Default interval of the stale-worker check.
pub const DEFAULT_WORKER_CHECK_INTERVAL: Duration = Duration::from_secs(15);
/// Default heartbeat age after which an instance is presumed dead.
pub const DEFAULT_STALE_WORKER_AFTER: Duration = Duration::from_secs(60);
/// Default rows per maintenance batch (one short transaction each).
pub const DEFAULT_BATCH_SIZE: usize = 1000;
/// Default pause between two batches of one pass.
pub const DEFAULT_BATCH_PAUSE: Duration = Duration::from_millis(10);

/// Settings of the maintenance thread.
///
/// ```
/// use std::time::Duration;
/// use scheduler::MaintenanceConfig;
///
/// let config = MaintenanceConfig::default()
///     .lease_rescue_interval(Duration::from_secs(1))
///     .stale_worker_after(Duration::from_secs(30));
/// # let _ = config;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaintenanceConfig {
    /// Whether this instance runs maintenance at all. Defaults to true.
    pub enabled: bool,
    /// How often expired leases are rescued. Defaults to
    /// [`DEFAULT_LEASE_RESCUE_INTERVAL`] (5 s). An orphaned run is back to `pending`
    /// within lease duration + this interval.
    pub lease_rescue_interval: Duration,
    /// How often stale instances are looked for. Defaults to
    /// [`DEFAULT_WORKER_CHECK_INTERVAL`] (15 s).
    pub worker_check_interval: Duration,
    /// Heartbeat age after which an instance is presumed dead. Defaults to
    /// [`DEFAULT_STALE_WORKER_AFTER`] (60 s); must exceed twice the heartbeat interval.
    pub stale_worker_after: Duration,
    /// Rows per batch. Defaults to [`DEFAULT_BATCH_SIZE`] (1000).
    pub batch_size: usize,
    /// Pause between batches. Defaults to [`DEFAULT_BATCH_PAUSE`] (10 ms).
    pub batch_pause: Duration,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            enabled: true,
            lease_rescue_interval: DEFAULT_LEASE_RESCUE_INTERVAL,
            worker_check_interval: DEFAULT_WORKER_CHECK_INTERVAL,
            stale_worker_after: DEFAULT_STALE_WORKER_AFTER,
            batch_size: DEFAULT_BATCH_SIZE,
            batch_pause: DEFAULT_BATCH_PAUSE,
        }
    }
}

impl MaintenanceConfig {
    /// Turns maintenance on or off for this instance (another process sharing the
    /// database may run it).
    #[must_use]
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Sets [`MaintenanceConfig::lease_rescue_interval`].
    #[must_use]
    pub fn lease_rescue_interval(mut self, d: Duration) -> Self {
        self.lease_rescue_interval = d;
        self
    }

    /// Sets [`MaintenanceConfig::worker_check_interval`].
    #[must_use]
    pub fn worker_check_interval(mut self, d: Duration) -> Self {
        self.worker_check_interval = d;
        self
    }

    /// Sets [`MaintenanceConfig::stale_worker_after`].
    #[must_use]
    pub fn stale_worker_after(mut self, d: Duration) -> Self {
        self.stale_worker_after = d;
        self
    }

    /// Sets [`MaintenanceConfig::batch_size`].
    #[must_use]
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// Sets [`MaintenanceConfig::batch_pause`].
    #[must_use]
    pub fn batch_pause(mut self, d: Duration) -> Self {
        self.batch_pause = d;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        for (name, d) in [
            ("lease_rescue_interval", self.lease_rescue_interval),
            ("worker_check_interval", self.worker_check_interval),
        ] {
            if d < Duration::from_millis(1) {
                return Err(Error::invalid(name, "must be at least 1 ms"));
            }
        }
        if !(1..=1_000_000).contains(&self.batch_size) {
            return Err(Error::invalid("batch_size", "must be 1 to 1000000"));
        }
        Ok(())
    }
}

/// One service's timing inside the maintenance thread.
struct Timer {
    every: Duration,
    next: Instant,
}

impl Timer {
    fn new(every: Duration, now: Instant) -> Self {
        Timer { every, next: now }
    }

    fn due(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        // Late passes do not pile up: the next one is an interval after this one.
        self.next = now + self.every;
        true
    }
}

pub(crate) fn run(shared: &Arc<Shared>, stop: &Receiver<()>) {
    let config = &shared.config.maintenance;
    let now = Instant::now();
    let mut rescue = Timer::new(config.lease_rescue_interval, now);
    let mut reaper = Timer::new(config.worker_check_interval, now);
    loop {
        let now = Instant::now();
        if reaper.due(now) {
            match worker_reaper::run_once(shared) {
                Ok(r) if !r.workers.is_empty() => {
                    log::info!(
                        "marked {} stale instance(s) offline: {:?}",
                        r.workers.len(),
                        r.workers
                    );
                    // Their leases were expired now: rescue them in this pass.
                    rescue.next = now;
                }
                Ok(_) => {}
                Err(e) => log::warn!("stale worker check failed (will retry): {e}"),
            }
        }
        if rescue.due(Instant::now()) {
            match lease_rescuer::run_once(shared, stop) {
                Ok(r) if r.requeued + r.failed > 0 => {
                    log::info!(
                        "rescued {} run(s) from expired leases: {} requeued, {} failed",
                        r.requeued + r.failed,
                        r.requeued,
                        r.failed
                    );
                    shared.nudge();
                }
                Ok(_) => {}
                Err(e) => log::warn!("lease rescue failed (will retry): {e}"),
            }
        }
        let next = rescue.next.min(reaper.next);
        select! {
            recv(stop) -> _ => return,
            default(next.saturating_duration_since(Instant::now())) => {}
        }
    }
}

/// Pauses between two batches of a pass; false when the thread is asked to stop.
pub(crate) fn pause(stop: &Receiver<()>, d: Duration) -> bool {
    select! {
        recv(stop) -> _ => false,
        default(d) => true,
    }
}
