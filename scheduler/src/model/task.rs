//! Task definitions: named work with an optional schedule (cron or interval) and the
//! options its runs get; the reasons recorded on occurrences a change cancels.

use std::time::Duration;

use time::OffsetDateTime;

use super::{MisfirePolicy, TaskId};

/// The reason recorded on occurrences cancelled because their task was removed.
pub const SCHEDULE_REMOVED: &str = "schedule removed";
/// The reason recorded on occurrences cancelled because their task was disabled.
pub const SCHEDULE_DISABLED: &str = "schedule disabled";
/// The reason recorded on occurrences cancelled because their task's timing changed and
/// their time is not one of the new timing.
pub const SCHEDULE_CHANGED: &str = "schedule changed";

/// When a task produces runs on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Schedule {
    /// Never: the task runs only when triggered.
    None,
    /// On a cron expression, evaluated in `timezone` (UTC when `None`).
    Cron {
        /// The expression (seconds field allowed), validated by the runtime.
        expr: String,
        /// An IANA zone name such as `Europe/Paris`.
        timezone: Option<String>,
    },
    /// Every fixed interval.
    Interval(Duration),
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
/// A task definition to create.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewTask {
    /// Unique among live tasks.
    pub name: String,
    /// The job type its runs execute.
    pub job_type: String,
    /// The payload of its runs (JSON text).
    pub payload: String,
    /// Priority of its runs (0 to 100, higher first).
    pub priority: u8,
    /// Attempts per run.
    pub max_attempts: u32,
    /// Timeout per attempt.
    pub timeout: Option<Duration>,
    /// Base backoff between attempts.
    pub backoff: Duration,
    /// A unique key for its runs.
    pub unique_key: Option<String>,
    /// When it produces runs.
    pub schedule: Schedule,
    /// What happens to occurrences missed during downtime.
    pub misfire_policy: MisfirePolicy,
    /// Most missed occurrences run under [`MisfirePolicy::RunAll`].
    pub misfire_cap: u32,
    /// The next occurrence to create.
    pub next_run_at: Option<OffsetDateTime>,
    /// Whether the schedule is active.
    pub enabled: bool,
    /// The queue its runs wait in.
    pub queue: String,
}

impl NewTask {
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    /// A task named `name` running `job_type` with `payload`, no schedule and the run
    /// defaults.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        job_type: impl Into<String>,
        payload: impl Into<String>,
    ) -> Self {
        NewTask {
            name: name.into(),
            job_type: job_type.into(),
            payload: payload.into(),
            priority: 0,
            max_attempts: super::DEFAULT_MAX_ATTEMPTS,
            timeout: None,
            backoff: super::DEFAULT_BACKOFF,
            unique_key: None,
            schedule: Schedule::None,
            misfire_policy: MisfirePolicy::RunOnce,
            misfire_cap: 100,
            next_run_at: None,
            enabled: true,
            queue: super::DEFAULT_QUEUE.to_owned(),
        }
    }
}

/// A task definition as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// Its name (unique among live tasks).
    pub name: String,
    /// The job type its runs execute.
    pub job_type: String,
    /// The payload of its runs (JSON text).
    pub payload: String,
    /// Priority of its runs.
    pub priority: u8,
    /// Attempts per run.
    pub max_attempts: u32,
    /// Timeout per attempt.
    pub timeout: Option<Duration>,
    /// Base backoff between attempts.
    pub backoff: Duration,
    /// A unique key for its runs.
    pub unique_key: Option<String>,
    /// When it produces runs.
    pub schedule: Schedule,
    /// What happens to missed occurrences.
    pub misfire_policy: MisfirePolicy,
    /// Most missed occurrences run under [`MisfirePolicy::RunAll`].
    pub misfire_cap: u32,
    /// The next occurrence to create.
    pub next_run_at: Option<OffsetDateTime>,
    /// The latest occurrence created.
    pub last_run_at: Option<OffsetDateTime>,
    /// Whether the schedule is active.
    pub enabled: bool,
    /// Soft-deleted (kept for history, no longer live).
    pub deleted_at: Option<OffsetDateTime>,
    /// Optimistic-locking version: every change increments it, and a change based on an
    /// older version is refused.
    pub version: i64,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// The queue its runs wait in.
    pub queue: String,
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
/// Changes to a task: each `Some` field replaces the stored value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskUpdate {
    /// New payload (JSON text).
    pub payload: Option<String>,
    /// New priority.
    pub priority: Option<u8>,
    /// New attempts per run.
    pub max_attempts: Option<u32>,
    /// New timeout (`Some(None)` removes it).
    pub timeout: Option<Option<Duration>>,
    /// New base backoff.
    pub backoff: Option<Duration>,
    /// New unique key (`Some(None)` removes it).
    pub unique_key: Option<Option<String>>,
    /// New schedule.
    pub schedule: Option<Schedule>,
    /// New misfire policy.
    pub misfire_policy: Option<MisfirePolicy>,
    /// New misfire cap.
    pub misfire_cap: Option<u32>,
    /// New next occurrence (`Some(None)` clears it).
    pub next_run_at: Option<Option<OffsetDateTime>>,
    /// New latest occurrence.
    pub last_run_at: Option<Option<OffsetDateTime>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
    /// New queue for its runs.
    pub queue: Option<String>,
}
