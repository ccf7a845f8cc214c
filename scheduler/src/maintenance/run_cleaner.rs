//! Removes finished runs older than their status's retention
//! ([`super::MaintenanceConfig::keep_completed`] 24 h, `keep_failed` and
//! `keep_cancelled` 7 days), oldest first, archiving them to `task_runs_archive` or
//! deleting them ([`super::MaintenanceConfig::archive_mode`], default delete)
//! (`sql/maintenance/runs_archive_copy.sql`, `runs_delete_finished.sql`).

use crossbeam_channel::Receiver;

use std::time::Duration;

use super::{Counts, Ctx, MaintenanceConfig, MaintenanceService, Pass, RetentionCounts};
use crate::{error::Result, model::RunStatus};

/// [`Service::RunRetention`](super::Service::RunRetention).
pub(crate) struct RunCleaner;

impl MaintenanceService for RunCleaner {
    fn interval(&self, config: &MaintenanceConfig) -> Duration {
        config.retention_interval
    }

    fn run_once(&self, cx: &Ctx<'_>, stop: &Receiver<()>, pass: &mut Pass) -> Result<Counts> {
        let config = cx.config;
        let mut counts = RetentionCounts {
            completed: 0,
            failed: 0,
            cancelled: 0,
            mode: config.archive_mode,
        };
        for (status, keep, removed) in [
            (
                RunStatus::Completed,
                config.keep_completed,
                &mut counts.completed,
            ),
            (RunStatus::Failed, config.keep_failed, &mut counts.failed),
            (
                RunStatus::Cancelled,
                config.keep_cancelled,
                &mut counts.cancelled,
            ),
        ] {
            pass.drain(
                cx,
                stop,
                |tx, size, now, _| {
                    let before = crate::clock::shift(now, keep, false);
                    let n =
                        tx.remove_finished_runs(status, before, size, config.archive_mode, now)?;
                    Ok((n, n))
                },
                |n| *removed += n as u64,
            )?;
        }
        Ok(Counts::RunRetention(counts))
    }
}
