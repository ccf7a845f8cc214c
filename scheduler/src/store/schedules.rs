//! Schedules as the materializer sees them: which are due, the occurrence rows it
//! creates, and moving each schedule on. (Definitions themselves are in `tasks.rs`.)

use rusqlite::named_params;
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    tasks::task_from_row,
    types::{RunId, ms, ts},
};
use crate::{error::Result, model::Task, model::time::duration_ms};

impl ReadTx<'_> {
    /// Live, enabled schedules due by `until`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub fn due_schedules(&self, until: OffsetDateTime, limit: usize) -> Result<Vec<Task>> {
        let mut stmt = self.conn().prepare_cached(sql::TASKS_DUE_SCHEDULES)?;
        let mut rows = stmt.query(named_params! {
            ":until": ms(until),
            ":limit": i64::try_from(limit).unwrap_or(i64::MAX),
        })?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(task_from_row(row)?);
        }
        Ok(out)
    }

    /// When the next occurrence of any live schedule is due.
    ///
    /// # Errors
    /// Database errors.
    pub fn next_schedule_due(&self) -> Result<Option<OffsetDateTime>> {
        let at: Option<i64> = self
            .conn()
            .prepare_cached(sql::TASKS_NEXT_SCHEDULE_DUE)?
            .query_row([], |r| r.get(0))?;
        at.map(ts).transpose()
    }
}

impl WriteTx<'_> {
    /// Creates the occurrence of `task` at `at`, unless it exists already (created by
    /// another process) or the task's unique key is held by an unfinished run (the
    /// previous occurrence still runs). Returns the new run.
    ///
    /// # Errors
    /// Database errors.
    pub fn insert_occurrence(
        &self,
        task: &Task,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<RunId>> {
        if let Some(key) = &task.unique_key {
            if self.live_run_by_unique_key(key)?.is_some() {
                return Ok(None);
            }
        }
        let changed = self
            .conn()
            .prepare_cached(sql::RUNS_INSERT_OCCURRENCE)?
            .execute(named_params! {
                ":task_id": task.id,
                ":job_type": task.job_type,
                ":payload": task.payload,
                ":priority": task.priority,
                ":max_attempts": task.max_attempts,
                ":timeout_ms": task.timeout.map(|t| duration_ms("timeout", t)).transpose()?,
                ":backoff_ms": duration_ms("backoff", task.backoff)?,
                ":unique_key": task.unique_key,
                ":scheduled_at": ms(at),
                ":now": ms(now),
                ":queue": task.queue,
            })?;
        Ok((changed == 1).then(|| RunId::new(self.conn().last_insert_rowid())))
    }

    /// Moves a schedule from `expected` (the next occurrence it had) to `next`; false
    /// when someone moved it first.
    ///
    /// # Errors
    /// Database errors.
    pub fn advance_schedule(
        &self,
        task: &Task,
        next: Option<OffsetDateTime>,
        last: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let changed = self
            .conn()
            .prepare_cached(sql::TASKS_ADVANCE_SCHEDULE)?
            .execute(named_params! {
                ":id": task.id,
                ":expected": task.next_run_at.map(ms),
                ":next_run_at": next.map(ms),
                ":last_run_at": last.map(ms),
                ":now": ms(now),
            })?;
        Ok(changed == 1)
    }
}
