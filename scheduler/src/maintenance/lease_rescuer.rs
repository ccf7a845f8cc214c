//! Takes back runs whose lease expired: their worker died (`kill -9`, a crash) or stalled
//! past its lease. Each goes back to `pending` with the crashed attempt counted, or to
//! `failed` when that was its last attempt; the update is guarded by the run's state and
//! the lease's own token, so a run that completed meanwhile is never touched
//! (`sql/maintenance/leases_rescue_expired_runs.sql`).
//!
//! Options: [`super::MaintenanceConfig::lease_rescue_interval`] (5 s),
//! [`super::MaintenanceConfig::batch_size`] (1000), [`super::MaintenanceConfig::batch_pause`].

use crossbeam_channel::Receiver;

use super::{Ctx, Pass, PassReport};
use crate::error::Result;

/// One pass: batches until one comes back short.
pub(crate) fn run_once(cx: &Ctx<'_>, stop: &Receiver<()>, mut pass: Pass) -> Result<PassReport> {
    let config = cx.config;
    let (mut requeued, mut failed, mut unblocked) = (0u64, 0u64, 0u64);
    loop {
        let size = pass.size();
        let batch = pass.batch(cx, |tx, now| tx.rescue_expired_leases(now, size))?;
        requeued += batch.requeued() as u64;
        failed += batch.failed() as u64;
        unblocked += batch.unblocked as u64;
        if batch.leases_dropped < size || !super::pause(stop, config.batch_pause) {
            break;
        }
    }
    Ok(pass.finish(vec![
        ("requeued", requeued),
        ("failed", failed),
        ("unblocked", unblocked),
    ]))
}
