//! Removes finished runs older than their status's retention
//! ([`super::MaintenanceConfig::keep_completed`] 24 h, `keep_failed` and
//! `keep_cancelled` 7 days), oldest first, archiving them to `task_runs_archive` or
//! deleting them ([`super::MaintenanceConfig::archive_mode`], default delete)
//! (`sql/maintenance/runs_archive_copy.sql`, `runs_delete_finished.sql`).

use crossbeam_channel::Receiver;

use std::time::Duration;

use super::{Counts, Ctx, MaintenanceConfig, MaintenanceService, Pass, RetentionCounts};
use crate::{
    error::Result,
    model::{ArchiveMode, RunStatus},
};

/// [`Service::RunRetention`](super::Service::RunRetention).
pub(crate) struct RunCleaner;

/// The run retention service's settings ([`super::MaintenanceConfig::retention`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionConfig {
    /// How often finished runs past their retention are removed. Defaults to
    /// [`super::DEFAULT_RETENTION_INTERVAL`] (60 s).
    pub interval: Duration,
    /// How long completed runs are kept. Defaults to [`super::DEFAULT_KEEP_COMPLETED`]
    /// (24 h).
    pub keep_completed: Duration,
    /// How long failed runs are kept. Defaults to [`super::DEFAULT_KEEP_FAILED`] (7 days).
    pub keep_failed: Duration,
    /// How long cancelled runs are kept. Defaults to [`super::DEFAULT_KEEP_CANCELLED`]
    /// (7 days).
    pub keep_cancelled: Duration,
    /// Whether runs past their retention are archived or deleted. Defaults to
    /// [`ArchiveMode::Delete`].
    pub archive_mode: ArchiveMode,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            interval: super::DEFAULT_RETENTION_INTERVAL,
            keep_completed: super::DEFAULT_KEEP_COMPLETED,
            keep_failed: super::DEFAULT_KEEP_FAILED,
            keep_cancelled: super::DEFAULT_KEEP_CANCELLED,
            archive_mode: ArchiveMode::Delete,
        }
    }
}

impl MaintenanceService for RunCleaner {
    fn interval(&self, config: &MaintenanceConfig) -> Duration {
        config.retention.interval
    }

    fn run_once(&self, cx: &Ctx<'_>, stop: &Receiver<()>, pass: &mut Pass) -> Result<Counts> {
        let config = cx.config;
        let mut counts = RetentionCounts {
            completed: 0,
            failed: 0,
            cancelled: 0,
            mode: config.retention.archive_mode,
        };
        for (status, keep, removed) in [
            (
                RunStatus::Completed,
                config.retention.keep_completed,
                &mut counts.completed,
            ),
            (
                RunStatus::Failed,
                config.retention.keep_failed,
                &mut counts.failed,
            ),
            (
                RunStatus::Cancelled,
                config.retention.keep_cancelled,
                &mut counts.cancelled,
            ),
        ] {
            pass.drain(
                cx,
                stop,
                |tx, size, now, _| {
                    let before = crate::model::time::shift(now, keep, false);
                    let n = tx.remove_finished_runs(
                        status,
                        before,
                        size,
                        config.retention.archive_mode,
                        now,
                    )?;
                    Ok((n, n))
                },
                |n| *removed += n as u64,
            )?;
        }
        Ok(Counts::RunRetention(counts))
    }
}
