//! `tasks`: persisted definitions of work (schedules and named tasks), with optimistic
//! locking on every change and soft delete.
//!
//! **Occurrences already created** when a task changes. An occurrence that has started
//! (it is running, or waits for a retry) runs to its end under the definition it started
//! with. One that has not started yet follows the task's latest definition: removing or
//! disabling the task cancels it (reason `schedule removed` / `schedule disabled`),
//! changing the task's timing cancels it unless its time is also a time of the new
//! timing (`schedule changed`), and a new payload or new run options apply to it.

use rusqlite::{OptionalExtension, Row, named_params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{TaskId, dur_ms, dur_ms_opt, ms, narrow, ts, ts_opt},
};
use crate::{
    error::{Error, Result},
    model::time::duration_ms,
    model::{
        NewTask, SCHEDULE_CHANGED, SCHEDULE_DISABLED, SCHEDULE_REMOVED, Schedule, Task, TaskUpdate,
    },
    schedule::Recurrence,
    schedule::definition::{is_time_of, schedule_columns, validate_new_task},
    store::types::RunId,
};

pub(crate) fn task_from_row(r: &Row<'_>) -> Result<Task> {
    let kind: String = r.get("schedule_kind")?;
    let schedule = match kind.as_str() {
        "cron" => Schedule::Cron {
            expr: r.get("cron_expr")?,
            timezone: r.get("timezone")?,
        },
        "interval" => Schedule::Interval(dur_ms(r.get("interval_ms")?)),
        _ => Schedule::None,
    };
    Ok(Task {
        id: r.get("id")?,
        name: r.get("name")?,
        job_type: r.get("job_type")?,
        payload: r.get("payload")?,
        priority: narrow("tasks.priority", r.get("priority")?)?,
        max_attempts: narrow("tasks.max_attempts", r.get("max_attempts")?)?,
        timeout: dur_ms_opt(r.get("timeout_ms")?),
        backoff: dur_ms(r.get("backoff_ms")?),
        unique_key: r.get("unique_key")?,
        schedule,
        misfire_policy: r.get("misfire_policy")?,
        misfire_cap: narrow("tasks.misfire_cap", r.get("misfire_cap")?)?,
        next_run_at: ts_opt(r.get("next_run_at")?)?,
        last_run_at: ts_opt(r.get("last_run_at")?)?,
        enabled: r.get::<_, i64>("enabled")? == 1,
        deleted_at: ts_opt(r.get("deleted_at")?)?,
        version: r.get("version")?,
        created_at: ts(r.get("created_at")?)?,
        updated_at: ts(r.get("updated_at")?)?,
        queue: r.get("queue")?,
    })
}

impl ReadTx<'_> {
    /// The task with this id (soft-deleted ones included: check `deleted_at`).
    ///
    /// # Errors
    /// [`Error::TaskNotFound`]; database errors.
    pub fn get_task(&self, id: TaskId) -> Result<Task> {
        let mut stmt = self.conn().prepare_cached(sql::TASKS_GET)?;
        let mut rows = stmt.query(named_params! { ":id": id })?;
        match rows.next()? {
            Some(row) => task_from_row(row),
            None => Err(Error::TaskNotFound(id)),
        }
    }

    /// The task with this id (live or deleted), if any.
    ///
    /// # Errors
    /// Database errors.
    pub fn find_task(&self, id: TaskId) -> Result<Option<Task>> {
        match self.get_task(id) {
            Ok(t) => Ok(Some(t)),
            Err(Error::TaskNotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The live task with this name, if any.
    ///
    /// # Errors
    /// Database errors.
    pub fn find_task_by_name(&self, name: &str) -> Result<Option<Task>> {
        let mut stmt = self.conn().prepare_cached(sql::TASKS_GET_BY_NAME)?;
        let mut rows = stmt.query(named_params! { ":name": name })?;
        rows.next()?.map(task_from_row).transpose()
    }

    /// Every task, by id; soft-deleted ones only when asked.
    ///
    /// # Errors
    /// Database errors.
    pub fn list_tasks(&self, include_deleted: bool) -> Result<Vec<Task>> {
        let mut stmt = self.conn().prepare_cached(sql::TASKS_LIST)?;
        let mut rows =
            stmt.query(named_params! { ":include_deleted": i64::from(include_deleted) })?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(task_from_row(row)?);
        }
        Ok(out)
    }
}

impl WriteTx<'_> {
    /// Creates a task.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for values outside the schema's limits;
    /// [`Error::TaskNameTaken`] when a live task has the name; database errors.
    pub fn create_task(&self, task: &NewTask, now: OffsetDateTime) -> Result<Task> {
        validate_new_task(task)?;
        if self.find_task_by_name(&task.name)?.is_some() {
            return Err(Error::TaskNameTaken(task.name.clone()));
        }
        let s = schedule_columns(&task.schedule)?;
        self.conn()
            .prepare_cached(sql::TASKS_INSERT)?
            .execute(named_params! {
                ":name": task.name,
                ":job_type": task.job_type,
                ":payload": task.payload,
                ":priority": task.priority,
                ":max_attempts": task.max_attempts,
                ":timeout_ms": task.timeout.map(|t| duration_ms("timeout", t)).transpose()?,
                ":backoff_ms": duration_ms("backoff", task.backoff)?,
                ":unique_key": task.unique_key,
                ":schedule_kind": s.kind,
                ":cron_expr": s.cron,
                ":interval_ms": s.interval_ms,
                ":timezone": s.timezone,
                ":misfire_policy": task.misfire_policy,
                ":misfire_cap": task.misfire_cap,
                ":next_run_at": task.next_run_at.map(ms),
                ":enabled": i64::from(task.enabled),
                ":now": ms(now),
                ":queue": task.queue,
            })?;
        self.get_task(TaskId::new(self.conn().last_insert_rowid()))
    }

    /// Applies `update` to the task if it is still at `expected_version`, and returns
    /// the task as it is now (at the next version).
    ///
    /// # Errors
    /// [`Error::VersionConflict`] when someone changed the task since `expected_version`
    /// (nothing is written); [`Error::TaskNotFound`] when it does not exist or was
    /// deleted; [`Error::InvalidArgument`]; database errors.
    pub fn update_task(
        &self,
        id: TaskId,
        expected_version: i64,
        update: &TaskUpdate,
        now: OffsetDateTime,
    ) -> Result<Task> {
        let current = self.get_task(id)?;
        if current.deleted_at.is_some() {
            return Err(Error::TaskNotFound(id));
        }
        if current.version != expected_version {
            return Err(Error::VersionConflict {
                task: id,
                expected: expected_version,
                found: current.version,
            });
        }
        let mut next = NewTask::new(
            current.name.clone(),
            current.job_type.clone(),
            current.payload.clone(),
        );
        next.payload = update
            .payload
            .clone()
            .unwrap_or_else(|| current.payload.clone());
        next.priority = update.priority.unwrap_or(current.priority);
        next.max_attempts = update.max_attempts.unwrap_or(current.max_attempts);
        next.timeout = update.timeout.unwrap_or(current.timeout);
        next.backoff = update.backoff.unwrap_or(current.backoff);
        next.unique_key = update.unique_key.clone().unwrap_or(current.unique_key);
        next.schedule = update
            .schedule
            .clone()
            .unwrap_or_else(|| current.schedule.clone());
        next.misfire_policy = update.misfire_policy.unwrap_or(current.misfire_policy);
        next.misfire_cap = update.misfire_cap.unwrap_or(current.misfire_cap);
        next.next_run_at = update.next_run_at.unwrap_or(current.next_run_at);
        next.enabled = update.enabled.unwrap_or(current.enabled);
        next.queue = update
            .queue
            .clone()
            .unwrap_or_else(|| current.queue.clone());
        validate_new_task(&next)?;
        let timing_changed = next.schedule != current.schedule;
        let options_changed = next.payload != current.payload
            || next.priority != current.priority
            || next.max_attempts != current.max_attempts
            || next.timeout != current.timeout
            || next.backoff != current.backoff
            || next.queue != current.queue;
        let last_run_at = update.last_run_at.unwrap_or(current.last_run_at);
        let s = schedule_columns(&next.schedule)?;
        let changed = self
            .conn()
            .prepare_cached(sql::TASKS_UPDATE)?
            .execute(named_params! {
                ":id": id,
                ":version": expected_version,
                ":payload": next.payload,
                ":priority": next.priority,
                ":max_attempts": next.max_attempts,
                ":timeout_ms": next.timeout.map(|t| duration_ms("timeout", t)).transpose()?,
                ":backoff_ms": duration_ms("backoff", next.backoff)?,
                ":unique_key": next.unique_key,
                ":schedule_kind": s.kind,
                ":cron_expr": s.cron,
                ":interval_ms": s.interval_ms,
                ":timezone": s.timezone,
                ":misfire_policy": next.misfire_policy,
                ":misfire_cap": next.misfire_cap,
                ":next_run_at": next.next_run_at.map(ms),
                ":last_run_at": last_run_at.map(ms),
                ":enabled": i64::from(next.enabled),
                ":now": ms(now),
                ":queue": next.queue,
            })?;
        if changed == 0 {
            return Err(self.version_conflict(id, expected_version));
        }
        if !next.enabled {
            self.cancel_waiting_occurrences(id, SCHEDULE_DISABLED, |_| true, now)?;
            return self.get_task(id);
        }
        if timing_changed {
            let recurrence = Recurrence::of(&next.schedule)?;
            let anchor = next.next_run_at;
            self.cancel_waiting_occurrences(
                id,
                SCHEDULE_CHANGED,
                |t| !is_time_of(recurrence.as_ref(), anchor, t),
                now,
            )?;
        }
        if options_changed {
            self.conn()
                .prepare_cached(sql::RUNS_UPDATE_WAITING_OCCURRENCES)?
                .execute(named_params! {
                    ":task_id": id,
                    ":payload": next.payload,
                    ":priority": next.priority,
                    ":max_attempts": next.max_attempts,
                    ":timeout_ms": next.timeout.map(|t| duration_ms("timeout", t)).transpose()?,
                    ":backoff_ms": duration_ms("backoff", next.backoff)?,
                    ":queue": next.queue,
                })?;
        }
        self.get_task(id)
    }

    /// Cancels the occurrences of `task` that have not started and whose time `drop`
    /// selects, with their dependents. Returns how many were cancelled.
    fn cancel_waiting_occurrences(
        &self,
        task: TaskId,
        reason: &str,
        drop: impl Fn(OffsetDateTime) -> bool,
        now: OffsetDateTime,
    ) -> Result<usize> {
        let waiting: Vec<(RunId, i64)> = self
            .conn()
            .prepare_cached(sql::RUNS_WAITING_OCCURRENCES)?
            .query_map(named_params! { ":task_id": task }, |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut cancelled = 0;
        for (run, at) in waiting {
            if drop(ts(at)?) {
                self.cancel_waiting(run, reason, now)?;
                cancelled += 1;
            }
        }
        Ok(cancelled)
    }

    /// Soft-deletes the task if it is still at `expected_version`: it stops producing
    /// runs, its name is free again, and its existing runs keep their history.
    ///
    /// # Errors
    /// [`Error::VersionConflict`]; [`Error::TaskNotFound`]; database errors.
    pub fn delete_task(
        &self,
        id: TaskId,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<()> {
        let changed = self
            .conn()
            .prepare_cached(sql::TASKS_SOFT_DELETE)?
            .execute(named_params! { ":id": id, ":version": expected_version, ":now": ms(now) })?;
        if changed == 0 {
            return Err(self.version_conflict(id, expected_version));
        }
        self.cancel_waiting_occurrences(id, SCHEDULE_REMOVED, |_| true, now)?;
        Ok(())
    }

    /// Why a versioned write to `id` changed nothing.
    fn version_conflict(&self, id: TaskId, expected: i64) -> Error {
        let found = self
            .conn()
            .prepare_cached(sql::TASKS_VERSION)
            .and_then(|mut s| {
                s.query_row(named_params! { ":id": id }, |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })
                .optional()
            });
        match found {
            Ok(Some((_, 1)) | None) => Error::TaskNotFound(id),
            Ok(Some((version, _))) => Error::VersionConflict {
                task: id,
                expected,
                found: version,
            },
            Err(e) => e.into(),
        }
    }
}
