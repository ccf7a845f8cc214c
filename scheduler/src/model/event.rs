//! What happened to a run, as the scheduler reports it ([`crate::EventHook`],
//! [`crate::Scheduler::subscribe`]): a value type, so that what reports it and what
//! listens to it depend on the model alone.

use std::time::Duration;

use time::OffsetDateTime;

use super::{AttemptErrorKind, RunId, WorkerId};

/// Something that happened to a run, in this scheduler instance.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A run was enqueued (or, with `created: false`, a unique key matched a run).
    Enqueued {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// False when an unfinished run with the same unique key was returned instead.
        created: bool,
        /// When it is due.
        scheduled_at: OffsetDateTime,
    },
    /// An attempt started on a worker thread.
    Started {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// The attempt number (1 for the first).
        attempt: u32,
        /// When the attempt was due: its wait in the queue is the time from this to the
        /// event.
        scheduled_at: OffsetDateTime,
    },
    /// The run completed.
    Completed {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// How long the job code ran.
        duration: Duration,
    },
    /// An attempt failed and the run will be retried.
    Retried {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// The attempt that failed.
        attempt: u32,
        /// How it failed (an error, a panic, a timeout).
        kind: AttemptErrorKind,
        /// Why.
        error: String,
        /// When the next attempt is due.
        retry_at: OffsetDateTime,
    },
    /// The run failed for good.
    Failed {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// The last attempt.
        attempt: u32,
        /// How it failed (an error, a panic, a timeout).
        kind: AttemptErrorKind,
        /// Why.
        error: String,
    },
    /// The run was cancelled.
    Cancelled {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// Why: the reason the operator gave with the cancel request when there was one
        /// (it is what the run records), else the job's own or the cause's
        /// (`upstream_failed`, a timeout).
        reason: String,
    },
    /// This instance lost the lease of a run it held (it expired and was taken back):
    /// the job was asked to stop and its result will not be recorded.
    LeaseLost {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// The fencing token of the lost lease.
        token: i64,
    },
    /// A run snoozed ([`crate::JobError::snooze`]): pending again until `until`, its
    /// attempt given back.
    Snoozed {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
        /// When it is due again.
        until: OffsetDateTime,
        /// Its snoozes so far, this one included.
        snoozes: u32,
    },
    /// A run was handed back at shutdown without counting the attempt.
    Released {
        /// The run.
        run: RunId,
        /// Its job type.
        job_type: String,
    },
    /// A job ran past its timeout and did not stop: its attempt was failed, and the
    /// thread stays busy until the job returns.
    ThreadStuck {
        /// The run whose job holds the thread.
        run: RunId,
        /// Its job type.
        job_type: String,
    },
    /// This instance registered in `workers` and started.
    SchedulerStarted {
        /// Its id.
        worker: WorkerId,
    },
    /// This instance stopped and marked itself offline.
    SchedulerStopped {
        /// Its id.
        worker: WorkerId,
    },
}
