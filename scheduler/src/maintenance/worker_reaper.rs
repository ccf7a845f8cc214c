//! Marks instances that broke their own promise (silent for longer than the stale limit
//! each recorded in its `workers` row, on the host's monotonic clock) as offline and
//! expires their leases at once, so the lease rescue takes their runs back without
//! waiting for each lease to run out (`sql/maintenance/workers_mark_stale_offline.sql`).
//! The observer's own settings play no part. An instance that was only paused comes
//! back at its next heartbeat.

use std::time::Duration;

use crossbeam_channel::Receiver;

use super::{Counts, Ctx, MaintenanceConfig, MaintenanceService, Pass, StaleWorkerCounts};
use crate::error::Result;

/// [`Service::StaleWorkers`](super::Service::StaleWorkers).
pub(crate) struct WorkerReaper;

/// The stale worker service's settings ([`super::MaintenanceConfig::stale_workers`]).
/// How long an instance may be silent is its own promise
/// ([`super::MaintenanceConfig::stale_worker_after`]), not this service's setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StaleWorkersConfig {
    /// How often stale instances are looked for. Defaults to
    /// [`super::DEFAULT_WORKER_CHECK_INTERVAL`] (15 s).
    pub interval: Duration,
}

impl Default for StaleWorkersConfig {
    fn default() -> Self {
        StaleWorkersConfig {
            interval: super::DEFAULT_WORKER_CHECK_INTERVAL,
        }
    }
}

impl MaintenanceService for WorkerReaper {
    fn interval(&self, config: &MaintenanceConfig) -> Duration {
        config.stale_workers.interval
    }

    /// One batch per pass: the dead are few, and the next check comes soon.
    fn run_once(&self, cx: &Ctx<'_>, _stop: &Receiver<()>, pass: &mut Pass) -> Result<Counts> {
        let size = pass.size();
        let workers = pass.batch(cx, |tx, now, host| {
            tx.mark_stale_workers_offline(now, host, size)
        })?;
        Ok(Counts::StaleWorkers(StaleWorkerCounts {
            offline: workers.len() as u64,
        }))
    }
}
