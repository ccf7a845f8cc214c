//! Marks instances whose heartbeat is older than
//! [`super::MaintenanceConfig::stale_worker_after`] as offline and expires their leases
//! at once, so the lease rescue takes their runs back without waiting for each lease to
//! run out (`sql/maintenance/workers_mark_stale_offline.sql`). An instance that was only
//! paused comes back at its next heartbeat.

use super::{Ctx, Pass, PassReport};
use crate::error::Result;

pub(crate) fn run_once(cx: &Ctx<'_>, mut pass: Pass) -> Result<PassReport> {
    let config = cx.config;
    let size = pass.size();
    let workers = pass.batch(cx, |tx, now| {
        let stale_before = crate::clock::shift(now, config.stale_worker_after, false);
        tx.mark_stale_workers_offline(stale_before, now, size)
    })?;
    Ok(pass.finish(vec![("offline", workers.len() as u64)]))
}
