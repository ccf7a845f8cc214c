//! Takes back runs whose lease expired: their worker died (`kill -9`, a crash) or stalled
//! past its lease. Each goes back to `pending` with the crashed attempt counted, or to
//! `failed` when that was its last attempt; the update is guarded by the run's state and
//! the lease's own token, so a run that completed meanwhile is never touched
//! (`sql/maintenance/leases_rescue_expired_runs.sql`).
//!
//! Options: [`super::MaintenanceConfig::lease_rescue_interval`] (5 s),
//! [`super::MaintenanceConfig::batch_size`] (1000), [`super::MaintenanceConfig::batch_pause`].

use crossbeam_channel::Receiver;

use crate::{error::Result, scheduler::Shared};

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LeaseRescuerReport {
    pub(crate) requeued: usize,
    pub(crate) failed: usize,
    pub(crate) batches: usize,
}

/// One pass: batches until one comes back short.
pub(crate) fn run_once(shared: &Shared, stop: &Receiver<()>) -> Result<LeaseRescuerReport> {
    let config = &shared.config.maintenance;
    let mut report = LeaseRescuerReport::default();
    loop {
        let now = shared.clock.now();
        let batch = shared
            .store
            .write(|tx| tx.rescue_expired_leases(now, config.batch_size))?;
        report.batches += 1;
        report.requeued += batch.requeued();
        report.failed += batch.failed();
        if batch.leases_dropped < config.batch_size || !super::pause(stop, config.batch_pause) {
            return Ok(report);
        }
    }
}
