//! `task_runs`: enqueue, read, list, count, cancel and retry by hand. The contracts are
//! those of the SQLite backend's methods of the same names (`store/runs.rs`).

use postgres::Row;
use time::OffsetDateTime;

use super::{PgTx, sql, types::flag};
use crate::{
    backend::rules::plan_retry,
    backend::values::{dur_ms, dur_ms_opt, ms, narrow, ts, ts_opt},
    error::{Error, Result},
    model::{
        AttemptError, CancelOutcome, Inserted, NewRun, Run, RunFilter, RunId, RunStatus,
        StatusCounts, time::duration_ms,
    },
};

/// How often an enqueue with a unique key tries again when the key's holder finished
/// between the insert that found it taken and the read of the holder: each round
/// means another host finished a run of that key meanwhile, so a few suffice.
const UNIQUE_KEY_ROUNDS: usize = 8;

pub(crate) fn run_from_row(r: &Row) -> Result<Run> {
    let errors: Option<String> = r.try_get("errors")?;
    let errors = match errors {
        None => Vec::new(),
        Some(text) => {
            serde_json::from_str::<Vec<AttemptError>>(&text).map_err(|e| Error::CorruptValue {
                column: "task_runs.errors",
                detail: e.to_string(),
            })?
        }
    };
    Ok(Run {
        id: r.try_get("id")?,
        task_id: r.try_get("task_id")?,
        job_type: r.try_get("job_type")?,
        payload: r.try_get("payload")?,
        status: r.try_get("status")?,
        priority: narrow("task_runs.priority", r.try_get("priority")?)?,
        attempt: narrow("task_runs.attempt", r.try_get("attempt")?)?,
        max_attempts: narrow("task_runs.max_attempts", r.try_get("max_attempts")?)?,
        timeout: dur_ms_opt(r.try_get("timeout_ms")?),
        backoff: dur_ms(r.try_get("backoff_ms")?),
        unique_key: r.try_get("unique_key")?,
        scheduled_at: ts(r.try_get("scheduled_at")?)?,
        blocked_on: narrow("task_runs.blocked_on", r.try_get("blocked_on")?)?,
        worker_id: r.try_get("worker_id")?,
        lease_token: r.try_get("lease_token")?,
        cancel_requested: r.try_get::<_, i16>("cancel_requested")? == 1,
        cancel_reason: r.try_get("cancel_reason")?,
        started_at: ts_opt(r.try_get("started_at")?)?,
        finished_at: ts_opt(r.try_get("finished_at")?)?,
        duration: dur_ms_opt(r.try_get("duration_ms")?),
        result: r.try_get("result")?,
        last_error: r.try_get("last_error")?,
        errors,
        created_at: ts(r.try_get("created_at")?)?,
        snoozes: narrow("task_runs.snoozes", r.try_get("snoozes")?)?,
        queue: r.try_get("queue")?,
    })
}

impl PgTx<'_> {
    pub(crate) fn get_run(&self, id: RunId) -> Result<Run> {
        self.find_run(id)?.ok_or(Error::RunNotFound(id))
    }

    pub(crate) fn find_run(&self, id: RunId) -> Result<Option<Run>> {
        self.query_opt(sql::RUNS_GET, &[&id])?
            .as_ref()
            .map(run_from_row)
            .transpose()
    }

    pub(crate) fn run_status(&self, id: RunId) -> Result<RunStatus> {
        match self.query_opt(sql::RUNS_GET_STATUS, &[&id])? {
            Some(row) => Ok(row.try_get(0)?),
            None => Err(Error::RunNotFound(id)),
        }
    }

    /// [`PgTx::run_status`], locking the run's row until the transaction ends.
    fn lock_run(&self, id: RunId) -> Result<RunStatus> {
        match self.query_opt(sql::RUNS_LOCK, &[&id])? {
            Some(row) => Ok(row.try_get(0)?),
            None => Err(Error::RunNotFound(id)),
        }
    }

    pub(crate) fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        let status = filter.status.map(|s| s.as_str());
        let created_after = filter.created_after.map(ms);
        let created_before = filter.created_before.map(ms);
        let limit = i64::from(filter.limit);
        self.query(
            sql::RUNS_LIST,
            &[
                &status,
                &filter.job_type,
                &filter.task_id,
                &created_after,
                &created_before,
                &filter.before_id,
                &limit,
                &filter.queue,
            ],
        )?
        .iter()
        .map(run_from_row)
        .collect()
    }

    pub(crate) fn is_idle(&self, now: OffsetDateTime) -> Result<bool> {
        let now = ms(now);
        Ok(self.query_one(sql::RUNS_IDLE, &[&now])?.try_get(0)?)
    }

    pub(crate) fn count_unfinished_by_type(&self) -> Result<Vec<(String, RunStatus, u64)>> {
        self.query(sql::RUNS_UNFINISHED_BY_TYPE, &[])?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get::<_, String>(0)?,
                    row.try_get::<_, RunStatus>(1)?,
                    u64::try_from(row.try_get::<_, i64>(2)?).unwrap_or(0),
                ))
            })
            .collect()
    }

    pub(crate) fn count_runs_by_status(&self) -> Result<StatusCounts> {
        let mut counts = StatusCounts::default();
        for row in self.query(sql::RUNS_COUNT_BY_STATUS, &[])? {
            let status: RunStatus = row.try_get(0)?;
            let n = u64::try_from(row.try_get::<_, i64>(1)?).unwrap_or(0);
            match status {
                RunStatus::Blocked => counts.blocked = n,
                RunStatus::Pending => counts.pending = n,
                RunStatus::Running => counts.running = n,
                RunStatus::Completed => counts.completed = n,
                RunStatus::Failed => counts.failed = n,
                RunStatus::Cancelled => counts.cancelled = n,
            }
        }
        Ok(counts)
    }

    pub(crate) fn live_run_by_unique_key(&self, key: &str) -> Result<Option<(RunId, RunStatus)>> {
        self.query_opt(sql::RUNS_FIND_LIVE_BY_UNIQUE_KEY, &[&key])?
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .transpose()
    }

    pub(crate) fn insert_run(&self, run: &NewRun, now: OffsetDateTime) -> Result<Inserted> {
        self.insert_runs(std::slice::from_ref(run), now)?
            .pop()
            .ok_or_else(|| Error::invalid("run", "was not inserted"))
    }

    /// As on SQLite; a unique key another unfinished run holds inserts nothing and
    /// answers that run. The insert itself decides (ON CONFLICT on the live-key index),
    /// so two hosts enqueueing one key at once create one run.
    pub(crate) fn insert_runs(
        &self,
        runs: &[NewRun],
        now: OffsetDateTime,
    ) -> Result<Vec<Inserted>> {
        for run in runs {
            run.validate()?;
        }
        let now = ms(now);
        if runs.len() > 1 && runs.iter().all(|r| r.unique_key.is_none()) {
            return self.insert_many(runs, now);
        }
        let mut out = Vec::with_capacity(runs.len());
        for run in runs {
            let timeout_ms = run.timeout.map(|t| duration_ms("timeout", t)).transpose()?;
            let backoff_ms = duration_ms("backoff", run.backoff)?;
            let (priority, max_attempts) = (i64::from(run.priority), i64::from(run.max_attempts));
            let scheduled_at = ms(run.scheduled_at);
            let mut inserted = None;
            for _ in 0..UNIQUE_KEY_ROUNDS {
                let row = self.query_opt(
                    sql::RUNS_INSERT,
                    &[
                        &run.task_id,
                        &run.job_type,
                        &run.payload,
                        &priority,
                        &max_attempts,
                        &timeout_ms,
                        &backoff_ms,
                        &run.unique_key,
                        &scheduled_at,
                        &now,
                        &run.queue,
                    ],
                )?;
                if let Some(row) = row {
                    inserted = Some(Inserted {
                        id: row.try_get(0)?,
                        created: true,
                        status: RunStatus::Pending,
                    });
                    break;
                }
                // Only the live-key index makes the insert do nothing.
                let key = run.unique_key.as_deref().unwrap_or_default();
                if let Some((id, status)) = self.live_run_by_unique_key(key)? {
                    inserted = Some(Inserted {
                        id,
                        created: false,
                        status,
                    });
                    break;
                }
            }
            out.push(inserted.ok_or_else(|| {
                super::errors::busy(
                    "a unique key's holders kept finishing while the run was enqueued",
                )
            })?);
        }
        Ok(out)
    }

    /// [`PgTx::insert_runs`] for a validated batch without unique keys: one statement.
    fn insert_many(&self, runs: &[NewRun], now: i64) -> Result<Vec<Inserted>> {
        let mut task_ids = Vec::with_capacity(runs.len());
        let (mut job_types, mut payloads) = (Vec::new(), Vec::new());
        let (mut priorities, mut max_attempts) = (Vec::new(), Vec::new());
        let (mut timeouts, mut backoffs, mut due) = (Vec::new(), Vec::new(), Vec::new());
        let mut queues = Vec::with_capacity(runs.len());
        for run in runs {
            queues.push(run.queue.as_str());
            task_ids.push(run.task_id.map(|t| t.get()));
            job_types.push(run.job_type.as_str());
            payloads.push(run.payload.as_str());
            priorities.push(i64::from(run.priority));
            max_attempts.push(i64::from(run.max_attempts));
            timeouts.push(run.timeout.map(|t| duration_ms("timeout", t)).transpose()?);
            backoffs.push(duration_ms("backoff", run.backoff)?);
            due.push(ms(run.scheduled_at));
        }
        let rows = self.query(
            sql::RUNS_INSERT_MANY,
            &[
                &task_ids,
                &job_types,
                &payloads,
                &priorities,
                &max_attempts,
                &timeouts,
                &backoffs,
                &due,
                &now,
                &queues,
            ],
        )?;
        let mut ids = rows
            .iter()
            .map(|r| r.try_get::<_, RunId>(0))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if ids.len() != runs.len() {
            return Err(Error::invalid(
                "batch",
                format!("{} runs given, {} inserted", runs.len(), ids.len()),
            ));
        }
        ids.sort_unstable();
        Ok(ids
            .into_iter()
            .map(|id| Inserted {
                id,
                created: true,
                status: RunStatus::Pending,
            })
            .collect())
    }

    pub(crate) fn cancel_run(
        &self,
        id: RunId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<CancelOutcome> {
        match self.lock_run(id)? {
            RunStatus::Blocked | RunStatus::Pending => {
                self.cancel_waiting(id, reason, now)?;
                Ok(CancelOutcome::Cancelled)
            }
            RunStatus::Running => {
                self.execute(sql::RUNS_REQUEST_CANCEL, &[&id, &reason])?;
                Ok(CancelOutcome::Requested)
            }
            finished => Err(Error::InvalidRunState {
                run: id,
                status: finished,
                operation: "cancel",
            }),
        }
    }

    pub(crate) fn cancel_waiting(
        &self,
        id: RunId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let changed = self.execute(sql::RUNS_CANCEL_WAITING, &[&id, &reason, &ms(now)])?;
        if changed > 0 {
            self.settle_dependents(id, false, now)?;
        }
        Ok(())
    }

    /// As on SQLite. The run's row and its upstreams' are locked first (in id order,
    /// as every locker of several runs takes them), so no other host retries, cancels
    /// or claims the run, and no upstream finishes unseen, while its upstream edges are
    /// looked at again: an upstream finishing meanwhile has either committed (and its
    /// status is read here) or waits for this retry and then settles the reopened edge.
    pub(crate) fn retry_run(&self, id: RunId, now: OffsetDateTime) -> Result<()> {
        let mut ids: Vec<i64> = self
            .upstream_of(id)?
            .iter()
            .map(|e| e.upstream.get())
            .collect();
        ids.push(id.get());
        ids.sort_unstable();
        ids.dedup();
        let locked = self.query(sql::DEPS_LOCK_RUNS, &[&ids])?;
        if !locked
            .iter()
            .any(|r| r.try_get::<_, RunId>("id").is_ok_and(|r| r == id))
        {
            return Err(Error::RunNotFound(id));
        }
        let run = self.get_run(id)?;
        let holder = match &run.unique_key {
            Some(key) => self.live_run_by_unique_key(key)?.map(|(holder, _)| holder),
            None => None,
        };
        let plan = plan_retry(&run, holder, &self.upstream_of(id)?)?;
        let blocked_on = i64::from(plan.blocked_on);
        for (upstream, settled) in plan.reopen {
            self.execute(sql::DEPS_SET_RESOLVED, &[&id, &upstream, &flag(settled)])?;
        }
        self.execute(sql::RUNS_RETRY_FINISHED, &[&id, &ms(now), &blocked_on])?;
        Ok(())
    }

    pub(crate) fn restore_history(&self, id: RunId, from: &Run) -> Result<bool> {
        let changed = self.execute(
            sql::RUNS_RESTORE_HISTORY,
            &[
                &id,
                &i64::from(from.attempt),
                &AttemptError::history_json(&from.errors)?,
                &from.last_error,
                &ms(from.created_at),
            ],
        )?;
        Ok(changed > 0)
    }
}
