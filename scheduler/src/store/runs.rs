//! `task_runs`: enqueue, read, list, count, cancel and retry by hand.

use rusqlite::{OptionalExtension, Row, named_params, params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{
        AttemptError, CancelOutcome, Inserted, NewRun, Run, RunId, RunStatus, dur_ms, dur_ms_opt,
        ms, narrow, ts, ts_opt,
    },
};
use crate::{
    backend::rules::plan_retry,
    error::{Error, Result},
    model::time::duration_ms,
    model::{RunFilter, StatusCounts},
};

pub(crate) fn run_from_row(r: &Row<'_>) -> Result<Run> {
    let errors: Option<String> = r.get("errors")?;
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
        id: r.get("id")?,
        task_id: r.get("task_id")?,
        job_type: r.get("job_type")?,
        payload: r.get("payload")?,
        status: r.get("status")?,
        priority: narrow("task_runs.priority", r.get("priority")?)?,
        attempt: narrow("task_runs.attempt", r.get("attempt")?)?,
        max_attempts: narrow("task_runs.max_attempts", r.get("max_attempts")?)?,
        timeout: dur_ms_opt(r.get("timeout_ms")?),
        backoff: dur_ms(r.get("backoff_ms")?),
        unique_key: r.get("unique_key")?,
        scheduled_at: ts(r.get("scheduled_at")?)?,
        blocked_on: narrow("task_runs.blocked_on", r.get("blocked_on")?)?,
        worker_id: r.get("worker_id")?,
        lease_token: r.get("lease_token")?,
        cancel_requested: r.get::<_, i64>("cancel_requested")? == 1,
        cancel_reason: r.get("cancel_reason")?,
        started_at: ts_opt(r.get("started_at")?)?,
        finished_at: ts_opt(r.get("finished_at")?)?,
        duration: dur_ms_opt(r.get("duration_ms")?),
        result: r.get("result")?,
        last_error: r.get("last_error")?,
        errors,
        created_at: ts(r.get("created_at")?)?,
        snoozes: narrow("task_runs.snoozes", r.get("snoozes")?)?,
        queue: r.get("queue")?,
    })
}

impl ReadTx<'_> {
    /// The run with this id.
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; database errors.
    pub fn get_run(&self, id: RunId) -> Result<Run> {
        self.find_run(id)?.ok_or(Error::RunNotFound(id))
    }

    /// The run with this id, if it exists.
    ///
    /// # Errors
    /// Database errors.
    pub fn find_run(&self, id: RunId) -> Result<Option<Run>> {
        let mut stmt = self.conn().prepare_cached(sql::RUNS_GET)?;
        let mut rows = stmt.query(named_params! { ":id": id })?;
        rows.next()?.map(run_from_row).transpose()
    }

    /// The status of a run.
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; database errors.
    pub fn run_status(&self, id: RunId) -> Result<RunStatus> {
        self.conn()
            .prepare_cached(sql::RUNS_GET_STATUS)?
            .query_row(named_params! { ":id": id }, |r| r.get(0))
            .optional()?
            .ok_or(Error::RunNotFound(id))
    }

    /// Runs matching `filter`, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        let mut stmt = self.conn().prepare_cached(sql::RUNS_LIST)?;
        let mut rows = stmt.query(named_params! {
            ":status": filter.status,
            ":job_type": filter.job_type,
            ":queue": filter.queue,
            ":task_id": filter.task_id,
            ":created_after": filter.created_after.map(ms),
            ":created_before": filter.created_before.map(ms),
            ":before_id": filter.before_id,
            ":limit": filter.limit,
        })?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(run_from_row(row)?);
        }
        Ok(out)
    }

    /// Whether nothing is to be done at `now`: no run running, none pending and due, no
    /// ending waiting in the settle queue (seeks only).
    ///
    /// # Errors
    /// Database errors.
    pub fn is_idle(&self, now: OffsetDateTime) -> Result<bool> {
        let mut stmt = self.conn().prepare_cached(sql::RUNS_IDLE)?;
        Ok(stmt.query_row(named_params! { ":now": ms(now) }, |r| r.get(0))?)
    }

    /// Unfinished runs by job type and status (for the metrics gauges).
    ///
    /// # Errors
    /// Database errors.
    pub fn count_unfinished_by_type(&self) -> Result<Vec<(String, RunStatus, u64)>> {
        let mut stmt = self.conn().prepare_cached(sql::RUNS_UNFINISHED_BY_TYPE)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, RunStatus>(1)?,
                u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many runs are in each status (answered from indexes).
    ///
    /// # Errors
    /// Database errors.
    pub fn count_runs_by_status(&self) -> Result<StatusCounts> {
        let mut stmt = self.conn().prepare_cached(sql::RUNS_COUNT_BY_STATUS)?;
        let mut rows = stmt.query([])?;
        let mut counts = StatusCounts::default();
        while let Some(row) = rows.next()? {
            let status: RunStatus = row.get(0)?;
            let n = u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
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

    /// The unfinished run holding `key`, if any.
    ///
    /// # Errors
    /// Database errors.
    pub fn live_run_by_unique_key(&self, key: &str) -> Result<Option<(RunId, RunStatus)>> {
        Ok(self
            .conn()
            .prepare_cached(sql::RUNS_FIND_LIVE_BY_UNIQUE_KEY)?
            .query_row(named_params! { ":unique_key": key }, |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// Inserts one run (status `pending`). When the run has a unique key that an
    /// unfinished run already holds, nothing is inserted and that run is returned with
    /// `created: false`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a value outside the schema's limits (nothing is
    /// written); database errors (e.g. an unknown `task_id`).
    pub fn insert_run(&self, run: &NewRun, now: OffsetDateTime) -> Result<Inserted> {
        self.insert_runs(std::slice::from_ref(run), now)?
            .pop()
            .ok_or_else(|| Error::invalid("run", "was not inserted"))
    }

    /// Inserts several runs in this transaction (all or none: an error leaves the
    /// transaction to be rolled back). Each run is validated before any is written.
    ///
    /// # Errors
    /// As [`WriteTx::insert_run`].
    pub fn insert_runs(&self, runs: &[NewRun], now: OffsetDateTime) -> Result<Vec<Inserted>> {
        for run in runs {
            run.validate()?;
        }
        // One statement for the whole batch, bound by position: taking a cached
        // statement and looking each parameter up by name per row cost a fifth of a
        // batched enqueue.
        let mut insert = self.conn().prepare_cached(sql::RUNS_INSERT)?;
        let now = ms(now);
        let mut out = Vec::with_capacity(runs.len());
        for run in runs {
            if let Some(key) = &run.unique_key {
                if let Some((id, status)) = self.live_run_by_unique_key(key)? {
                    out.push(Inserted {
                        id,
                        created: false,
                        status,
                    });
                    continue;
                }
            }
            let timeout_ms = run.timeout.map(|t| duration_ms("timeout", t)).transpose()?;
            // In the order the statement names them (checked by a unit test in sql.rs).
            insert.execute(params![
                run.task_id,
                run.job_type,
                run.payload,
                run.priority,
                run.max_attempts,
                timeout_ms,
                duration_ms("backoff", run.backoff)?,
                run.unique_key,
                ms(run.scheduled_at),
                now,
                run.queue,
            ])?;
            out.push(Inserted {
                id: RunId::new(self.conn().last_insert_rowid()),
                created: true,
                status: RunStatus::Pending,
            });
        }
        Ok(out)
    }

    /// Cancels a run: a blocked or pending run is cancelled at once (and its dependents
    /// in turn, reason `upstream_failed`); a running run gets its cancellation flag set
    /// and is finished by its holder.
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; [`Error::InvalidRunState`] when the run already finished.
    pub fn cancel_run(
        &self,
        id: RunId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<CancelOutcome> {
        let status = self.run_status(id)?;
        match status {
            RunStatus::Blocked | RunStatus::Pending => {
                self.cancel_waiting(id, reason, now)?;
                Ok(CancelOutcome::Cancelled)
            }
            RunStatus::Running => {
                self.conn()
                    .prepare_cached(sql::RUNS_REQUEST_CANCEL)?
                    .execute(named_params! { ":id": id, ":reason": reason })?;
                Ok(CancelOutcome::Requested)
            }
            finished => Err(Error::InvalidRunState {
                run: id,
                status: finished,
                operation: "cancel",
            }),
        }
    }

    /// Cancels a run that has not started (blocked or pending) and its dependents.
    pub(crate) fn cancel_waiting(
        &self,
        id: RunId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let changed = self
            .conn()
            .prepare_cached(sql::RUNS_CANCEL_WAITING)?
            .execute(named_params! { ":id": id, ":reason": reason, ":now": ms(now) })?;
        if changed > 0 {
            self.settle_dependents(id, false, now)?;
        }
        Ok(())
    }

    /// Puts a failed or cancelled run back, due now, with at least one attempt left.
    /// Its history (attempts, errors) is kept. Dependents that were cancelled because
    /// of it stay cancelled (retry them in turn).
    ///
    /// Its upstream edges are looked at again: an upstream that completed (or that
    /// ended otherwise, through an `on_failure = run` edge) stays settled; one that has
    /// not finished makes the run wait for it again, so the run goes back to `blocked`,
    /// not `pending`. A run whose upstream failed or was cancelled through an
    /// `on_failure = cancel` edge cannot be retried while that upstream stays so:
    /// retry the upstream first, then this run waits for it.
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; [`Error::InvalidRunState`] when the run is not failed or
    /// cancelled, or has used the most attempts a run may have;
    /// [`Error::UpstreamNotRetried`] when an upstream still bars it;
    /// [`Error::UniqueKeyTaken`] when another unfinished run holds its unique key.
    pub fn retry_run(&self, id: RunId, now: OffsetDateTime) -> Result<()> {
        let run = self.get_run(id)?;
        let holder = match &run.unique_key {
            Some(key) => self.live_run_by_unique_key(key)?.map(|(holder, _)| holder),
            None => None,
        };
        let plan = plan_retry(&run, holder, &self.upstream_of(id)?)?;
        let blocked_on = plan.blocked_on;
        let mut set = self.conn().prepare_cached(sql::DEPS_SET_RESOLVED)?;
        for (upstream, settled) in plan.reopen {
            set.execute(named_params! {
                ":downstream_id": id,
                ":upstream_id": upstream,
                ":resolved": i64::from(settled),
            })?;
        }
        self.conn()
            .prepare_cached(sql::RUNS_RETRY_FINISHED)?
            .execute(named_params! { ":id": id, ":now": ms(now), ":blocked_on": blocked_on })?;
        Ok(())
    }

    /// Gives run `id`, inserted in this transaction as a copy of `from` (another
    /// database's run), `from`'s attempts, errors and enqueue time; false (nothing
    /// changed) when `id` has started here already.
    ///
    /// # Errors
    /// Database errors.
    pub fn restore_history(&self, id: RunId, from: &Run) -> Result<bool> {
        let changed = self
            .conn()
            .prepare_cached(sql::RUNS_RESTORE_HISTORY)?
            .execute(named_params! {
                ":id": id,
                ":attempt": from.attempt,
                ":errors": AttemptError::history_json(&from.errors)?,
                ":last_error": from.last_error,
                ":created_at": ms(from.created_at),
            })?;
        Ok(changed > 0)
    }
}
