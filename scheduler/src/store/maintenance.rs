//! The maintenance statements of `sql/maintenance/`, one bounded batch per call. The
//! maintenance thread decides when and how often; each call here is one short write
//! transaction's worth of work, so the write lock is never held long.

use rusqlite::{OptionalExtension, named_params};
use time::OffsetDateTime;

use super::{
    WriteTx, sql,
    types::{AttemptErrorKind, RunId, RunStatus, WorkerId, dur_ms, ms, narrow},
};
use crate::{
    backend::values::{LEASE_EXPIRED, batch_param},
    backend::{LeaseRescue, RescuedRun},
    clock::{HostInstant, clock_domain},
    error::{Error, Result},
    maintenance::DEFAULT_STALE_WORKER_AFTER,
    model::ArchiveMode,
    model::time::{add_ms, duration_ms},
    retry::{FailedAttempt, RetryPolicy},
};

impl WriteTx<'_> {
    /// Takes back up to `batch` runs whose lease expired: each goes back to `pending`
    /// with its attempt counted, due after the delay `policy` gives (as for any failed
    /// attempt, so a job that crashes its process backs off instead of looping), or to
    /// `failed` when it has no attempt left, or to `cancelled` when a cancel was
    /// requested; the expiry is recorded in its history and its dependents settle as for
    /// any ending. A run that finished meanwhile is not touched: each update is fenced
    /// by the lease's own token.
    ///
    /// A lease has expired when its holder's own expiry, on the host's monotonic clock,
    /// is at or before `host` (one reading of that clock decides, whatever the wall
    /// clock does). Leases of workers whose monotonic clock this process cannot read
    /// (another boot of the host, rows older than this version) are judged by their
    /// wall-clock expiry against `now`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero batch; database errors.
    pub fn rescue_expired_leases(
        &self,
        now: OffsetDateTime,
        host: HostInstant,
        batch: usize,
        policy: &dyn RetryPolicy,
    ) -> Result<LeaseRescue> {
        let limit = batch_param(batch)?;
        let domain = clock_domain();
        let mut expired = Vec::new();
        // Leases judged on the shared monotonic clock first, then those judged by wall
        // clock (workers of another clock domain), up to `batch` in all.
        let mut in_domain = self.conn().prepare_cached(sql::LEASES_EXPIRED_IN_DOMAIN)?;
        let mut elsewhere = self.conn().prepare_cached(sql::LEASES_EXPIRED_ELSEWHERE)?;
        for (stmt, params) in [
            (
                &mut in_domain,
                named_params! { ":mono": host.millis(), ":domain": domain, ":batch": limit },
            ),
            (
                &mut elsewhere,
                named_params! { ":now": ms(now), ":domain": domain, ":batch": limit },
            ),
        ] {
            if expired.len() >= batch {
                break;
            }
            let mut rows = stmt.query(params)?;
            while let Some(r) = rows.next()? {
                if expired.len() >= batch {
                    break;
                }
                let run: RunId = r.get(0)?;
                let token: i64 = r.get(1)?;
                let job_type: String = r.get(2)?;
                let attempt: u32 = narrow("task_runs.attempt", r.get(3)?)?;
                let backoff = dur_ms(r.get(4)?);
                expired.push((run, token, job_type, attempt, backoff));
            }
        }
        let now_ms = ms(now);
        let mut rescue = self.conn().prepare_cached(sql::RUNS_RESCUE_FENCED)?;
        let mut drop_lease = self.conn().prepare_cached(sql::LOCKS_DELETE)?;
        let mut runs = Vec::with_capacity(expired.len());
        let mut leases_dropped = 0;
        for (run, token, job_type, attempt, backoff) in expired {
            let failed =
                FailedAttempt::new(&job_type, attempt, backoff, AttemptErrorKind::LeaseExpired);
            // A delay past the calendar's end would never come: retry now instead.
            let retry_at =
                add_ms("retry delay", now_ms, policy.retry_delay(&failed)).unwrap_or(now_ms);
            let status: Option<RunStatus> = rescue
                .query_row(
                    named_params! {
                        ":id": run, ":token": token, ":now": now_ms, ":retry_at": retry_at,
                        ":message": LEASE_EXPIRED,
                    },
                    |r| r.get(0),
                )
                .optional()?;
            // (:run_id, :token), checked in sql.rs.
            leases_dropped += drop_lease.execute(rusqlite::params![run, token])?;
            if let Some(status) = status {
                runs.push(RescuedRun { run, status });
            }
        }
        let mut unblocked = 0;
        for r in runs.iter().filter(|r| r.status.is_finished()) {
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

    /// Marks up to `batch` instances that broke their own promise as offline, and
    /// expires their leases now so the next lease rescue takes their runs back. Returns
    /// the instances marked.
    ///
    /// An instance is judged by the stale limit it recorded when it registered (never
    /// by the caller's settings): on the host's monotonic clock (one reading, `host`)
    /// when it runs in this process's clock domain, else by its wall-clock heartbeat
    /// against `now` (rows written before this version, which recorded no limit, get
    /// [`DEFAULT_STALE_WORKER_AFTER`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero batch; database errors.
    pub fn mark_stale_workers_offline(
        &self,
        now: OffsetDateTime,
        host: HostInstant,
        batch: usize,
    ) -> Result<Vec<WorkerId>> {
        let fallback = duration_ms("stale_after", DEFAULT_STALE_WORKER_AFTER)?;
        let ids = self
            .conn()
            .prepare_cached(sql::WORKERS_MARK_STALE_OFFLINE)?
            .query_map(
                named_params! {
                    ":now": ms(now),
                    ":mono": host.millis(),
                    ":domain": clock_domain(),
                    ":fallback_ms": fallback,
                    ":batch": batch_param(batch)?,
                },
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<Vec<WorkerId>>>()?;
        let mut release = self.conn().prepare_cached(sql::LEASES_RELEASE_FOR_WORKER)?;
        for id in &ids {
            release.execute(
                named_params! { ":worker_id": id, ":now": ms(now), ":mono": host.millis() },
            )?;
        }
        Ok(ids)
    }
}
