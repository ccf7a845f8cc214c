//! Marks instances that broke their own promise (silent for longer than the stale limit
//! each recorded in its `workers` row, on the host's monotonic clock) as offline and
//! expires their leases at once, so the lease rescue takes their runs back without
//! waiting for each lease to run out (`sql/maintenance/workers_mark_stale_offline.sql`).
//! The observer's own settings play no part. An instance that was only paused comes
//! back at its next heartbeat.

use super::{Counts, Ctx, Pass, PassReport, StaleWorkerCounts};
use crate::error::Result;

pub(crate) fn run_once(cx: &Ctx<'_>, mut pass: Pass) -> Result<PassReport> {
    let size = pass.size();
    let workers = pass.batch(cx, |tx, now, host| {
        tx.mark_stale_workers_offline(now, host, size)
    })?;
    Ok(pass.finish(Counts::StaleWorkers(StaleWorkerCounts {
        offline: workers.len() as u64,
    })))
}
