//! Marks instances whose heartbeat is older than
//! [`super::MaintenanceConfig::stale_worker_after`] as offline and expires their leases
//! at once, so the lease rescuer takes their runs back without waiting for each lease to
//! run out (`sql/maintenance/workers_mark_stale_offline.sql`). An instance that was only
//! paused comes back at its next heartbeat.

use crate::{error::Result, scheduler::Shared, store::WorkerId};

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WorkerReaperReport {
    pub(crate) workers: Vec<WorkerId>,
}

pub(crate) fn run_once(shared: &Shared) -> Result<WorkerReaperReport> {
    let config = &shared.config.maintenance;
    let now = shared.clock.now();
    let stale_before = crate::clock::shift(now, config.stale_worker_after, false);
    let workers = shared
        .store
        .write(|tx| tx.mark_stale_workers_offline(stale_before, now, config.batch_size))?;
    Ok(WorkerReaperReport { workers })
}
