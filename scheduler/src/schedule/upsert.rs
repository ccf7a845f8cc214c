//! Creating or updating a named schedule: called again with the same definition (at
//! every start of a host, say) it changes nothing; a changed definition is written with
//! optimistic locking, and its next occurrence is recomputed only if the timing
//! changed. What happens to occurrences already created is the store's rule
//! (`store/tasks.rs`).

use time::OffsetDateTime;

use super::{Recurrence, ScheduleSpec, new_task};
use crate::{
    backend::Backend,
    error::Result,
    model::{JobOptions, NewTask, Task, TaskUpdate},
};

/// Creates the schedule `name` running `job_type` with `payload` on `spec`, or brings
/// the existing one to that definition; the task as stored after.
#[allow(clippy::too_many_arguments)]
pub(crate) fn upsert(
    store: &dyn Backend,
    name: &str,
    job_type: &'static str,
    payload: String,
    spec: &ScheduleSpec,
    defaults: JobOptions,
    recurrence: &Recurrence,
    now: OffsetDateTime,
) -> Result<Task> {
    store.write(|tx| {
        let existing = tx.find_task_by_name(name)?;
        let Some(existing) = existing.filter(|t| t.job_type == job_type) else {
            if let Some(other) = tx.find_task_by_name(name)? {
                // Another job type under the same name: the old schedule ends.
                tx.delete_task(other.id, other.version, now)?;
            }
            let first = spec.first_occurrence(recurrence, now);
            let new = new_task(name, job_type, payload, spec, defaults, first);
            return tx.create_task(&new, now);
        };
        let timing_changed = existing.schedule != spec.schedule || spec.starting_at.is_some();
        // Unset, the switch stays as an operator left it; enabled again, the schedule
        // continues from now (the disabled time is not caught up), as when an operator
        // enables it.
        let enabled = spec.enabled.unwrap_or(existing.enabled);
        let reenabled = enabled && !existing.enabled;
        let next = if timing_changed || reenabled || existing.next_run_at.is_none() {
            spec.first_occurrence(recurrence, now)
        } else {
            existing.next_run_at
        };
        let mut wanted = new_task(name, job_type, payload, spec, defaults, next);
        wanted.enabled = enabled;
        if same_definition(&existing, &wanted) {
            return Ok(existing);
        }
        let update = TaskUpdate {
            payload: Some(wanted.payload),
            priority: Some(wanted.priority),
            max_attempts: Some(wanted.max_attempts),
            timeout: Some(wanted.timeout),
            backoff: Some(wanted.backoff),
            unique_key: Some(wanted.unique_key),
            schedule: Some(wanted.schedule),
            misfire_policy: Some(wanted.misfire_policy),
            misfire_cap: Some(wanted.misfire_cap),
            next_run_at: Some(wanted.next_run_at),
            enabled: Some(wanted.enabled),
            queue: Some(wanted.queue),
            ..TaskUpdate::default()
        };
        tx.update_task(existing.id, existing.version, &update, now)
    })
}

/// True when a stored task already has the definition wanted (no write needed).
fn same_definition(t: &Task, w: &NewTask) -> bool {
    same_json(&t.payload, &w.payload)
        && t.priority == w.priority
        && t.max_attempts == w.max_attempts
        && t.timeout == w.timeout
        && t.backoff == w.backoff
        && t.unique_key == w.unique_key
        && t.schedule == w.schedule
        && t.misfire_policy == w.misfire_policy
        && t.misfire_cap == w.misfire_cap
        && t.enabled == w.enabled
        && t.next_run_at == w.next_run_at
        && t.queue == w.queue
}

/// Whether two JSON texts are the same document: a database may hand back its own
/// rendering of what it stored (PostgreSQL's jsonb changes spacing and key order), and
/// a host restarting with the same payload must not count as an edit.
fn same_json(stored: &str, wanted: &str) -> bool {
    stored == wanted
        || matches!(
            (
                serde_json::from_str::<serde_json::Value>(stored),
                serde_json::from_str::<serde_json::Value>(wanted),
            ),
            (Ok(a), Ok(b)) if a == b
        )
}
