//! What operators do to a persisted task: disable and enable its schedule, and trigger
//! a run of it now. The rules, the same from the API, `Admin` and the CLI:
//!
//! * **Disable**: no occurrence is created while disabled; occurrences already created
//!   that have not started are cancelled (reason [`model::SCHEDULE_DISABLED`], with the
//!   runs waiting for them); a running one runs to its end.
//! * **Enable**: the schedule continues from now — its next occurrence is the first
//!   fire time after the moment it is enabled. The time it was disabled is not caught
//!   up (whatever the misfire policy, which is about downtime).
//! * **Trigger**: one run of the task, due now, with its payload and options; the
//!   schedule's own occurrences are not moved. A task's unique key holds as for any
//!   enqueue: while a run holding it is unfinished, that run is returned instead.
//!
//! A host that calls [`crate::Scheduler::schedule`] at every start leaves the switch
//! as the operator set it, unless its [`crate::ScheduleSpec`] says `.enabled(...)`.

use time::OffsetDateTime;

use super::Recurrence;
use crate::{
    backend::{Backend, Writes},
    error::{Error, Result},
    model::{self, Inserted, NewRun, Task, TaskUpdate},
};

/// How often a write that met a concurrent change of the task is tried again (it
/// reads the task anew each time).
const ATTEMPTS: usize = 3;

/// Disables (`enabled`: false) or enables the schedule of the live task `name`; the
/// task as it is after. Already in that state: nothing is written.
pub(crate) fn set_enabled(
    store: &dyn Backend,
    name: &str,
    enabled: bool,
    now: OffsetDateTime,
) -> Result<Task> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let result = store.write(|tx| {
            let task = live_schedule(tx, name)?;
            if task.enabled == enabled {
                return Ok(task);
            }
            let mut update = TaskUpdate {
                enabled: Some(enabled),
                ..TaskUpdate::default()
            };
            if enabled {
                let recurrence = Recurrence::of(&task.schedule)?;
                update.next_run_at = Some(recurrence.and_then(|r| match r {
                    Recurrence::Every(_) => r.step(now),
                    Recurrence::Cron { .. } => r.first_at_or_after(now, now),
                }));
            }
            tx.update_task(task.id, task.version, &update, now)
        });
        match result {
            Err(e @ Error::VersionConflict { .. }) => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| Error::TaskNameNotFound(name.to_owned())))
}

/// One run of the live task `name`, due now, with the task's payload and options.
pub(crate) fn trigger(store: &dyn Backend, name: &str, now: OffsetDateTime) -> Result<Inserted> {
    store.write(|tx| {
        let task = tx
            .find_task_by_name(name)?
            .ok_or_else(|| Error::TaskNameNotFound(name.to_owned()))?;
        let mut run = NewRun::new(task.job_type.clone(), task.payload.clone(), now);
        run.priority = task.priority;
        run.max_attempts = task.max_attempts;
        run.timeout = task.timeout;
        run.backoff = task.backoff;
        run.unique_key = task.unique_key.clone();
        run.queue = task.queue.clone();
        run.task_id = Some(task.id);
        tx.insert_run(&run, now)
    })
}

/// The live task `name`, which must have a schedule.
fn live_schedule(tx: &dyn Writes, name: &str) -> Result<Task> {
    let task = tx
        .find_task_by_name(name)?
        .ok_or_else(|| Error::TaskNameNotFound(name.to_owned()))?;
    if task.schedule == model::Schedule::None {
        return Err(Error::invalid(
            "schedule",
            format!("task {name:?} has no schedule to enable or disable (trigger it instead)"),
        ));
    }
    Ok(task)
}
