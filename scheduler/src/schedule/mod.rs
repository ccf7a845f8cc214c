//! Schedules: recurring tasks by cron expression or fixed interval, persisted in `tasks`
//! so that a restart, or another process on the same file, continues the same schedule.
//!
//! Each occurrence becomes a run with the task's id and its scheduled time; the unique
//! index on `(task_id, scheduled_at)` makes it exist once however many processes
//! materialise it. Occurrences are created a little ahead of their time by whichever
//! dispatcher gets there first, inside its write transaction, so a run starts on time
//! without a separate timer.
//!
//! **Misfires.** After downtime, occurrences more than the misfire threshold (default
//! 5 s) in the past were missed. The schedule's [`MisfirePolicy`] decides: `RunOnce`
//! (default) creates one run for the latest missed occurrence, `RunAll` creates every
//! missed occurrence up to the cap (the latest ones), `Skip` creates none; then the
//! schedule continues with its next occurrence.
//!
//! **Daylight saving** (cron in a named zone): a local time that does not exist is
//! skipped; a local time that occurs twice fires once, at its first instant.

mod control;
pub(crate) mod definition;
pub(crate) mod recurrence;
mod upsert;

use std::time::Duration;

use time::OffsetDateTime;

pub(crate) use self::{
    control::{set_enabled, trigger},
    recurrence::Recurrence,
    upsert::upsert,
};
use crate::{
    backend::Writes,
    error::{Error, Result},
    model::time::shift,
    model::{self, JobOptions, MisfirePolicy, RunId, Schedule, Task},
};

/// Default age after which a schedule's occurrence counts as missed.
pub const DEFAULT_MISFIRE_THRESHOLD: Duration = Duration::from_secs(5);

/// How far ahead of their time occurrences are created.
pub(crate) const HORIZON: Duration = Duration::from_secs(1);

/// Most fire times [`crate::Scheduler::next_fire_times`] and
/// [`crate::Admin::fire_times`] list at once.
pub const MAX_FIRE_TIMES: usize = 10_000;

/// Most schedules materialised per transaction (the rest in the next ones).
pub(crate) const BATCH: usize = 256;

/// Most occurrences created per transaction, whatever the schedules and their misfire
/// policies ask for: a schedule catching up on thousands of missed occurrences
/// (`RunAll` with a large cap) continues in the next transactions, so the write lock is
/// held briefly each time.
pub(crate) const OCCURRENCES_PER_TX: usize = 500;

/// A recurring task's definition: when it fires and how its runs behave.
///
/// ```
/// use std::time::Duration;
/// use runloom::{MisfirePolicy, ScheduleSpec};
///
/// let nightly = ScheduleSpec::cron("0 30 2 * * *")      // 02:30:00 every day
///     .time_zone("Europe/Paris")
///     .misfire(MisfirePolicy::Skip)
///     .max_attempts(5);
/// let poll = ScheduleSpec::every(Duration::from_secs(30)).unique_key("poll-feed");
/// # let _ = (nightly, poll);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct ScheduleSpec {
    /// When it fires: a cron expression (with its time zone) or an interval.
    pub schedule: Schedule,
    /// What happens to occurrences missed during downtime.
    pub misfire: MisfirePolicy,
    /// Most missed occurrences created under [`MisfirePolicy::RunAll`].
    pub misfire_cap: u32,
    /// Priority, attempts, timeout and backoff of its runs, overriding the job type's.
    pub job: JobOptions,
    /// A unique key for its runs (no overlapping runs).
    pub unique_key: Option<String>,
    /// Whether it fires: `Some(false)` creates it disabled (or disables it), `Some(true)`
    /// enables it; `None`, the default, enables a new schedule and leaves an existing
    /// one as it is (an operator may have disabled it).
    pub enabled: Option<bool>,
    /// Its first occurrence is the first one at or after this time.
    pub starting_at: Option<OffsetDateTime>,
}

impl ScheduleSpec {
    /// Fires on a cron expression: 5 fields (standard crontab, minute resolution) or 6
    /// to 7 (seconds first, optional year), in UTC unless
    /// [`ScheduleSpec::time_zone`] says otherwise.
    pub fn cron(expr: impl Into<String>) -> Self {
        Self::with(Schedule::Cron {
            expr: expr.into(),
            timezone: None,
        })
    }

    /// Fires every `interval`, the first time one interval after the schedule is
    /// created (or at [`ScheduleSpec::starting_at`]).
    pub fn every(interval: Duration) -> Self {
        Self::with(Schedule::Interval(interval))
    }

    fn with(schedule: Schedule) -> Self {
        ScheduleSpec {
            schedule,
            misfire: MisfirePolicy::RunOnce,
            misfire_cap: 100,
            job: JobOptions::new(),
            unique_key: None,
            enabled: None,
            starting_at: None,
        }
    }

    /// Evaluates the cron expression in an IANA time zone such as `Europe/Paris`.
    pub fn time_zone(mut self, zone: impl Into<String>) -> Self {
        if let Schedule::Cron { timezone, .. } = &mut self.schedule {
            *timezone = Some(zone.into());
        } else {
            // Kept to be refused by `Scheduler::schedule` with a clear error.
            self.schedule = Schedule::Cron {
                expr: String::new(),
                timezone: Some(zone.into()),
            };
        }
        self
    }

    /// What happens to occurrences missed during downtime. Defaults to
    /// [`MisfirePolicy::RunOnce`].
    pub fn misfire(mut self, policy: MisfirePolicy) -> Self {
        self.misfire = policy;
        self
    }

    /// Most missed occurrences created under [`MisfirePolicy::RunAll`] (the latest
    /// ones). Defaults to 100; 1 to 100 000.
    pub fn misfire_cap(mut self, cap: u32) -> Self {
        self.misfire_cap = cap;
        self
    }

    /// A unique key for its runs: an occurrence is not created while the previous run
    /// with the key is unfinished (no overlapping runs).
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    /// Whether it fires, whatever an operator set. Unset, a new schedule fires and an
    /// existing one keeps its state (see [`ScheduleSpec::enabled`](field@Self::enabled)).
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Its first occurrence is the first one at or after `at`.
    pub fn starting_at(mut self, at: OffsetDateTime) -> Self {
        self.starting_at = Some(at);
        self
    }

    /// Checks the definition and returns its parsed recurrence.
    pub(crate) fn compile(&self) -> Result<Recurrence> {
        if let Schedule::Cron { expr, timezone } = &self.schedule {
            if expr.is_empty() && timezone.is_some() {
                return Err(Error::invalid(
                    "timezone",
                    "only a cron schedule has a time zone",
                ));
            }
        }
        if !(1..=100_000).contains(&self.misfire_cap) {
            return Err(Error::invalid("misfire_cap", "must be 1 to 100000"));
        }
        self.job.validate()?;
        Recurrence::of(&self.schedule)?.ok_or_else(|| {
            Error::invalid(
                "schedule",
                "a schedule needs a cron expression or an interval",
            )
        })
    }

    /// The first occurrence of a new schedule created at `now`.
    pub(crate) fn first_occurrence(
        &self,
        recurrence: &Recurrence,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        match (recurrence, self.starting_at) {
            (Recurrence::Every(_), Some(start)) => Some(start),
            (Recurrence::Every(_), None) => recurrence.step(now),
            (Recurrence::Cron { .. }, start) => {
                let from = start.unwrap_or(now);
                recurrence.first_at_or_after(from, from)
            }
        }
    }
}

/// What one materialisation did.
#[derive(Debug, Default)]
pub(crate) struct Materialized {
    /// Runs created, with their job types and due times.
    pub(crate) created: Vec<(RunId, String, OffsetDateTime)>,
    /// When the next schedule is due, if any.
    pub(crate) next_due: Option<OffsetDateTime>,
    /// True when more schedules were due than one batch holds.
    pub(crate) more: bool,
}

/// Creates the occurrences of every schedule due by `now + HORIZON`, applying the
/// misfire policy to occurrences older than `now - threshold`, and moves each schedule
/// on. Runs in the caller's transaction.
pub(crate) fn materialize(
    tx: &dyn Writes,
    now: OffsetDateTime,
    threshold: Duration,
) -> Result<Materialized> {
    let until = shift(now, HORIZON, true);
    let missed_before = shift(now, threshold, false);
    let due = tx.due_schedules(until, BATCH)?;
    let mut out = Materialized {
        more: due.len() == BATCH,
        ..Materialized::default()
    };
    let mut budget = OCCURRENCES_PER_TX;
    for task in due {
        if budget == 0 {
            out.more = true;
            break;
        }
        let Some(next) = task.next_run_at else {
            continue;
        };
        let recurrence = match Recurrence::of(&task.schedule) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(e) => {
                // A definition this binary cannot read (written by another version):
                // stop it rather than retry it forever; it shows with no next time.
                log::error!(
                    "schedule {:?} cannot be evaluated and is stopped: {}",
                    task.name,
                    e.report()
                );
                tx.advance_schedule(&task, None, None, now)?;
                continue;
            }
        };
        let mut occurrences = Vec::new();
        let on_time_from = if next < missed_before {
            let cap = match task.misfire_policy {
                MisfirePolicy::Skip => 0,
                MisfirePolicy::RunOnce => 1,
                MisfirePolicy::RunAll => task.misfire_cap as usize,
            };
            occurrences.extend(recurrence.latest_in(next, missed_before, cap));
            recurrence.first_at_or_after(next, missed_before)
        } else {
            Some(next)
        };
        let mut at = on_time_from;
        while let Some(t) = at {
            if t > until || occurrences.len() >= 1000 {
                break;
            }
            occurrences.push(t);
            at = recurrence.step(t);
        }
        if occurrences.len() > budget {
            // The oldest first; the schedule moves on to the one after the last created,
            // and the next transaction creates the rest (still missed, they fall under
            // the same misfire policy and cap).
            occurrences.truncate(budget);
            at = occurrences.last().and_then(|t| recurrence.step(*t));
            out.more = true;
        }
        budget -= occurrences.len();
        for t in &occurrences {
            if let Some(id) = tx.insert_occurrence(&task, *t, now)? {
                out.created.push((id, task.job_type.clone(), *t));
            }
        }
        tx.advance_schedule(&task, at, occurrences.last().copied(), now)?;
    }
    out.next_due = tx.next_schedule_due()?;
    Ok(out)
}

/// A schedule's next `n` fire times after `after` (empty for a task without a schedule).
///
/// # Errors
/// [`Error::InvalidCron`] or [`Error::UnknownTimeZone`] for a stored definition this
/// binary cannot read.
pub(crate) fn next_fire_times(
    task: &Task,
    after: OffsetDateTime,
    n: usize,
) -> Result<Vec<OffsetDateTime>> {
    if n > MAX_FIRE_TIMES {
        return Err(Error::invalid(
            "n",
            format!("at most {MAX_FIRE_TIMES} fire times are listed at once, not {n}"),
        ));
    }
    let Some(recurrence) = Recurrence::of(&task.schedule)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(n);
    let mut at = match task.next_run_at {
        Some(next) if next > after => Some(next),
        Some(next) => recurrence.first_at_or_after(next, after),
        None => None,
    };
    while let Some(t) = at {
        if out.len() == n {
            break;
        }
        out.push(t);
        at = recurrence.step(t);
    }
    Ok(out)
}

crate::model::options::job_option_setters!(ScheduleSpec);

/// The task row a spec describes.
pub(crate) fn new_task(
    name: &str,
    job_type: &str,
    payload: String,
    spec: &ScheduleSpec,
    defaults: JobOptions,
    next_run_at: Option<OffsetDateTime>,
) -> model::NewTask {
    let options = spec.job.clone().or(defaults).settled();
    let mut t = model::NewTask::new(name, job_type, payload);
    t.priority = options.priority;
    t.max_attempts = options.max_attempts;
    t.timeout = options.timeout;
    t.backoff = options.backoff;
    t.queue = options.queue;
    t.unique_key = spec.unique_key.clone();
    t.schedule = spec.schedule.clone();
    t.misfire_policy = spec.misfire;
    t.misfire_cap = spec.misfire_cap;
    t.next_run_at = next_run_at;
    t.enabled = spec.enabled.unwrap_or(true);
    t
}
