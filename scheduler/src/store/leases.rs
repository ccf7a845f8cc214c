//! `task_locks`: claiming runs under leases, extending them, and the fenced writes that
//! finish an attempt.
//!
//! The fencing contract: a claim increments the run's `lease_token` and writes a lease
//! row carrying that token. Every later write of the holder (finish, retry, fail,
//! cancel, release) names `(run_id, token)` and changes nothing unless the run is still
//! `running` under exactly that lease. A worker whose lease expired and was rescued, or
//! whose run was claimed again by someone else, therefore gets [`Error::LeaseLost`]
//! and cannot overwrite the current holder's work.

use std::time::Duration;

use rusqlite::{OptionalExtension, Row, named_params, params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{
        AttemptOutcome, AttemptTiming, ClaimedRun, Lease, MAX_PRIORITY, RunId, RunStatus, WorkerId,
        dur_ms, dur_ms_opt, ms, narrow, ts,
    },
};
use crate::{
    backend::{Finished, JobTypeFilter},
    clock::HostInstant,
    error::{Error, Result},
    model::time::{add_ms, duration_ms},
};

fn lease_from_row(r: &Row<'_>) -> Result<Lease> {
    Ok(Lease {
        run_id: r.get("run_id")?,
        worker_id: r.get("worker_id")?,
        token: r.get("token")?,
        acquired_at: ts(r.get("acquired_at")?)?,
        expires_at: ts(r.get("expires_at")?)?,
    })
}

impl ReadTx<'_> {
    /// The lease on a run, if one exists (live or expired but not yet rescued).
    ///
    /// # Errors
    /// Database errors.
    pub fn lease_of(&self, run: RunId) -> Result<Option<Lease>> {
        let mut stmt = self.conn().prepare_cached(sql::LOCKS_GET)?;
        let mut rows = stmt.query(named_params! { ":run_id": run })?;
        rows.next()?.map(lease_from_row).transpose()
    }

    /// Every lease a worker holds.
    ///
    /// # Errors
    /// Database errors.
    pub fn leases_of_worker(&self, worker: WorkerId) -> Result<Vec<Lease>> {
        let mut stmt = self.conn().prepare_cached(sql::LOCKS_LIST_FOR_WORKER)?;
        let mut rows = stmt.query(named_params! { ":worker_id": worker })?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(lease_from_row(row)?);
        }
        Ok(out)
    }

    /// Runs held by `worker` whose cancellation was requested.
    ///
    /// # Errors
    /// Database errors.
    pub fn cancel_requested_for_worker(&self, worker: WorkerId) -> Result<Vec<RunId>> {
        let mut stmt = self
            .conn()
            .prepare_cached(sql::RUNS_CANCEL_REQUESTED_FOR_WORKER)?;
        let rows = stmt.query_map(named_params! { ":worker_id": worker }, |r| r.get(0))?;
        rows.collect::<rusqlite::Result<Vec<RunId>>>()
            .map_err(Error::from)
    }

    /// When the next pending run of the job types in `job_types` becomes due after
    /// `after`, if one is pending and claiming is not paused.
    ///
    /// # Errors
    /// Database errors.
    pub fn next_due_at(
        &self,
        after: OffsetDateTime,
        job_types: &JobTypeFilter,
    ) -> Result<Option<OffsetDateTime>> {
        if self.is_paused()? {
            return Ok(None);
        }
        self.next_due_unpaused(after, crate::model::DEFAULT_QUEUE, job_types)
    }

    /// [`ReadTx::next_due_at`] for a caller that read the pause flag itself in this
    /// transaction (the claimer: one read of it per claim, not three).
    pub(crate) fn next_due_unpaused(
        &self,
        after: OffsetDateTime,
        queue: &str,
        job_types: &JobTypeFilter,
    ) -> Result<Option<OffsetDateTime>> {
        let mut next: Option<i64> = None;
        let mut at_most = i64::from(MAX_PRIORITY);
        let mut group = self.conn().prepare_cached(sql::RUNS_CLAIM_NEXT_PRIORITY)?;
        let mut due = self.conn().prepare_cached(sql::RUNS_NEXT_DUE_IN_PRIORITY)?;
        while at_most >= 0 {
            let p: Option<i64> = group
                .query_row(
                    named_params! { ":queue": queue, ":at_most": at_most },
                    |r| r.get(0),
                )
                .optional()?;
            let Some(p) = p else { break };
            let at: Option<i64> = due
                .query_row(
                    named_params! {
                        ":queue": queue, ":priority": p, ":now": ms(after),
                        ":job_types": job_types.as_json(),
                    },
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
            at_most = p - 1;
        }
        next.map(ts).transpose()
    }
}

impl WriteTx<'_> {
    /// Claims up to `limit` due runs of the job types in `job_types` for `worker`,
    /// highest priority first and oldest first within a priority, each under a new lease
    /// of `lease_ttl` with a new fencing token, expiring `lease_ttl` after `now` on the
    /// wall clock and after `host` on the host's monotonic clock (what the rescue judges
    /// by). Claims nothing while the scheduler is paused. Each claim counts an attempt.
    ///
    /// The claimer seeks the top priority group, claims that group's due runs in
    /// scheduled order (an index range scan that stops at the first run not yet due),
    /// then moves to the next lower group until `limit` is reached: cost grows with the
    /// runs claimed and the priority groups present, never with delayed runs.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a lease that does not fit in time; database errors.
    pub fn claim_runs(
        &self,
        worker: WorkerId,
        limit: usize,
        now: OffsetDateTime,
        host: HostInstant,
        lease_ttl: Duration,
        job_types: &JobTypeFilter,
    ) -> Result<Vec<ClaimedRun>> {
        if self.is_paused()? {
            return Ok(Vec::new());
        }
        self.claim_unpaused(
            worker,
            crate::model::DEFAULT_QUEUE,
            limit,
            (now, host),
            lease_ttl,
            job_types,
        )
    }

    /// [`WriteTx::claim_runs`] for a caller that read the pause flag itself in this
    /// transaction.
    pub(crate) fn claim_unpaused(
        &self,
        worker: WorkerId,
        queue: &str,
        limit: usize,
        (now, host): (OffsetDateTime, HostInstant),
        lease_ttl: Duration,
        job_types: &JobTypeFilter,
    ) -> Result<Vec<ClaimedRun>> {
        let now_ms = ms(now);
        let expires_ms = add_ms("lease duration", now_ms, lease_ttl)?;
        let expires_mono = host.after(lease_ttl).millis();
        let lease_expires_at = ts(expires_ms)?;
        let mut claimed = Vec::new();
        if limit == 0 {
            return Ok(claimed);
        }
        let mut next_group = self.conn().prepare_cached(sql::RUNS_CLAIM_NEXT_PRIORITY)?;
        let mut claim = self.conn().prepare_cached(sql::RUNS_CLAIM_GROUP)?;
        let mut lock = self.conn().prepare_cached(sql::LOCKS_INSERT)?;
        let mut at_most = i64::from(MAX_PRIORITY);
        while claimed.len() < limit && at_most >= 0 {
            let group: Option<i64> = next_group
                .query_row(
                    named_params! { ":queue": queue, ":at_most": at_most },
                    |r| r.get(0),
                )
                .optional()?;
            let Some(priority) = group else { break };
            let want = limit - claimed.len();
            let mut rows = claim.query(named_params! {
                ":worker_id": worker,
                ":queue": queue,
                ":priority": priority,
                ":now": now_ms,
                ":limit": i64::try_from(want).unwrap_or(i64::MAX),
                ":job_types": job_types.as_json(),
            })?;
            let first = claimed.len();
            // Columns by position, in the order of the statement's RETURNING clause (a
            // unit test in sql.rs checks the names): looking names up per row cost a
            // twentieth of the dispatcher's time.
            while let Some(r) = rows.next()? {
                claimed.push(ClaimedRun {
                    id: r.get(0)?,
                    task_id: r.get(1)?,
                    job_type: r.get(2)?,
                    payload: r.get(3)?,
                    attempt: narrow("task_runs.attempt", r.get(4)?)?,
                    max_attempts: narrow("task_runs.max_attempts", r.get(5)?)?,
                    timeout: dur_ms_opt(r.get(6)?),
                    backoff: dur_ms(r.get(7)?),
                    priority: narrow("task_runs.priority", r.get(8)?)?,
                    scheduled_at: ts(r.get(9)?)?,
                    unique_key: r.get(10)?,
                    token: r.get(11)?,
                    snoozes: narrow("task_runs.snoozes", r.get(12)?)?,
                    queue: r.get(13)?,
                    lease_expires_at,
                });
            }
            drop(rows);
            // RETURNING does not promise the subquery's order.
            claimed[first..].sort_by_key(|c| (c.scheduled_at, c.id));
            for c in &claimed[first..] {
                // (:run_id, :worker_id, :token, :now, :expires_at, :expires_mono),
                // checked in sql.rs.
                lock.execute(params![
                    c.id,
                    worker,
                    c.token,
                    now_ms,
                    expires_ms,
                    expires_mono
                ])?;
            }
            at_most = priority - 1;
        }
        Ok(claimed)
    }

    /// Renews the leases of `attempts` (each named by its run and fencing token) that
    /// `worker` still holds, to `lease_ttl` after `now` on the wall clock and after
    /// `host` on the monotonic clock, and returns those renewed. An attempt missing from
    /// the answer was lost (rescued after expiry, or taken by another worker). Leases of
    /// `worker` that are not named are left to expire: a worker renews only what it
    /// knows it runs.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a lease that does not fit in time; database errors.
    pub fn renew_leases(
        &self,
        worker: WorkerId,
        attempts: &[(RunId, i64)],
        now: OffsetDateTime,
        host: HostInstant,
        lease_ttl: Duration,
    ) -> Result<Vec<(RunId, i64)>> {
        let expires_ms = add_ms("lease duration", ms(now), lease_ttl)?;
        let expires_mono = host.after(lease_ttl).millis();
        let mut stmt = self.conn().prepare_cached(sql::LOCKS_RENEW)?;
        let mut renewed = Vec::with_capacity(attempts.len());
        for &(run, token) in attempts {
            let n = stmt.execute(named_params! {
                ":run_id": run,
                ":token": token,
                ":worker_id": worker,
                ":expires_at": expires_ms,
                ":expires_mono": expires_mono,
            })?;
            if n == 1 {
                renewed.push((run, token));
            }
        }
        Ok(renewed)
    }

    /// Records how an attempt ended, fenced by the lease `(run, token)`, drops the lease,
    /// and settles the run's dependents when it finished (completion unblocks them; a
    /// permanent failure or a cancellation cancels those that asked for it).
    ///
    /// # Errors
    /// [`Error::LeaseLost`] when the run is no longer running under this lease (nothing
    /// is written); database errors.
    pub fn finish_attempt(
        &self,
        run: RunId,
        token: i64,
        outcome: &AttemptOutcome,
        timing: Option<AttemptTiming>,
        now: OffsetDateTime,
    ) -> Result<Finished> {
        let now_ms = ms(now);
        let started_at = timing.map(|t| ms(t.started_at));
        let duration = timing
            .map(|t| duration_ms("duration", t.duration))
            .transpose()?;
        let ended = |r: &rusqlite::Row<'_>| -> rusqlite::Result<(RunStatus, Option<String>)> {
            Ok((r.get(0)?, r.get(1)?))
        };
        let status: Option<(RunStatus, Option<String>)> = match outcome {
            AttemptOutcome::Completed { result } => {
                // (:result, :started_at, :duration_ms, :now, :id, :token), checked in
                // sql.rs: the hot path binds by position.
                let changed = self
                    .conn()
                    .prepare_cached(sql::RUNS_COMPLETE_FENCED)?
                    .execute(params![result, started_at, duration, now_ms, run, token])?;
                (changed == 1).then_some((RunStatus::Completed, None))
            }
            AttemptOutcome::Retry { error, retry_at } => self
                .conn()
                .prepare_cached(sql::RUNS_RETRY_FENCED)?
                .query_row(
                    named_params! {
                        ":id": run, ":token": token, ":retry_at": ms(*retry_at),
                        ":started_at": started_at, ":duration_ms": duration,
                        ":message": error.message, ":error": error.to_json()?, ":now": now_ms,
                    },
                    ended,
                )
                .optional()?,
            AttemptOutcome::Fail { error } => self
                .conn()
                .prepare_cached(sql::RUNS_FAIL_FENCED)?
                .query_row(
                    named_params! {
                        ":id": run, ":token": token,
                        ":started_at": started_at, ":duration_ms": duration,
                        ":message": error.message, ":error": error.to_json()?, ":now": now_ms,
                    },
                    ended,
                )
                .optional()?,
            AttemptOutcome::Cancel { reason } => self
                .conn()
                .prepare_cached(sql::RUNS_CANCEL_FENCED)?
                .query_row(
                    named_params! {
                        ":id": run, ":token": token, ":reason": reason,
                        ":started_at": started_at, ":duration_ms": duration, ":now": now_ms,
                    },
                    ended,
                )
                .optional()?,
            AttemptOutcome::Snooze { until } => self
                .conn()
                .prepare_cached(sql::RUNS_SNOOZE_FENCED)?
                .query_row(
                    named_params! {
                        ":id": run, ":token": token, ":until": ms(*until),
                        ":started_at": started_at, ":duration_ms": duration, ":now": now_ms,
                    },
                    ended,
                )
                .optional()?,
            AttemptOutcome::Release { reason } => self
                .conn()
                .prepare_cached(sql::RUNS_RELEASE_FENCED)?
                .query_row(
                    named_params! { ":id": run, ":token": token, ":reason": reason, ":now": now_ms },
                    ended,
                )
                .optional()?,
        };
        let Some((status, cancel_reason)) = status else {
            return Err(Error::LeaseLost { run, token });
        };
        self.conn()
            .prepare_cached(sql::LOCKS_DELETE)?
            .execute(params![run, token])?;
        let unblocked = match status {
            RunStatus::Completed => self.settle_dependents(run, true, now)?,
            RunStatus::Failed | RunStatus::Cancelled => self.settle_dependents(run, false, now)?,
            _ => 0,
        };
        Ok(Finished {
            status,
            unblocked,
            cancel_reason,
        })
    }
}
