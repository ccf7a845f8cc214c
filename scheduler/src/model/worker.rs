//! Scheduler instances: what each promises the others (how often it heartbeats, how
//! long its leases last, when it may be presumed dead) and what its row says.

use std::time::Duration;

use time::OffsetDateTime;

use super::{WorkerId, WorkerStatus};
use crate::clock::clock_domain;

/// Default lease duration.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(30);
/// Default heartbeat interval.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// Default heartbeat age after which an instance is presumed dead (what it promises
/// others, recorded in its `workers` row).
pub const DEFAULT_STALE_WORKER_AFTER: Duration = Duration::from_secs(60);

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
/// What a worker promises, recorded in its row: other processes judge its liveness by
/// this and nothing else (never by their own settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Promise {
    /// How often it renews its leases and its row.
    pub heartbeat_interval: Duration,
    /// How long each of its leases lasts without a renewal.
    pub lease_duration: Duration,
    /// After how long without a heartbeat it may be presumed dead.
    pub stale_after: Duration,
}

impl Default for Promise {
    /// The scheduler's defaults: heartbeat 5 s, lease 30 s, stale after 60 s.
    fn default() -> Self {
        Promise {
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            lease_duration: DEFAULT_LEASE_DURATION,
            stale_after: DEFAULT_STALE_WORKER_AFTER,
        }
    }
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
/// A scheduler instance to register.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewWorker {
    /// A readable name, e.g. `host:pid`.
    pub name: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// Its worker threads.
    pub threads: u32,
    /// The library version it runs.
    pub version: String,
    /// What it promises (heartbeat, lease, stale limit).
    pub promise: Promise,
    /// The monotonic clock it keeps its promise on ([`clock_domain`]: this host's boot);
    /// `None` makes others judge it by wall-clock times.
    pub clock_domain: Option<String>,
}

impl NewWorker {
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    /// An instance of this process on `host` with `threads` worker threads, promising
    /// the default intervals ([`Promise::default`]) on this host's monotonic clock.
    #[must_use]
    pub fn new(name: impl Into<String>, host: impl Into<String>, threads: u32) -> Self {
        NewWorker {
            name: name.into(),
            host: host.into(),
            pid: std::process::id(),
            threads,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            promise: Promise::default(),
            clock_domain: clock_domain().map(str::to_owned),
        }
    }

    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    /// Sets what the instance promises.
    #[must_use]
    pub fn promise(mut self, promise: Promise) -> Self {
        self.promise = promise;
        self
    }

    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]
    /// Sets the clock domain it keeps its promise on (`None`: judged by wall clock).
    #[must_use]
    pub fn clock_domain(mut self, domain: Option<String>) -> Self {
        self.clock_domain = domain;
        self
    }
}

/// A scheduler instance as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Worker {
    /// Its id (the owner named in its leases).
    pub id: WorkerId,
    /// Its name.
    pub name: String,
    /// Its host.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// Its worker threads.
    pub threads: u32,
    /// The library version it runs.
    pub version: String,
    /// Its state.
    pub status: WorkerStatus,
    /// When it registered.
    pub started_at: OffsetDateTime,
    /// Its latest heartbeat.
    pub last_heartbeat: OffsetDateTime,
    /// When it stopped or was presumed dead.
    pub stopped_at: Option<OffsetDateTime>,
    /// How often it promised to heartbeat (`None` for a row written before 0005).
    pub heartbeat_interval: Option<Duration>,
    /// How long it promised its leases last.
    pub lease_duration: Option<Duration>,
    /// After how long a silence it may be presumed dead.
    pub stale_after: Option<Duration>,
    /// The monotonic clock it keeps its promise on.
    pub clock_domain: Option<String>,
    /// Leases it holds now.
    pub leases_held: u64,
}
