//! `tasks` on PostgreSQL: persisted definitions of work (schedules and named tasks),
//! with optimistic locking on every change and soft delete. The contract is SQLite's
//! (`store/tasks.rs`), occurrences included: one that has started runs to its end
//! under the definition it started with; one that has not follows the task's latest
//! definition (removing or disabling the task cancels it, a new timing cancels it
//! unless its time is also one of the new timing, new run options apply to it).
//!
//! Several hosts write at once (READ COMMITTED), so each read-then-write holds the row
//! it decides on: an update locks the task before it merges the change into it, the
//! occurrences it cancels are locked before they are judged, and a name clash is
//! settled by the unique index itself (`ON CONFLICT DO NOTHING`), never by catching a
//! violation, which would abort the transaction.

use postgres::Row;
use time::OffsetDateTime;

use super::{sql, tx::PgTx, types::flag};
use crate::{
    backend::values::{dur_ms, dur_ms_opt, ms, narrow, ts, ts_opt},
    error::{Error, Result},
    model::time::duration_ms,
    model::{
        NewTask, RunId, SCHEDULE_CHANGED, SCHEDULE_DISABLED, SCHEDULE_REMOVED, Schedule, Task,
        TaskId, TaskUpdate,
    },
    schedule::Recurrence,
    schedule::definition::{is_time_of, schedule_columns, validate_new_task},
};

/// A task from a row with the columns of `tasks_get.sql` (payload read as text).
pub(super) fn task_from_row(r: &Row) -> Result<Task> {
    let kind: String = r.try_get("schedule_kind")?;
    let schedule = match kind.as_str() {
        "cron" => Schedule::Cron {
            expr: r.try_get("cron_expr")?,
            timezone: r.try_get("timezone")?,
        },
        "interval" => Schedule::Interval(dur_ms(r.try_get("interval_ms")?)),
        _ => Schedule::None,
    };
    Ok(Task {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        job_type: r.try_get("job_type")?,
        payload: r.try_get("payload")?,
        priority: narrow("tasks.priority", r.try_get("priority")?)?,
        max_attempts: narrow("tasks.max_attempts", r.try_get("max_attempts")?)?,
        timeout: dur_ms_opt(r.try_get("timeout_ms")?),
        backoff: dur_ms(r.try_get("backoff_ms")?),
        unique_key: r.try_get("unique_key")?,
        schedule,
        misfire_policy: r.try_get("misfire_policy")?,
        misfire_cap: narrow("tasks.misfire_cap", r.try_get("misfire_cap")?)?,
        next_run_at: ts_opt(r.try_get("next_run_at")?)?,
        last_run_at: ts_opt(r.try_get("last_run_at")?)?,
        enabled: r.try_get::<_, i16>("enabled")? == 1,
        deleted_at: ts_opt(r.try_get("deleted_at")?)?,
        version: r.try_get("version")?,
        created_at: ts(r.try_get("created_at")?)?,
        updated_at: ts(r.try_get("updated_at")?)?,
        queue: r.try_get("queue")?,
    })
}

/// A timeout as bound (`bigint` milliseconds, NULL for none).
fn timeout_ms(t: Option<std::time::Duration>) -> Result<Option<i64>> {
    Ok(t.map(|t| duration_ms("timeout", t)).transpose()?)
}

// Reads.
impl PgTx<'_> {
    /// The task with this id (soft-deleted ones included: check `deleted_at`).
    ///
    /// # Errors
    /// [`Error::TaskNotFound`]; database errors.
    pub(crate) fn get_task(&self, id: TaskId) -> Result<Task> {
        match self.query_opt(sql::TASKS_GET, &[&id])? {
            Some(row) => task_from_row(&row),
            None => Err(Error::TaskNotFound(id)),
        }
    }

    /// The task with this id (live or deleted), if any.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn find_task(&self, id: TaskId) -> Result<Option<Task>> {
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
    pub(crate) fn find_task_by_name(&self, name: &str) -> Result<Option<Task>> {
        self.query_opt(sql::TASKS_GET_BY_NAME, &[&name])?
            .as_ref()
            .map(task_from_row)
            .transpose()
    }

    /// Every task, by id; soft-deleted ones only when asked.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn list_tasks(&self, include_deleted: bool) -> Result<Vec<Task>> {
        self.query(sql::TASKS_LIST, &[&flag(include_deleted)])?
            .iter()
            .map(task_from_row)
            .collect()
    }
}

// Writes.
impl PgTx<'_> {
    /// Creates a task.
    ///
    /// The name is claimed by the insert itself: `ON CONFLICT` on the index of live
    /// names (`tasks_name_live`) inserts nothing when a live task has it, including one
    /// another transaction is creating (the insert waits for that one to end), and the
    /// transaction goes on to report the clash.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for values outside the schema's limits;
    /// [`Error::TaskNameTaken`] when a live task has the name; database errors.
    pub(crate) fn create_task(&self, task: &NewTask, now: OffsetDateTime) -> Result<Task> {
        validate_new_task(task)?;
        let s = schedule_columns(&task.schedule)?;
        let row = self.query_opt(
            sql::TASKS_INSERT,
            &[
                &task.name,
                &task.job_type,
                &task.payload,
                &i64::from(task.priority),
                &i64::from(task.max_attempts),
                &timeout_ms(task.timeout)?,
                &duration_ms("backoff", task.backoff)?,
                &task.unique_key,
                &s.kind,
                &s.cron,
                &s.interval_ms,
                &s.timezone,
                &task.misfire_policy,
                &i64::from(task.misfire_cap),
                &task.next_run_at.map(ms),
                &flag(task.enabled),
                &ms(now),
                &task.queue,
            ],
        )?;
        match row {
            Some(row) => task_from_row(&row),
            None => Err(Error::TaskNameTaken(task.name.clone())),
        }
    }

    /// Applies `update` to the task if it is still at `expected_version`, and returns
    /// the task as it is now (at the next version).
    ///
    /// The task is read locked (`FOR NO KEY UPDATE`) before the change is merged into
    /// it: a materializer moving `next_run_at` meanwhile (which keeps the version) would
    /// otherwise be undone by the merged row, and one creating occurrences under the old
    /// definition would otherwise commit them unseen by the cancellations below (it
    /// locks the task too, see `runs_insert_occurrence.sql`).
    ///
    /// # Errors
    /// [`Error::VersionConflict`] when someone changed the task since `expected_version`
    /// (nothing is written); [`Error::TaskNotFound`] when it does not exist or was
    /// deleted; [`Error::InvalidArgument`]; database errors.
    pub(crate) fn update_task(
        &self,
        id: TaskId,
        expected_version: i64,
        update: &TaskUpdate,
        now: OffsetDateTime,
    ) -> Result<Task> {
        let current = match self.query_opt(sql::TASKS_GET_FOR_UPDATE, &[&id])? {
            Some(row) => task_from_row(&row)?,
            None => return Err(Error::TaskNotFound(id)),
        };
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
        next.unique_key = update
            .unique_key
            .clone()
            .unwrap_or_else(|| current.unique_key.clone());
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
        // Compared as stored: the payload as jsonb normalised it, so a payload that
        // differs only in spacing or key order counts as a change (the occurrences get
        // the same document again).
        let options_changed = next.payload != current.payload
            || next.priority != current.priority
            || next.max_attempts != current.max_attempts
            || next.timeout != current.timeout
            || next.backoff != current.backoff
            || next.queue != current.queue;
        let last_run_at = update.last_run_at.unwrap_or(current.last_run_at);
        let s = schedule_columns(&next.schedule)?;
        let updated = self.query_opt(
            sql::TASKS_UPDATE,
            &[
                &id,
                &expected_version,
                &next.payload,
                &i64::from(next.priority),
                &i64::from(next.max_attempts),
                &timeout_ms(next.timeout)?,
                &duration_ms("backoff", next.backoff)?,
                &next.unique_key,
                &s.kind,
                &s.cron,
                &s.interval_ms,
                &s.timezone,
                &next.misfire_policy,
                &i64::from(next.misfire_cap),
                &next.next_run_at.map(ms),
                &last_run_at.map(ms),
                &flag(next.enabled),
                &ms(now),
                &next.queue,
            ],
        )?;
        let Some(updated) = updated else {
            return Err(self.version_conflict(id, expected_version));
        };
        // What the update returned is the task as it is now: the cancellations and
        // option changes below touch runs only.
        let task = task_from_row(&updated)?;
        if !next.enabled {
            self.cancel_waiting_occurrences(id, SCHEDULE_DISABLED, |_| true, now)?;
            return Ok(task);
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
            self.execute(
                sql::RUNS_UPDATE_WAITING_OCCURRENCES,
                &[
                    &id,
                    &next.payload,
                    &i64::from(next.priority),
                    &i64::from(next.max_attempts),
                    &timeout_ms(next.timeout)?,
                    &duration_ms("backoff", next.backoff)?,
                    &next.queue,
                ],
            )?;
        }
        Ok(task)
    }

    /// Cancels the occurrences of `task` that have not started and whose time `drop`
    /// selects, with their dependents. Returns how many were cancelled. The occurrences
    /// are read locked, so none is claimed between the read and its cancel (a claim
    /// that got there first has taken it out of the list).
    fn cancel_waiting_occurrences(
        &self,
        task: TaskId,
        reason: &str,
        drop: impl Fn(OffsetDateTime) -> bool,
        now: OffsetDateTime,
    ) -> Result<usize> {
        let waiting = self.query(sql::RUNS_WAITING_OCCURRENCES, &[&task])?;
        let mut cancelled = 0;
        for row in &waiting {
            let run: RunId = row.try_get("id")?;
            let at: i64 = row.try_get("scheduled_at")?;
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
    pub(crate) fn delete_task(
        &self,
        id: TaskId,
        expected_version: i64,
        now: OffsetDateTime,
    ) -> Result<()> {
        // One statement: the version test and the write are atomic (a concurrent
        // change makes it match nothing once that change commits).
        let changed = self.execute(sql::TASKS_SOFT_DELETE, &[&id, &expected_version, &ms(now)])?;
        if changed == 0 {
            return Err(self.version_conflict(id, expected_version));
        }
        self.cancel_waiting_occurrences(id, SCHEDULE_REMOVED, |_| true, now)?;
        Ok(())
    }

    /// Why a versioned write to `id` changed nothing.
    fn version_conflict(&self, id: TaskId, expected: i64) -> Error {
        let found = self.query_opt(sql::TASKS_VERSION, &[&id]).and_then(|row| {
            row.map(|r| -> Result<(i64, i16)> {
                Ok((r.try_get("version")?, r.try_get("is_deleted")?))
            })
            .transpose()
        });
        match found {
            Ok(Some((_, 1)) | None) => Error::TaskNotFound(id),
            Ok(Some((version, _))) => Error::VersionConflict {
                task: id,
                expected,
                found: version,
            },
            Err(e) => e,
        }
    }
}
