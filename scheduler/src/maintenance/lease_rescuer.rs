//! Takes back runs whose lease expired: their worker died (`kill -9`, a crash) or stalled
//! past its lease. Each goes back to `pending` with the crashed attempt counted and the
//! retry policy's delay (a job that crashes its process backs off like one that fails),
//! or to `failed` when that was its last attempt; each update is fenced by the lease's
//! own token, so a run that completed meanwhile is never touched
//! (`sql/maintenance/leases_expired_*.sql`, `runs_rescue_fenced.sql`).
//!
//! Expiry is judged on the host's monotonic clock against the expiry each holder wrote
//! itself, one reading per batch: a wall-clock jump, of any size, never takes a live run.
//!
//! Options: [`LeaseRescueConfig`] (its interval, 5 s) and the passes' shared
//! [`super::BatchConfig`] (1000 rows, 10 ms pauses).

use crossbeam_channel::Receiver;

use std::time::Duration;

use super::{Counts, Ctx, MaintenanceConfig, MaintenanceService, Pass, RescueCounts};
use crate::error::Result;

/// The lease rescue service's settings ([`super::MaintenanceConfig::lease_rescue`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseRescueConfig {
    /// How often expired leases are rescued. Defaults to
    /// [`super::DEFAULT_LEASE_RESCUE_INTERVAL`] (5 s). An orphaned run is back to
    /// `pending` within the lease duration plus this interval.
    pub interval: Duration,
}

impl Default for LeaseRescueConfig {
    fn default() -> Self {
        LeaseRescueConfig {
            interval: super::DEFAULT_LEASE_RESCUE_INTERVAL,
        }
    }
}

/// [`Service::LeaseRescue`](super::Service::LeaseRescue).
pub(crate) struct LeaseRescuer;

impl MaintenanceService for LeaseRescuer {
    fn interval(&self, config: &MaintenanceConfig) -> Duration {
        config.lease_rescue.interval
    }

    fn run_once(&self, cx: &Ctx<'_>, stop: &Receiver<()>, pass: &mut Pass) -> Result<Counts> {
        let mut counts = RescueCounts::default();
        pass.drain(
            cx,
            stop,
            |tx, size, now, host| {
                let batch = tx.rescue_expired_leases(now, host, size, cx.retry)?;
                let taken = batch.leases_dropped;
                Ok((batch, taken))
            },
            |batch| {
                counts.requeued += batch.requeued() as u64;
                counts.failed += batch.failed() as u64;
                counts.unblocked += batch.unblocked as u64;
            },
        )?;
        Ok(Counts::LeaseRescue(counts))
    }
}
