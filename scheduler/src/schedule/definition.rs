//! What every backend checks and stores of a task's definition the same way: the checks a new task
//! or an edit must pass, the columns a schedule is stored in, and which times a
//! schedule fires at (what decides whether a waiting occurrence survives an edit).

use time::OffsetDateTime;

use super::Recurrence;
use crate::{
    error::{Error, Result},
    model::{
        NewTask, Schedule, time::duration_ms, validate_attempts, validate_json, validate_name,
        validate_priority, validate_timeout,
    },
};

impl Schedule {
    /// The `schedule_kind` column.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Schedule::None => "none",
            Schedule::Cron { .. } => "cron",
            Schedule::Interval(_) => "interval",
        }
    }

    /// The checks of a schedule, whoever writes it.
    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            Schedule::None => Ok(()),
            Schedule::Cron { expr, timezone } => {
                if expr.trim().is_empty() || expr.len() > 200 {
                    return Err(Error::invalid("cron", "must be 1 to 200 bytes"));
                }
                if let Some(tz) = timezone {
                    if tz.is_empty() || tz.len() > 100 {
                        return Err(Error::invalid("timezone", "must be 1 to 100 bytes"));
                    }
                }
                // Parsed here too, whoever writes the task: a schedule stored unreadable
                // would silently never fire.
                Recurrence::cron(expr, timezone.as_deref()).map(|_| ())
            }
            Schedule::Interval(d) => {
                if duration_ms("interval", *d)? < 1 {
                    return Err(Error::invalid("interval", "must be at least 1 ms"));
                }
                Ok(())
            }
        }
    }
}

/// Every check a new task must pass, whoever writes it.
pub(crate) fn validate_new_task(task: &NewTask) -> Result<()> {
    validate_name("name", &task.name)?;
    validate_name("job_type", &task.job_type)?;
    crate::model::validate_queue(&task.queue)?;
    validate_json("payload", &task.payload)?;
    validate_priority(task.priority)?;
    validate_attempts(task.max_attempts)?;
    validate_timeout(task.timeout)?;
    duration_ms("backoff", task.backoff)?;
    if !(1..=100_000).contains(&task.misfire_cap) {
        return Err(Error::invalid("misfire_cap", "must be 1 to 100000"));
    }
    task.schedule.validate()
}

/// The schedule columns of a task, as bound.
pub(crate) struct ScheduleColumns {
    pub(crate) kind: &'static str,
    pub(crate) cron: Option<String>,
    pub(crate) interval_ms: Option<i64>,
    pub(crate) timezone: Option<String>,
}

/// The schedule columns of `s`.
pub(crate) fn schedule_columns(s: &Schedule) -> Result<ScheduleColumns> {
    Ok(match s {
        Schedule::None => ScheduleColumns {
            kind: s.kind(),
            cron: None,
            interval_ms: None,
            timezone: None,
        },
        Schedule::Cron { expr, timezone } => ScheduleColumns {
            kind: s.kind(),
            cron: Some(expr.clone()),
            interval_ms: None,
            timezone: timezone.clone(),
        },
        Schedule::Interval(d) => ScheduleColumns {
            kind: s.kind(),
            cron: None,
            interval_ms: Some(duration_ms("interval", *d)?),
            timezone: None,
        },
    })
}

/// Whether `t` is a time the schedule fires at: for cron, any of its times; for an
/// interval, a point of the grid that starts at `anchor` (its next occurrence).
pub(crate) fn is_time_of(
    recurrence: Option<&Recurrence>,
    anchor: Option<OffsetDateTime>,
    t: OffsetDateTime,
) -> bool {
    match (recurrence, anchor) {
        (Some(r @ Recurrence::Cron { .. }), _) => r.first_at_or_after(t, t) == Some(t),
        (Some(r @ Recurrence::Every(_)), Some(anchor)) if t >= anchor => {
            r.first_at_or_after(anchor, t) == Some(t)
        }
        _ => false,
    }
}
