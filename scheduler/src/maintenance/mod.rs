//! Maintenance: its settings ([`MaintenanceConfig`]), what a pass did
//! ([`PassReport`]), and one timer thread that runs each service on its own interval,
//! in bounded batches with a short pause between them, so the write lock is never held
//! long and the dispatcher's transactions are never starved.
//!
//! Services (each its own file, a `MaintenanceService`: which it is, its interval, and
//! `run_once`, which drains its work in batches through `pass.rs` and returns typed
//! [`Counts`]; leadership is in `leader.rs`):
//!
//! * [`Service::LeaseRescue`]: runs whose lease expired go back to `pending` (attempt
//!   counted) or `failed` when no attempt is left;
//! * [`Service::StaleWorkers`]: instances silent for longer than the limit they recorded
//!   themselves are marked offline and their leases expired at once, for the rescue to
//!   take back;
//! * [`Service::TokenPurge`]: revoked tokens past their expiry plus the leeway are
//!   purged;
//! * [`Service::RunRetention`]: finished runs past their status's retention are
//!   archived to `task_runs_archive` or deleted.
//!
//! Liveness is judged by what each worker promised (its own heartbeat interval, lease
//! and stale limit, recorded in its `workers` row) on the host's monotonic clock
//! ([`crate::clock::HostInstant`]), with one reading of that clock per decision: neither
//! the leader's own settings nor a wall clock that jumps, by any amount, can make a live
//! worker look dead.
//!
//! When several processes share the file, one of them leads maintenance at a time
//! (a lease in `system_state`, renewed at every tick; another takes over once it
//! expires). Losing the lead is safe: every statement is guarded by the rows' current
//! state, so a pass that overlaps another changes nothing twice. Each pass records what
//! it did in `system_state` (`maintenance.<service>`), and
//! [`crate::Scheduler::run_maintenance`] runs one on demand.

mod counts;
mod leader;
mod lease_rescuer;
mod pass;
mod run_cleaner;
mod token_purger;
mod worker_reaper;

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, select};
use time::OffsetDateTime;

pub use self::pass::{BATCH_TIME_GOAL, MIN_BATCH};
pub use self::{
    counts::{Counts, RescueCounts, RetentionCounts, StaleWorkerCounts, TokenCounts},
    lease_rescuer::LeaseRescueConfig,
    run_cleaner::RetentionConfig,
    token_purger::TokenPurgeConfig,
    worker_reaper::StaleWorkersConfig,
};
pub(crate) use self::{leader::Leader, pass::Pass};
use crate::{
    backend::Backend,
    clock::Clock,
    dispatch::wake::{Wake, Waker},
    error::{Error, Result},
    failing::Failing,
    retry::RetryPolicy,
};

/// Default interval of the lease rescue.
pub const DEFAULT_LEASE_RESCUE_INTERVAL: Duration = Duration::from_secs(5);
/// Default interval of the stale-worker check.
pub const DEFAULT_WORKER_CHECK_INTERVAL: Duration = Duration::from_secs(15);
pub use crate::model::{ArchiveMode, DEFAULT_STALE_WORKER_AFTER};
/// Default interval of the token purge.
pub const DEFAULT_TOKEN_PURGE_INTERVAL: Duration = Duration::from_secs(60);
/// Default validation leeway: a revoked token is kept this long past its expiry.
pub const DEFAULT_TOKEN_LEEWAY: Duration = Duration::from_secs(60);
/// Default interval of the retention pass.
pub const DEFAULT_RETENTION_INTERVAL: Duration = Duration::from_secs(60);
/// Default retention of completed runs.
pub const DEFAULT_KEEP_COMPLETED: Duration = Duration::from_secs(24 * 3600);
/// Default retention of failed runs.
pub const DEFAULT_KEEP_FAILED: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default retention of cancelled runs.
pub const DEFAULT_KEEP_CANCELLED: Duration = Duration::from_secs(7 * 24 * 3600);
/// Default rows per maintenance batch (one short transaction each).
pub const DEFAULT_BATCH_SIZE: usize = 1000;
/// Default pause between two batches of one pass.
pub const DEFAULT_BATCH_PAUSE: Duration = Duration::from_millis(10);

/// Settings of the maintenance thread: this instance's own promise and leadership,
/// the batching every pass shares, and each service's own settings. The setters reach
/// into the service's part.
///
/// ```
/// use std::time::Duration;
/// use runloom::{MaintenanceConfig, maintenance::ArchiveMode};
///
/// let config = MaintenanceConfig::default()
///     .lease_rescue_interval(Duration::from_secs(1))
///     .keep_completed(Duration::from_secs(3600))
///     .archive_mode(ArchiveMode::Archive);
/// assert_eq!(config.lease_rescue.interval, Duration::from_secs(1));
/// assert_eq!(config.retention.keep_completed, Duration::from_secs(3600));
/// assert_eq!(config.batches.size, 1000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaintenanceConfig {
    /// Whether this instance takes part in maintenance. Defaults to true.
    pub enabled: bool,
    /// How long this instance may go without a heartbeat before others presume it dead
    /// (and take its runs). This is the instance's own promise, recorded in its
    /// `workers` row: every process judges each instance by the limit that instance
    /// recorded, never by its own. Defaults to [`DEFAULT_STALE_WORKER_AFTER`] (60 s);
    /// must exceed twice the heartbeat interval.
    pub stale_worker_after: Duration,
    /// How long a process leads maintenance without renewing. Defaults to the
    /// scheduler's lease duration, so a dead process's runs and its maintenance duty are
    /// taken over on the same clock.
    pub leader_lease: Option<Duration>,
    /// How every pass cuts its work into short transactions.
    pub batches: BatchConfig,
    /// The lease rescue service's settings.
    pub lease_rescue: LeaseRescueConfig,
    /// The stale worker service's settings.
    pub stale_workers: StaleWorkersConfig,
    /// The token purge service's settings.
    pub token_purge: TokenPurgeConfig,
    /// The run retention service's settings.
    pub retention: RetentionConfig,
}

/// How every maintenance pass cuts its work into short transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchConfig {
    /// Most rows per batch. Defaults to [`DEFAULT_BATCH_SIZE`] (1000). A pass starts
    /// at a quarter of it (at least [`MIN_BATCH`]), halves the next batch for as long
    /// as batches take more than [`BATCH_TIME_GOAL`], and doubles it, up to this, while
    /// they take less than a quarter of the goal.
    pub size: usize,
    /// Pause between batches, jittered to between half and one and a half times it.
    /// Defaults to [`DEFAULT_BATCH_PAUSE`] (10 ms).
    pub pause: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            size: DEFAULT_BATCH_SIZE,
            pause: DEFAULT_BATCH_PAUSE,
        }
    }
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        MaintenanceConfig {
            enabled: true,
            stale_worker_after: DEFAULT_STALE_WORKER_AFTER,
            leader_lease: None,
            batches: BatchConfig::default(),
            lease_rescue: LeaseRescueConfig::default(),
            stale_workers: StaleWorkersConfig::default(),
            token_purge: TokenPurgeConfig::default(),
            retention: RetentionConfig::default(),
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $($field:ident).+ : $ty:ty,)*) => {
        impl MaintenanceConfig {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, value: $ty) -> Self {
                    self.$($field).+ = value;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Sets [`MaintenanceConfig::enabled`].
    enabled: enabled: bool,
    /// Sets [`MaintenanceConfig::stale_worker_after`].
    stale_worker_after: stale_worker_after: Duration,
    /// Sets [`MaintenanceConfig::leader_lease`] (`None`: the lease duration).
    leader_lease: leader_lease: Option<Duration>,
    /// Sets [`BatchConfig::size`].
    batch_size: batches.size: usize,
    /// Sets [`BatchConfig::pause`].
    batch_pause: batches.pause: Duration,
    /// Sets [`LeaseRescueConfig::interval`].
    lease_rescue_interval: lease_rescue.interval: Duration,
    /// Sets [`StaleWorkersConfig::interval`].
    worker_check_interval: stale_workers.interval: Duration,
    /// Sets [`TokenPurgeConfig::interval`].
    token_purge_interval: token_purge.interval: Duration,
    /// Sets [`TokenPurgeConfig::leeway`].
    token_leeway: token_purge.leeway: Duration,
    /// Sets [`RetentionConfig::interval`].
    retention_interval: retention.interval: Duration,
    /// Sets [`RetentionConfig::keep_completed`].
    keep_completed: retention.keep_completed: Duration,
    /// Sets [`RetentionConfig::keep_failed`].
    keep_failed: retention.keep_failed: Duration,
    /// Sets [`RetentionConfig::keep_cancelled`].
    keep_cancelled: retention.keep_cancelled: Duration,
    /// Sets [`RetentionConfig::archive_mode`].
    archive_mode: retention.archive_mode: ArchiveMode,
}

impl MaintenanceConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        for (name, d) in [
            ("lease_rescue_interval", self.lease_rescue.interval),
            ("worker_check_interval", self.stale_workers.interval),
            ("token_purge_interval", self.token_purge.interval),
            ("retention_interval", self.retention.interval),
            (
                "leader_lease",
                self.leader_lease.unwrap_or(Duration::from_millis(1)),
            ),
        ] {
            if d < Duration::from_millis(1) {
                return Err(Error::invalid(name, "must be at least 1 ms"));
            }
        }
        if !(1..=1_000_000).contains(&self.batches.size) {
            return Err(Error::invalid("batch_size", "must be 1 to 1000000"));
        }
        Ok(())
    }
}

/// One maintenance service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Service {
    /// Runs of expired leases back to `pending`, or `failed`.
    LeaseRescue,
    /// Instances with a stale heartbeat marked offline, their leases expired.
    StaleWorkers,
    /// Expired revoked tokens purged.
    TokenPurge,
    /// Finished runs past their retention archived or deleted.
    RunRetention,
}

impl Service {
    /// Every service, in the order a full pass runs them.
    pub const ALL: [Service; 4] = [
        Service::StaleWorkers,
        Service::LeaseRescue,
        Service::TokenPurge,
        Service::RunRetention,
    ];

    /// Its name: `leases`, `workers`, `tokens` or `runs`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Service::LeaseRescue => "leases",
            Service::StaleWorkers => "workers",
            Service::TokenPurge => "tokens",
            Service::RunRetention => "runs",
        }
    }

    /// The service with this name.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an unknown name.
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                Error::invalid(
                    "service",
                    format!("{name:?} is not one of leases, workers, tokens, runs"),
                )
            })
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one pass of one service did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PassReport {
    /// The service.
    #[serde(serialize_with = "service_name")]
    pub service: Service,
    /// When the pass started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Transactions it committed.
    pub batches: usize,
    /// The longest of them, in milliseconds: how long it held the write lock at most.
    pub longest_batch_ms: u64,
    /// What it counted.
    pub counts: Counts,
}

fn service_name<S: serde::Serializer>(s: &Service, ser: S) -> std::result::Result<S::Ok, S::Error> {
    ser.serialize_str(s.name())
}

/// What running services on demand did, one report per service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaintenanceReport {
    /// One report per service that ran.
    pub passes: Vec<PassReport>,
}

impl MaintenanceReport {
    /// The report of one service, if it ran.
    #[must_use]
    pub fn pass(&self, service: Service) -> Option<&PassReport> {
        self.passes.iter().find(|p| p.service == service)
    }
}

/// The `system_state` key a service's last pass is recorded under.
pub(crate) fn state_key(service: Service) -> String {
    format!("maintenance.{}", service.name())
}

/// What a maintenance pass works with.
pub(crate) struct Ctx<'a> {
    pub(crate) store: &'a dyn Backend,
    pub(crate) clock: &'a dyn Clock,
    pub(crate) config: &'a MaintenanceConfig,
    pub(crate) retry: &'a dyn RetryPolicy,
}

/// Runs one pass of `service` on `store` now, with `config`'s settings, and records it
/// in `system_state` as the maintenance thread does. Runs taken back from expired
/// leases are retried after the delay `retry` gives. For [`crate::Admin`], which runs
/// maintenance without a running scheduler.
pub(crate) fn run_pass(
    store: &dyn Backend,
    config: &MaintenanceConfig,
    clock: &dyn Clock,
    retry: &dyn RetryPolicy,
    service: Service,
) -> Result<PassReport> {
    let cx = Ctx {
        store,
        clock,
        config,
        retry,
    };
    run_service(&cx, service, &crossbeam_channel::never())
}

/// One maintenance service: how often it runs, and one pass of it. Each lives in its
/// own file; [`implementation`] gives the code of each [`Service`].
pub(crate) trait MaintenanceService: Sync {
    /// How long from one pass to the next, from the settings.
    fn interval(&self, config: &MaintenanceConfig) -> Duration;
    /// One pass: its batches through `pass` (bounded, sized, paused between) until the
    /// work is done or `stop` says so; what it counted.
    fn run_once(&self, cx: &Ctx<'_>, stop: &Receiver<()>, pass: &mut Pass) -> Result<Counts>;
}

/// The code of `service`.
pub(crate) fn implementation(service: Service) -> &'static dyn MaintenanceService {
    match service {
        Service::LeaseRescue => &lease_rescuer::LeaseRescuer,
        Service::StaleWorkers => &worker_reaper::WorkerReaper,
        Service::TokenPurge => &token_purger::TokenPurger,
        Service::RunRetention => &run_cleaner::RunCleaner,
    }
}

/// Runs one pass of `service` and records it in `system_state`.
pub(crate) fn run_service(
    cx: &Ctx<'_>,
    service: Service,
    stop: &Receiver<()>,
) -> Result<PassReport> {
    let mut pass = Pass::new(cx, service);
    let counts = implementation(service).run_once(cx, stop, &mut pass)?;
    let report = pass.finish(counts);
    let json = serde_json::to_string(&report).map_err(|e| Error::CorruptValue {
        column: "system_state.value",
        detail: e.to_string(),
    })?;
    let now = cx.clock.now();
    cx.store
        .write(|tx| tx.set_state(&state_key(service), &json, now))?;
    Ok(report)
}

/// The maintenance thread's loop, with what it uses and nothing more.
pub(crate) struct Maintainer {
    pub(crate) store: Arc<dyn Backend>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: MaintenanceConfig,
    /// The delay before runs taken back from expired leases are tried again.
    pub(crate) retry: Arc<dyn RetryPolicy>,
    pub(crate) leader: Leader,
    /// Tells this process's dispatcher when rescued runs are waiting.
    pub(crate) waker: Waker,
}

impl Maintainer {
    fn cx(&self) -> Ctx<'_> {
        Ctx {
            store: self.store.as_ref(),
            clock: self.clock.as_ref(),
            config: &self.config,
            retry: self.retry.as_ref(),
        }
    }

    /// Leads when it can and runs each service on its interval until `stop` is closed.
    pub(crate) fn run(&self, stop: &Receiver<()>) {
        let start = Instant::now();
        let mut next: Vec<(Service, Instant)> = Service::ALL.iter().map(|s| (*s, start)).collect();
        let renew_every = (self.leader.lease / 3).max(Duration::from_millis(1));
        let mut next_renewal = start;
        let mut leading = false;
        let mut leadership = Failing::new("the maintenance leadership check");
        let mut failures: Vec<Failing> = Service::ALL
            .iter()
            .map(|s| Failing::new(format!("maintenance of {s}")))
            .collect();
        loop {
            let now = Instant::now();
            if now >= next_renewal {
                leading = match self.leader.lead(self.store.as_ref(), self.clock.as_ref()) {
                    Ok(l) => {
                        leadership.succeeded();
                        l
                    }
                    Err(e) => {
                        leadership.failed(&e, "retried at the next renewal");
                        false
                    }
                };
                next_renewal = now + renew_every;
            }
            if leading {
                for i in 0..next.len() {
                    let (service, at) = next[i];
                    if Instant::now() < at {
                        continue;
                    }
                    // Late passes do not pile up: the next one is an interval after this.
                    next[i].1 = Instant::now() + implementation(service).interval(&self.config);
                    match run_service(&self.cx(), service, stop) {
                        Ok(report) => {
                            failures[i].succeeded();
                            self.after_pass(&report, &mut next);
                        }
                        Err(e) => {
                            failures[i].failed(&e, "retried at its next interval");
                        }
                    }
                }
            }
            let mut wake = next_renewal;
            if leading {
                for (_, at) in &next {
                    wake = wake.min(*at);
                }
            }
            select! {
                recv(stop) -> _ => break,
                default(wake.saturating_duration_since(Instant::now())) => {}
            }
        }
        if leading {
            if let Err(e) = self
                .leader
                .release(self.store.as_ref(), self.clock.as_ref())
            {
                log::warn!("could not hand over maintenance leadership: {}", e.report());
            }
        }
    }

    fn after_pass(&self, report: &PassReport, next: &mut [(Service, Instant)]) {
        match report.counts {
            Counts::StaleWorkers(c) if c.offline > 0 => {
                log::info!("marked {} stale instance(s) offline", c.offline);
                // Their leases were expired now: rescue them in this pass.
                if let Some(rescue) = next.iter_mut().find(|(s, _)| *s == Service::LeaseRescue) {
                    rescue.1 = Instant::now();
                }
            }
            Counts::LeaseRescue(c) if c.requeued + c.failed > 0 => {
                log::info!(
                    "rescued runs from expired leases: {} requeued, {} failed",
                    c.requeued,
                    c.failed
                );
                self.waker.wake(Wake::Work);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_its_own_code_and_setting() {
        let config = MaintenanceConfig::default()
            .lease_rescue_interval(Duration::from_secs(1))
            .worker_check_interval(Duration::from_secs(2))
            .token_purge_interval(Duration::from_secs(3))
            .retention_interval(Duration::from_secs(4));
        let intervals: Vec<u64> = Service::ALL
            .iter()
            .map(|s| implementation(*s).interval(&config).as_secs())
            .collect();
        let mut sorted = intervals.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted,
            vec![1, 2, 3, 4],
            "each service reads its own interval"
        );
    }
}
