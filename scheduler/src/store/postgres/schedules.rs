//! Schedules as the materializer sees them, on PostgreSQL: which are due, the
//! occurrence rows it creates, and moving each schedule on. (Definitions themselves are
//! in `tasks.rs`.) Several hosts may materialise the same schedule at once: each
//! occurrence is created once (`runs_insert_occurrence.sql`) and the schedule moved once
//! (`tasks_advance_schedule.sql`), each settled by the statement itself.

use time::OffsetDateTime;

use super::{sql, tasks::task_from_row, tx::PgTx};
use crate::{
    backend::values::{ms, ts},
    error::Result,
    model::time::duration_ms,
    model::{RunId, Task},
};

// Reads.
impl PgTx<'_> {
    /// Live, enabled schedules due by `until`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn due_schedules(&self, until: OffsetDateTime, limit: usize) -> Result<Vec<Task>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(sql::TASKS_DUE_SCHEDULES, &[&ms(until), &limit])?
            .iter()
            .map(task_from_row)
            .collect()
    }

    /// When the next occurrence of any live schedule is due.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn next_schedule_due(&self) -> Result<Option<OffsetDateTime>> {
        let row = self.query_one(sql::TASKS_NEXT_SCHEDULE_DUE, &[])?;
        let at: Option<i64> = row.try_get("next_run_at")?;
        at.map(ts).transpose()
    }
}

// Writes.
impl PgTx<'_> {
    /// Creates the occurrence of `task` at `at`, unless it exists already (created by
    /// another process) or the task's unique key is held by an unfinished run (the
    /// previous occurrence still runs). Returns the new run.
    ///
    /// Both exceptions are the unique indexes' own (`ON CONFLICT DO NOTHING`), so they
    /// hold against a transaction inserting the same row at the same time. One more, of
    /// this backend only: when the task is no longer at `task.version` (an edit or a
    /// delete committed since `task` was read), nothing is created, since the occurrence
    /// would follow a definition that is gone; the next materialisation reads the new
    /// one. The task's row stays locked until the transaction ends, so an edit waits for
    /// it and then judges the occurrences it created.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn insert_occurrence(
        &self,
        task: &Task,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<RunId>> {
        let timeout_ms = task
            .timeout
            .map(|t| duration_ms("timeout", t))
            .transpose()?;
        let row = self.query_opt(
            sql::RUNS_INSERT_OCCURRENCE,
            &[
                &task.id,
                &task.job_type,
                &task.payload,
                &i64::from(task.priority),
                &i64::from(task.max_attempts),
                &timeout_ms,
                &duration_ms("backoff", task.backoff)?,
                &task.unique_key,
                &ms(at),
                &ms(now),
                &task.version,
                &task.queue,
            ],
        )?;
        row.map(|r| r.try_get::<_, RunId>("id"))
            .transpose()
            .map_err(Into::into)
    }

    /// Moves a schedule from `expected` (the next occurrence it had) to `next`; false
    /// when someone moved it first.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn advance_schedule(
        &self,
        task: &Task,
        next: Option<OffsetDateTime>,
        last: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let changed = self.execute(
            sql::TASKS_ADVANCE_SCHEDULE,
            &[
                &task.id,
                &task.next_run_at.map(ms),
                &next.map(ms),
                &last.map(ms),
                &ms(now),
            ],
        )?;
        Ok(changed == 1)
    }
}
