//! Runs: what is inserted (`NewRun`, with the limits and checks every path applies),
//! what is stored (`Run`, its attempts' errors), what a claim hands out (`Lease`,
//! `ClaimedRun`) and how an attempt ends (`AttemptOutcome`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    AttemptErrorKind, RunId, RunStatus, TaskId, ValueError, WorkerId,
    time::{duration_ms, from_ms, to_ms},
};

type Result<T> = std::result::Result<T, ValueError>;

/// One failed (or released) attempt of a run, kept in the run's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttemptError {
    /// The attempt number (1 for the first).
    pub attempt: u32,
    /// When the attempt ended.
    #[serde(with = "ms_serde")]
    pub at: OffsetDateTime,
    /// How it ended.
    pub kind: AttemptErrorKind,
    /// The error message, panic message or reason.
    pub message: String,
}

impl AttemptError {
    /// A record of attempt `attempt` ending at `at`.
    #[must_use]
    pub fn new(
        attempt: u32,
        at: OffsetDateTime,
        kind: AttemptErrorKind,
        message: impl Into<String>,
    ) -> Self {
        AttemptError {
            attempt,
            at,
            kind,
            message: message.into(),
        }
    }

    /// A run's whole history as stored in `task_runs.errors`: a JSON array, or `None`
    /// for a run without failed attempts.
    pub(crate) fn history_json(errors: &[AttemptError]) -> Result<Option<String>> {
        if errors.is_empty() {
            return Ok(None);
        }
        serde_json::to_string(errors)
            .map(Some)
            .map_err(|e| ValueError::corrupt("task_runs.errors", e.to_string()))
    }

    pub(crate) fn to_json(&self) -> Result<String> {
        serde_json::to_string(self)
            .map_err(|e| ValueError::corrupt("task_runs.errors", e.to_string()))
    }
}

mod ms_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    use super::{from_ms, to_ms};

    pub(super) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(to_ms(*t))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let ms = i64::deserialize(d)?;
        from_ms(ms).map_err(serde::de::Error::custom)
    }
}

/// A run as stored: one occurrence of work with its whole history.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Run {
    /// The run's id.
    pub id: RunId,
    /// The task definition it came from (a schedule), if any.
    pub task_id: Option<TaskId>,
    /// The registered job type that executes it.
    pub job_type: String,
    /// The job's payload as JSON text.
    pub payload: String,
    /// Where the run is in its life.
    pub status: RunStatus,
    /// 0 to 100; higher runs first.
    pub priority: u8,
    /// Attempts started so far (including one in progress).
    pub attempt: u32,
    /// Attempts allowed before the run is `failed`.
    pub max_attempts: u32,
    /// How long one attempt may run.
    pub timeout: Option<Duration>,
    /// Base delay of the exponential backoff between attempts.
    pub backoff: Duration,
    /// The unique key, if the run was enqueued with one.
    pub unique_key: Option<String>,
    /// When the run becomes due (for a retry: when the next attempt is due).
    pub scheduled_at: OffsetDateTime,
    /// Upstream runs that have not completed yet.
    pub blocked_on: u32,
    /// The scheduler instance that holds or last held the run.
    pub worker_id: Option<WorkerId>,
    /// The fencing token of the latest lease granted on the run (0: never leased).
    pub lease_token: i64,
    /// A cancellation was requested while the run was running.
    pub cancel_requested: bool,
    /// Why it was cancelled (e.g. `upstream_failed`), or why cancellation was requested.
    pub cancel_reason: Option<String>,
    /// When the latest attempt started.
    pub started_at: Option<OffsetDateTime>,
    /// When the run finished.
    pub finished_at: Option<OffsetDateTime>,
    /// How long the latest finished attempt's job code ran.
    pub duration: Option<Duration>,
    /// The job's result as JSON text, once completed.
    pub result: Option<String>,
    /// The message of the latest failed attempt.
    pub last_error: Option<String>,
    /// Every failed (or released) attempt, oldest first.
    pub errors: Vec<AttemptError>,
    /// When the run was enqueued.
    pub created_at: OffsetDateTime,
    /// Times the run asked to be tried later without using an attempt
    /// ([`crate::JobError::snooze`]); bounded by the scheduler's
    /// [`max_snoozes`](crate::SchedulerBuilder::max_snoozes).
    pub snoozes: u32,
    /// The queue it waits in ([`crate::DEFAULT_QUEUE`] unless set).
    pub queue: String,
}

impl Run {
    /// A run that completed with `result`, as a test context hands it to a job reading
    /// its upstream ([`crate::testing::TestContext::upstream`]): it never was in a
    /// database.
    pub(crate) fn completed_inline(
        id: RunId,
        job_type: &str,
        payload: String,
        result: String,
        now: OffsetDateTime,
    ) -> Run {
        Run {
            id,
            task_id: None,
            job_type: job_type.to_owned(),
            payload,
            status: super::RunStatus::Completed,
            priority: 0,
            attempt: 1,
            max_attempts: 1,
            timeout: None,
            backoff: Duration::ZERO,
            unique_key: None,
            scheduled_at: now,
            blocked_on: 0,
            worker_id: None,
            lease_token: 0,
            cancel_requested: false,
            cancel_reason: None,
            started_at: Some(now),
            finished_at: Some(now),
            duration: Some(Duration::ZERO),
            result: Some(result),
            last_error: None,
            errors: Vec::new(),
            created_at: now,
            snoozes: 0,
            queue: super::DEFAULT_QUEUE.to_owned(),
        }
    }

    /// The payload decoded as JSON.
    ///
    /// # Errors
    /// [`ValueError::Corrupt`] when the stored text is not JSON.
    pub fn payload_json(&self) -> Result<serde_json::Value> {
        parse_json("task_runs.payload", &self.payload)
    }

    /// The result decoded as JSON, if the run completed with one.
    ///
    /// # Errors
    /// [`ValueError::Corrupt`] when the stored text is not JSON.
    pub fn result_json(&self) -> Result<Option<serde_json::Value>> {
        self.result
            .as_deref()
            .map(|r| parse_json("task_runs.result", r))
            .transpose()
    }

    /// The result decoded into the job's output type (`Perform::Output`, or any type
    /// its JSON decodes into).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize)]
    /// struct Report {
    ///     rows: u64,
    /// }
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Count;
    /// impl Perform for Count {
    ///     type Output = Report;
    ///     fn perform(&self, _: &JobContext) -> Result<Report, JobError> {
    ///         Ok(Report { rows: 42 })
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder().database(dir.path().join("jobs.db"))
    /// #     .register::<Count>().start()?;
    /// let id = scheduler.enqueue(Count)?.id;
    /// let run = scheduler.wait(id, Duration::from_secs(10))?;
    /// assert_eq!(run.result::<Report>()?.rows, 42);
    /// assert!(run.result::<String>().is_err()); // not what it holds
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ValueError::NotCompleted`] (as [`crate::Error::InvalidRunState`]) unless the
    /// run completed; [`ValueError::ResultType`] when its JSON does not decode into `T`.
    pub fn result<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        if self.status != super::RunStatus::Completed {
            return Err(ValueError::NotCompleted {
                run: self.id,
                status: self.status,
            });
        }
        // A completed run without a stored result returned nothing: JSON `null`.
        let text = self.result.as_deref().unwrap_or("null");
        serde_json::from_str(text).map_err(|e| ValueError::ResultType {
            run: self.id,
            detail: e.to_string(),
        })
    }
}

fn parse_json(column: &'static str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| ValueError::corrupt(column, e.to_string()))
}

/// Longest job type name, task name and unique key the schema accepts (CHECKs in 0001).
pub(crate) const MAX_NAME_LEN: usize = 200;
/// Longest unique key the schema accepts.
pub const MAX_UNIQUE_KEY_LEN: usize = 500;
/// Priorities range from 0 to this value; higher runs first.
pub const MAX_PRIORITY: u8 = 100;
/// The most attempts a run may be given.
pub const MAX_ATTEMPTS: u32 = 1000;

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
/// A run to insert. Start from [`NewRun::new`] and set the fields that differ from the
/// defaults (priority 0, 3 attempts, no timeout, 1 s backoff, due at once).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewRun {
    /// The job type that will execute it.
    pub job_type: String,
    /// The payload as JSON text.
    pub payload: String,
    /// 0 to [`MAX_PRIORITY`]; higher runs first.
    pub priority: u8,
    /// 1 to [`MAX_ATTEMPTS`].
    pub max_attempts: u32,
    /// How long one attempt may run.
    pub timeout: Option<Duration>,
    /// Base delay of the exponential backoff between attempts.
    pub backoff: Duration,
    /// At most one unfinished run holds a given key.
    pub unique_key: Option<String>,
    /// When the run becomes due.
    pub scheduled_at: OffsetDateTime,
    /// The task definition it belongs to, if any.
    pub task_id: Option<TaskId>,
    /// The queue it waits in.
    pub queue: String,
}

/// Defaults of a new run, shared by the storage layer and the runtime.
pub(crate) const DEFAULT_MAX_ATTEMPTS: u32 = 3;
pub(crate) const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);

impl NewRun {
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    /// A run of `job_type` with `payload` (JSON text), due at `scheduled_at`, with the
    /// default options.
    #[must_use]
    pub fn new(
        job_type: impl Into<String>,
        payload: impl Into<String>,
        scheduled_at: OffsetDateTime,
    ) -> Self {
        NewRun {
            job_type: job_type.into(),
            payload: payload.into(),
            priority: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            timeout: None,
            backoff: DEFAULT_BACKOFF,
            unique_key: None,
            scheduled_at,
            task_id: None,
            queue: super::DEFAULT_QUEUE.to_owned(),
        }
    }

    /// Checks every field against the schema's limits so a bad value gets a named error
    /// instead of a constraint failure.
    pub(crate) fn validate(&self) -> Result<()> {
        validate_name("job_type", &self.job_type)?;
        super::validate_queue(&self.queue)?;
        validate_priority(self.priority)?;
        validate_attempts(self.max_attempts)?;
        validate_timeout(self.timeout)?;
        duration_ms("backoff", self.backoff)?;
        if let Some(key) = &self.unique_key {
            if key.is_empty() || key.len() > MAX_UNIQUE_KEY_LEN {
                return Err(ValueError::invalid(
                    "unique_key",
                    format!("must be 1 to {MAX_UNIQUE_KEY_LEN} bytes, got {}", key.len()),
                ));
            }
            no_nul("unique_key", key)?;
        }
        validate_json("payload", &self.payload)
    }
}

pub(crate) fn validate_name(name: &'static str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > MAX_NAME_LEN {
        return Err(ValueError::invalid(
            name,
            format!("must be 1 to {MAX_NAME_LEN} bytes, got {}", value.len()),
        ));
    }
    no_nul(name, value)
}

/// SQLite's text functions (the length checks of the schema among them) stop at a NUL
/// byte, so a name holding one would be stored as something else than it says.
pub(crate) fn no_nul(name: &'static str, value: &str) -> Result<()> {
    match value.find('\0') {
        Some(at) => Err(ValueError::invalid(
            name,
            format!("must not contain a NUL byte (found one at byte {at})"),
        )),
        None => Ok(()),
    }
}

/// Longest token id the blacklist stores (use a hash for longer tokens).
pub(crate) const MAX_TOKEN_ID_LEN: usize = 512;

/// A token id the blacklist can store: 1 to [`MAX_TOKEN_ID_LEN`] bytes, no NUL.
pub(crate) fn validate_token_id(token_id: &str) -> Result<()> {
    if token_id.is_empty() || token_id.len() > MAX_TOKEN_ID_LEN {
        return Err(ValueError::invalid(
            "token_id",
            format!("must be 1 to {MAX_TOKEN_ID_LEN} bytes (store a hash of longer tokens)"),
        ));
    }
    no_nul("token_id", token_id)
}

/// The deepest nesting SQLite's JSON functions accept (`JSON_MAX_DEPTH`): the schema
/// checks every stored document with `json_valid`.
pub const MAX_JSON_DEPTH: usize = 1000;

/// How deeply a JSON text nests arrays and objects (0 for a scalar), without
/// recursion: serde's own check of a document does not bound its depth.
pub(crate) fn json_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

pub(crate) fn validate_priority(p: u8) -> Result<()> {
    if p > MAX_PRIORITY {
        return Err(ValueError::invalid(
            "priority",
            format!("{p} is above the maximum {MAX_PRIORITY}"),
        ));
    }
    Ok(())
}

pub(crate) fn validate_attempts(n: u32) -> Result<()> {
    if !(1..=MAX_ATTEMPTS).contains(&n) {
        return Err(ValueError::invalid(
            "max_attempts",
            format!("{n} is outside 1..={MAX_ATTEMPTS}"),
        ));
    }
    Ok(())
}

pub(crate) fn validate_timeout(t: Option<Duration>) -> Result<()> {
    if let Some(t) = t {
        let ms = duration_ms("timeout", t)?;
        if ms < 1 {
            return Err(ValueError::invalid("timeout", "must be at least 1 ms"));
        }
    }
    Ok(())
}

pub(crate) fn validate_json(name: &'static str, text: &str) -> Result<()> {
    check_json(text).map_err(|reason| ValueError::invalid(name, reason))
}

/// Checks a JSON document the way the schema will (`json_valid`): well formed, and
/// nested at most [`MAX_JSON_DEPTH`] deep.
pub(crate) fn check_json(text: &str) -> std::result::Result<(), String> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map_err(|e| format!("not valid JSON: {e}"))?;
    let depth = json_depth(text);
    if depth > MAX_JSON_DEPTH {
        return Err(format!(
            "nests {depth} levels deep, more than the {MAX_JSON_DEPTH} the database accepts"
        ));
    }
    Ok(())
}

/// What inserting a run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Inserted {
    /// The run: the new one, or the unfinished run that already held the unique key.
    pub id: RunId,
    /// False when the unique key matched an unfinished run and nothing was inserted.
    pub created: bool,
    /// The run's status (a new run is `pending`, or `blocked` when it waits on others).
    pub status: RunStatus,
}

/// A lease: the right of one worker to execute one run until `expires_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// The leased run.
    pub run_id: RunId,
    /// The holder.
    pub worker_id: WorkerId,
    /// The fencing token of this grant; every write of the holder must present it.
    pub token: i64,
    /// When the lease was granted.
    pub acquired_at: OffsetDateTime,
    /// When it expires unless extended by a heartbeat.
    pub expires_at: OffsetDateTime,
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
/// A run claimed under a lease, with what a worker needs to execute it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClaimedRun {
    /// The run.
    pub id: RunId,
    /// The task definition it came from, if any.
    pub task_id: Option<TaskId>,
    /// The job type to execute.
    pub job_type: String,
    /// The payload as JSON text.
    pub payload: String,
    /// This attempt's number (1 for the first).
    pub attempt: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// How long this attempt may run.
    pub timeout: Option<Duration>,
    /// Base delay of the exponential backoff.
    pub backoff: Duration,
    /// The run's priority.
    pub priority: u8,
    /// When the run was due.
    pub scheduled_at: OffsetDateTime,
    /// The run's unique key, if any.
    pub unique_key: Option<String>,
    /// The fencing token of the lease.
    pub token: i64,
    /// When the lease expires unless extended.
    pub lease_expires_at: OffsetDateTime,
    /// Times the run snoozed before this attempt ([`crate::JobError::snooze`]).
    pub snoozes: u32,
    /// The queue it was claimed from.
    pub queue: String,
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
/// How a claimed attempt ended, for [`crate::store::WriteTx::finish_attempt`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// Success, with the result as JSON text.
    Completed {
        /// The job's result as JSON text (`null` for none).
        result: String,
    },
    /// A failed attempt to be retried at `retry_at`.
    Retry {
        /// What went wrong.
        error: AttemptError,
        /// When the next attempt becomes due.
        retry_at: OffsetDateTime,
    },
    /// A failed attempt after which the run fails for good.
    Fail {
        /// What went wrong.
        error: AttemptError,
    },
    /// The job cancelled itself.
    Cancel {
        /// Why.
        reason: String,
    },
    /// The job asked to be tried again at `until` without using an attempt
    /// ([`crate::JobError::snooze`]): the run counts one snooze more.
    Snooze {
        /// When the run becomes due again.
        until: OffsetDateTime,
    },
    /// Handed back unfinished (graceful shutdown); the attempt is not counted.
    Release {
        /// Why, recorded in the run's history.
        reason: String,
    },
}

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
/// Timing of an attempt as measured by the worker, stored with its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttemptTiming {
    /// When the job code started.
    pub started_at: OffsetDateTime,
    /// How long it ran.
    pub duration: Duration,
}

impl AttemptTiming {
    #[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
    /// An attempt that started at `started_at` and ran for `duration`.
    #[must_use]
    pub fn new(started_at: OffsetDateTime, duration: Duration) -> Self {
        AttemptTiming {
            started_at,
            duration,
        }
    }
}

/// The result of cancelling a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelOutcome {
    /// The run was blocked or pending and is now cancelled.
    Cancelled,
    /// The run is running: its cancellation flag is set and the job sees it at its next
    /// check; its holder finishes it.
    Requested,
}
