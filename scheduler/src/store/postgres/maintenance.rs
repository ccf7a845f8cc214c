//! The maintenance statements of `sql/postgres/maintenance/`, one bounded batch per call
//! (as on SQLite, `store/maintenance.rs`). Expiry and staleness are judged on the
//! database's clock, so no host's clock decides whether another host is alive; and every
//! batch skips rows another host's maintenance has locked, so two leaders for a moment
//! (or an operator's pass beside the leader's) never wait on each other or do a row twice.

use time::OffsetDateTime;

use super::{PgTx, sql, types::flag};
use crate::{
    backend::{
        LeaseRescue, RescuedRun,
        values::{LEASE_EXPIRED, batch_param, dur_ms, ms, narrow},
    },
    error::{Error, Result},
    maintenance::DEFAULT_STALE_WORKER_AFTER,
    model::{
        ArchiveMode, AttemptErrorKind, RunId, RunStatus, WorkerId,
        time::{add_ms, duration_ms},
    },
    retry::{FailedAttempt, RetryPolicy},
};

impl PgTx<'_> {
    /// As on SQLite, with expiry on the database's clock: a lease has expired once the
    /// database's clock passed the expiry its holder last wrote (claim or renewal).
    pub(crate) fn rescue_expired_leases(
        &self,
        now: OffsetDateTime,
        batch: usize,
        policy: &dyn RetryPolicy,
    ) -> Result<LeaseRescue> {
        let limit = batch_param(batch)?;
        let now_ms = ms(now);
        let (mut ids, mut tokens, mut retry_at) = (Vec::new(), Vec::new(), Vec::new());
        for r in self.query(sql::LEASES_EXPIRED, &[&limit])? {
            let run: RunId = r.try_get(0)?;
            let token: i64 = r.try_get(1)?;
            let job_type: String = r.try_get(2)?;
            let attempt: u32 = narrow("task_runs.attempt", r.try_get(3)?)?;
            let backoff = dur_ms(r.try_get(4)?);
            let failed =
                FailedAttempt::new(&job_type, attempt, backoff, AttemptErrorKind::LeaseExpired);
            // A delay past the calendar's end would never come: retry now instead.
            retry_at
                .push(add_ms("retry delay", now_ms, policy.retry_delay(&failed)).unwrap_or(now_ms));
            ids.push(run.get());
            tokens.push(token);
        }
        if ids.is_empty() {
            return Ok(LeaseRescue {
                runs: Vec::new(),
                leases_dropped: 0,
                unblocked: 0,
            });
        }
        // The batch in two statements, whatever its size: each would otherwise be a
        // round trip per run, and the transaction as long as all of them.
        let mut runs = self
            .query(
                sql::RUNS_RESCUE_FENCED,
                &[&ids, &tokens, &now_ms, &retry_at, &LEASE_EXPIRED],
            )?
            .iter()
            .map(|row| {
                Ok(RescuedRun {
                    run: row.try_get(0)?,
                    status: row.try_get(1)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        runs.sort_by_key(|r| r.run);
        let leases_dropped = self.execute(sql::LEASES_DELETE_RESCUED, &[&ids, &tokens])?;
        let finished: Vec<i64> = runs
            .iter()
            .filter(|r| r.status.is_finished())
            .map(|r| r.run.get())
            .collect();
        let mut unblocked = 0;
        if !finished.is_empty() {
            // One statement finds the few with dependents (read after the rescue, as
            // each run's own check would be); only those settle, one by one.
            let mut waited_on: Vec<RunId> = self
                .query(sql::DEPS_WITH_UNRESOLVED_DOWNSTREAM, &[&finished])?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
            waited_on.sort_unstable();
            for run in waited_on {
                unblocked += self.settle_dependents(run, false, now)?;
            }
        }
        Ok(LeaseRescue {
            runs,
            leases_dropped: usize::try_from(leases_dropped).unwrap_or(usize::MAX),
            unblocked,
        })
    }

    pub(crate) fn purge_expired_tokens(
        &self,
        before: OffsetDateTime,
        batch: usize,
    ) -> Result<usize> {
        let n = self.execute(
            sql::TOKENS_PURGE_EXPIRED,
            &[&ms(before), &batch_param(batch)?],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// As on SQLite; the copy into the archive and the delete are one statement.
    pub(crate) fn remove_finished_runs(
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
        let rows = self.query(
            sql::RUNS_REMOVE_FINISHED,
            &[
                &status,
                &ms(finished_before),
                &batch_param(batch)?,
                &flag(mode == ArchiveMode::Archive),
                &ms(now),
            ],
        )?;
        Ok(rows.len())
    }

    /// As on SQLite, each worker judged on the database's clock by the limit it
    /// recorded; its leases are expired at once so the next rescue takes its runs.
    pub(crate) fn mark_stale_workers_offline(
        &self,
        now: OffsetDateTime,
        batch: usize,
    ) -> Result<Vec<WorkerId>> {
        let fallback = duration_ms("stale_after", DEFAULT_STALE_WORKER_AFTER)?;
        let ids = self
            .query(
                sql::WORKERS_MARK_STALE_OFFLINE,
                &[&ms(now), &fallback, &batch_param(batch)?],
            )?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect::<Result<Vec<WorkerId>>>()?;
        if !ids.is_empty() {
            let raw: Vec<i64> = ids.iter().map(|id| id.get()).collect();
            self.execute(sql::LEASES_RELEASE_FOR_WORKER, &[&raw, &ms(now)])?;
        }
        Ok(ids)
    }
}
