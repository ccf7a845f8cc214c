//! Removes finished runs older than their status's retention
//! ([`super::MaintenanceConfig::keep_completed`] 24 h, `keep_failed` and
//! `keep_cancelled` 7 days), oldest first, archiving them to `task_runs_archive` or
//! deleting them ([`super::MaintenanceConfig::archive_mode`], default delete)
//! (`sql/maintenance/runs_archive_copy.sql`, `runs_delete_finished.sql`).

use crossbeam_channel::Receiver;

use super::{Ctx, Pass, PassReport};
use crate::{
    error::Result,
    store::{ArchiveMode, RunStatus},
};

pub(crate) fn run_once(cx: &Ctx<'_>, stop: &Receiver<()>, mut pass: Pass) -> Result<PassReport> {
    let config = cx.config;
    let mut counts = Vec::new();
    for (status, keep, name) in [
        (RunStatus::Completed, config.keep_completed, "completed"),
        (RunStatus::Failed, config.keep_failed, "failed"),
        (RunStatus::Cancelled, config.keep_cancelled, "cancelled"),
    ] {
        let mut removed = 0u64;
        loop {
            let size = pass.size();
            let n = pass.batch(cx, |tx, now, _| {
                let before = crate::clock::shift(now, keep, false);
                tx.remove_finished_runs(status, before, size, config.archive_mode, now)
            })?;
            removed += n as u64;
            if n < size || !super::pause(stop, config.batch_pause) {
                break;
            }
        }
        counts.push((name, removed));
    }
    let verb = match config.archive_mode {
        ArchiveMode::Archive => "archived",
        ArchiveMode::Delete => "deleted",
    };
    let total = counts.iter().map(|(_, n)| n).sum();
    counts.push((verb, total));
    Ok(pass.finish(counts))
}
