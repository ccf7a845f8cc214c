//! `task_locks`: claiming runs under leases, extending them, and the fenced writes that
//! finish an attempt. The fencing contract is SQLite's (`store/leases.rs`): every ending
//! names `(run_id, token)` and changes nothing unless the run is still running under
//! exactly that lease.
//!
//! What differs is time: a lease expires on the database's clock (`expires_mono` holds
//! the database's `clock_timestamp()` plus the lease, written by the claim and each
//! renewal), so hosts whose clocks disagree agree on when it expires. The wall-clock
//! `expires_at` from the holder's clock is kept for people.

use std::time::Duration;

use postgres::Row;
use time::OffsetDateTime;

use super::{PgTx, sql};
use crate::{
    backend::{
        Finished, JobTypeFilter,
        values::{dur_ms, dur_ms_opt, ms, narrow, ts},
    },
    error::{Error, Result},
    model::{
        AttemptOutcome, AttemptTiming, ClaimedRun, Lease, MAX_PRIORITY, RunId, RunStatus, WorkerId,
        time::{add_ms, duration_ms},
    },
};

fn lease_from_row(r: &Row) -> Result<Lease> {
    Ok(Lease {
        run_id: r.try_get("run_id")?,
        worker_id: r.try_get("worker_id")?,
        token: r.try_get("token")?,
        acquired_at: ts(r.try_get("acquired_at")?)?,
        expires_at: ts(r.try_get("expires_at")?)?,
    })
}

impl PgTx<'_> {
    pub(crate) fn lease_of(&self, run: RunId) -> Result<Option<Lease>> {
        self.query_opt(sql::LOCKS_GET, &[&run])?
            .as_ref()
            .map(lease_from_row)
            .transpose()
    }

    pub(crate) fn leases_of_worker(&self, worker: WorkerId) -> Result<Vec<Lease>> {
        self.query(sql::LOCKS_LIST_FOR_WORKER, &[&worker])?
            .iter()
            .map(lease_from_row)
            .collect()
    }

    pub(crate) fn cancel_requested_for_worker(&self, worker: WorkerId) -> Result<Vec<RunId>> {
        self.query(sql::RUNS_CANCEL_REQUESTED_FOR_WORKER, &[&worker])?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }

    /// As on SQLite: one seek per priority group present.
    pub(crate) fn next_due_unpaused(
        &self,
        after: OffsetDateTime,
        queue: &str,
        job_types: &JobTypeFilter,
    ) -> Result<Option<OffsetDateTime>> {
        let names = job_types.names();
        let after = ms(after);
        let mut next: Option<i64> = None;
        let mut at_most = i64::from(MAX_PRIORITY);
        while at_most >= 0 {
            let Some(group) = self.query_opt(sql::RUNS_CLAIM_NEXT_PRIORITY, &[&at_most, &queue])?
            else {
                break;
            };
            let p: i64 = group.try_get(0)?;
            if let Some(row) = self.query_opt(
                sql::RUNS_NEXT_DUE_IN_PRIORITY,
                &[&p, &after, &names, &queue],
            )? {
                let at: i64 = row.try_get(0)?;
                next = Some(next.map_or(at, |n| n.min(at)));
            }
            at_most = p - 1;
        }
        next.map(ts).transpose()
    }

    /// As on SQLite: highest priority first, oldest first within one; one statement
    /// per priority group claims its runs and writes their leases, skipping the rows
    /// other hosts' claimers hold (`FOR UPDATE SKIP LOCKED`).
    pub(crate) fn claim_unpaused(
        &self,
        worker: WorkerId,
        queue: &str,
        limit: usize,
        now: OffsetDateTime,
        lease_ttl: Duration,
        job_types: &JobTypeFilter,
    ) -> Result<Vec<ClaimedRun>> {
        let now_ms = ms(now);
        let expires_ms = add_ms("lease duration", now_ms, lease_ttl)?;
        let ttl_ms = duration_ms("lease duration", lease_ttl)?;
        let lease_expires_at = ts(expires_ms)?;
        let names = job_types.names();
        let mut claimed = Vec::new();
        let mut at_most = i64::from(MAX_PRIORITY);
        while claimed.len() < limit && at_most >= 0 {
            let Some(group) = self.query_opt(sql::RUNS_CLAIM_NEXT_PRIORITY, &[&at_most, &queue])?
            else {
                break;
            };
            let priority: i64 = group.try_get(0)?;
            let want = i64::try_from(limit - claimed.len()).unwrap_or(i64::MAX);
            let rows = self.query(
                sql::RUNS_CLAIM_GROUP,
                &[
                    &worker,
                    &priority,
                    &now_ms,
                    &want,
                    &names,
                    &expires_ms,
                    &ttl_ms,
                    &queue,
                ],
            )?;
            for r in &rows {
                claimed.push(ClaimedRun {
                    id: r.try_get(0)?,
                    task_id: r.try_get(1)?,
                    job_type: r.try_get(2)?,
                    payload: r.try_get(3)?,
                    attempt: narrow("task_runs.attempt", r.try_get(4)?)?,
                    max_attempts: narrow("task_runs.max_attempts", r.try_get(5)?)?,
                    timeout: dur_ms_opt(r.try_get(6)?),
                    backoff: dur_ms(r.try_get(7)?),
                    priority: narrow("task_runs.priority", r.try_get(8)?)?,
                    scheduled_at: ts(r.try_get(9)?)?,
                    unique_key: r.try_get(10)?,
                    token: r.try_get(11)?,
                    snoozes: narrow("task_runs.snoozes", r.try_get(12)?)?,
                    queue: r.try_get(13)?,
                    lease_expires_at,
                });
            }
            at_most = priority - 1;
        }
        Ok(claimed)
    }

    /// As on SQLite, in one statement for every attempt named.
    pub(crate) fn renew_leases(
        &self,
        worker: WorkerId,
        attempts: &[(RunId, i64)],
        now: OffsetDateTime,
        lease_ttl: Duration,
    ) -> Result<Vec<(RunId, i64)>> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        let expires_ms = add_ms("lease duration", ms(now), lease_ttl)?;
        let ttl_ms = duration_ms("lease duration", lease_ttl)?;
        let runs: Vec<i64> = attempts.iter().map(|(r, _)| r.get()).collect();
        let tokens: Vec<i64> = attempts.iter().map(|(_, t)| *t).collect();
        let rows = self.query(
            sql::LOCKS_RENEW,
            &[&worker, &runs, &tokens, &expires_ms, &ttl_ms],
        )?;
        let renewed = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<std::collections::HashSet<(RunId, i64)>>>()?;
        // In the order they were named, as on SQLite.
        Ok(attempts
            .iter()
            .filter(|a| renewed.contains(a))
            .copied()
            .collect())
    }

    /// As on SQLite. The fenced statement deletes the attempt's lease and writes the
    /// ending in one go (see `runs_complete_fenced.sql`).
    pub(crate) fn finish_attempt(
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
        let row = match outcome {
            AttemptOutcome::Completed { result } => self.query_opt(
                sql::RUNS_COMPLETE_FENCED,
                &[result, &started_at, &duration, &now_ms, &run, &token],
            )?,
            AttemptOutcome::Retry { error, retry_at } => self.query_opt(
                sql::RUNS_RETRY_FENCED,
                &[
                    &run,
                    &token,
                    &ms(*retry_at),
                    &started_at,
                    &duration,
                    &error.message,
                    &error.to_json()?,
                    &now_ms,
                ],
            )?,
            AttemptOutcome::Fail { error } => self.query_opt(
                sql::RUNS_FAIL_FENCED,
                &[
                    &run,
                    &token,
                    &started_at,
                    &duration,
                    &error.message,
                    &error.to_json()?,
                    &now_ms,
                ],
            )?,
            AttemptOutcome::Cancel { reason } => self.query_opt(
                sql::RUNS_CANCEL_FENCED,
                &[&run, &token, reason, &started_at, &duration, &now_ms],
            )?,
            AttemptOutcome::Snooze { until } => self.query_opt(
                sql::RUNS_SNOOZE_FENCED,
                &[&run, &token, &ms(*until), &started_at, &duration, &now_ms],
            )?,
            AttemptOutcome::Release { reason } => {
                self.query_opt(sql::RUNS_RELEASE_FENCED, &[&run, &token, reason, &now_ms])?
            }
        };
        let Some(row) = row else {
            return Err(Error::LeaseLost { run, token });
        };
        let status: RunStatus = row.try_get(0)?;
        let cancel_reason: Option<String> = if row.len() > 1 { row.try_get(1)? } else { None };
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
