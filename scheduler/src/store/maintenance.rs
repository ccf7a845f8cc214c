//! The maintenance statements of `sql/maintenance/`, one bounded batch per call. The
//! maintenance thread decides when and how often; each call here is one short write
//! transaction's worth of work, so the write lock is never held long.

use rusqlite::named_params;
use time::OffsetDateTime;

use super::{
    WriteTx, sql,
    types::{RunId, RunStatus, WorkerId, ms},
};
use crate::error::{Error, Result};

/// Whether finished runs past their retention are kept in `task_runs_archive` or dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ArchiveMode {
    /// Move them to `task_runs_archive` (the default).
    #[default]
    Archive,
    /// Delete them.
    Delete,
}

/// One run taken back from an expired lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RescuedRun {
    /// The run.
    pub run: RunId,
    /// `pending` (to be retried) or `failed` (no attempt left).
    pub status: RunStatus,
}

/// What one batch of lease rescue did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseRescue {
    /// The runs taken back, with their new status.
    pub runs: Vec<RescuedRun>,
    /// Expired lease rows removed (rescued runs' leases and any stray ones).
    pub leases_dropped: usize,
    /// Dependents that became pending (of runs that failed and had `run` edges).
    pub unblocked: usize,
}

impl LeaseRescue {
    /// Runs put back to pending.
    #[must_use]
    pub fn requeued(&self) -> usize {
        self.runs
            .iter()
            .filter(|r| r.status == RunStatus::Pending)
            .count()
    }

    /// Runs failed for good (their last attempt's lease expired).
    #[must_use]
    pub fn failed(&self) -> usize {
        self.runs
            .iter()
            .filter(|r| r.status == RunStatus::Failed)
            .count()
    }
}

fn batch_param(batch: usize) -> Result<i64> {
    if batch == 0 {
        return Err(Error::invalid("batch", "must be at least 1"));
    }
    Ok(i64::try_from(batch).unwrap_or(i64::MAX))
}

impl WriteTx<'_> {
    /// Takes back up to `batch` runs whose lease expired at or before `now`: each goes
    /// back to `pending` with its attempt counted and the expiry recorded in its history,
    /// or to `failed` when it has no attempt left (its dependents then settle as for any
    /// failure). A run that finished meanwhile is not touched: the update is guarded by
    /// the run's state and the lease's own token.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero batch; database errors.
    pub fn rescue_expired_leases(&self, now: OffsetDateTime, batch: usize) -> Result<LeaseRescue> {
        let params = named_params! { ":now": ms(now), ":batch": batch_param(batch)? };
        let runs = self
            .conn()
            .prepare_cached(sql::LEASES_RESCUE_EXPIRED_RUNS)?
            .query_map(params, |r| {
                Ok(RescuedRun {
                    run: r.get(0)?,
                    status: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let leases_dropped = self
            .conn()
            .prepare_cached(sql::LEASES_DELETE_EXPIRED)?
            .execute(params)?;
        let mut unblocked = 0;
        for r in runs.iter().filter(|r| r.status == RunStatus::Failed) {
            unblocked += self.settle_dependents(r.run, false, now)?;
        }
        Ok(LeaseRescue {
            runs,
            leases_dropped,
            unblocked,
        })
    }

    /// Purges up to `batch` blacklisted tokens that expired before `before` (pass now
    /// minus the validation leeway). Returns how many were purged.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero batch; database errors.
    pub fn purge_expired_tokens(&self, before: OffsetDateTime, batch: usize) -> Result<usize> {
        Ok(self
            .conn()
            .prepare_cached(sql::TOKENS_PURGE_EXPIRED)?
            .execute(named_params! { ":before": ms(before), ":batch": batch_param(batch)? })?)
    }

    /// Archives or deletes up to `batch` runs in `status` that finished before
    /// `finished_before`, oldest first. Returns how many were removed from `task_runs`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an unfinished status or a zero batch; database
    /// errors.
    pub fn remove_finished_runs(
        &self,
        status: RunStatus,
        finished_before: OffsetDateTime,
        batch: usize,
        mode: ArchiveMode,
        now: OffsetDateTime,
    ) -> Result<usize> {
        if !status.is_finished() {
            return Err(Error::invalid(
                "status",
                format!("only finished runs are archived, not {status}"),
            ));
        }
        let batch = batch_param(batch)?;
        let before = ms(finished_before);
        if mode == ArchiveMode::Archive {
            self.conn()
                .prepare_cached(sql::RUNS_ARCHIVE_COPY)?
                .execute(named_params! {
                    ":status": status, ":before": before, ":batch": batch, ":now": ms(now),
                })?;
        }
        Ok(self
            .conn()
            .prepare_cached(sql::RUNS_DELETE_FINISHED)?
            .execute(named_params! { ":status": status, ":before": before, ":batch": batch })?)
    }

    /// Marks up to `batch` instances whose last heartbeat is older than `stale_before` as
    /// offline and expires their leases now, so the next lease rescue takes their runs
    /// back. Returns the instances marked.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero batch; database errors.
    pub fn mark_stale_workers_offline(
        &self,
        stale_before: OffsetDateTime,
        now: OffsetDateTime,
        batch: usize,
    ) -> Result<Vec<WorkerId>> {
        let ids = self
            .conn()
            .prepare_cached(sql::WORKERS_MARK_STALE_OFFLINE)?
            .query_map(
                named_params! {
                    ":stale_before": ms(stale_before),
                    ":now": ms(now),
                    ":batch": batch_param(batch)?,
                },
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<Vec<WorkerId>>>()?;
        let mut release = self.conn().prepare_cached(sql::LEASES_RELEASE_FOR_WORKER)?;
        for id in &ids {
            release.execute(named_params! { ":worker_id": id, ":now": ms(now) })?;
        }
        Ok(ids)
    }
}
