//! A real scheduler that runs nothing until the test drains it, on a manual clock.

use std::{ops::Deref, sync::Arc, time::Duration};

use time::OffsetDateTime;

use super::inline::{decode, to_value};
use crate::{
    Job, RunFilter, Scheduler, SchedulerBuilder,
    clock::{Clock, ManualClock, SystemClock},
    error::Result,
    model::ShutdownReport,
};

/// How long one [`TestScheduler::drain`] may take before it gives up: a job that never
/// ends, or runs due that no registered type runs, must fail the test, not hang it.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// A scheduler for tests: the builder's job types, state and database (a private
/// in-memory one unless the builder names one), on a [`ManualClock`], with claiming
/// paused until [`TestScheduler::drain`]. It derefs to the [`Scheduler`], so the code
/// under test enqueues through it as through any scheduler.
///
/// ```
/// use std::time::Duration;
/// use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler, testing::TestScheduler};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, Job, PartialEq, Debug)]
/// #[job(backoff = "10s")]
/// struct Charge {
///     cents: i64,
/// }
/// impl Perform for Charge {
///     type Output = ();
///     fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
///         if ctx.attempt() == 1 {
///             return Err(JobError::retry("the bank is down"));
///         }
///         Ok(())
///     }
/// }
///
/// // The code under test enqueues; nothing runs yet.
/// let test = TestScheduler::start(Scheduler::builder().register::<Charge>())?;
/// let id = test.enqueue(Charge { cents: 500 })?.id;
/// assert!(test.is_enqueued(&Charge { cents: 500 })?);
/// assert_eq!(test.run(id)?.status, RunStatus::Pending);
///
/// let first = test.drain()?;
/// assert_eq!((first.completed, first.retried), (0, 1)); // its retry is due in ~10 s
/// test.advance(Duration::from_secs(60));
/// assert_eq!(test.drain()?.completed, 1);
/// assert_eq!(test.run(id)?.status, RunStatus::Completed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TestScheduler {
    scheduler: Scheduler,
    clock: Arc<ManualClock>,
}

impl std::fmt::Debug for TestScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestScheduler")
            .field("now", &self.clock.now())
            .finish_non_exhaustive()
    }
}

/// What one [`TestScheduler::drain`] did, counted by this scheduler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Drained {
    /// Runs that completed.
    pub completed: u64,
    /// Runs that failed for good.
    pub failed: u64,
    /// Attempts that failed and were scheduled again.
    pub retried: u64,
    /// Attempts that snoozed ([`crate::JobError::snooze`]): due again after their delay.
    pub snoozed: u64,
    /// Runs cancelled while running (by the job itself, a timeout, a request).
    pub cancelled: u64,
}

impl TestScheduler {
    /// Starts `builder` with claiming paused and a manual clock at the system's time
    /// now. The builder's database is kept if it names one; otherwise a private
    /// in-memory database is used (never `./scheduler.db`).
    ///
    /// # Errors
    /// Every error of [`SchedulerBuilder::start`].
    pub fn start(builder: SchedulerBuilder) -> Result<TestScheduler> {
        Self::start_at(builder, SystemClock.now())
    }

    /// [`TestScheduler::start`] with the clock at `at`.
    ///
    /// ```
    /// # use runloom::{Clock, Scheduler, testing::TestScheduler};
    /// let at = time::macros::datetime!(2026-06-01 08:59:30 UTC);
    /// let test = TestScheduler::start_at(Scheduler::builder(), at)?;
    /// assert_eq!(test.clock().now(), at);
    /// # Ok::<(), runloom::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`TestScheduler::start`].
    pub fn start_at(builder: SchedulerBuilder, at: OffsetDateTime) -> Result<TestScheduler> {
        let clock = Arc::new(ManualClock::new(at));
        let mut builder = builder.clock(clock.clone());
        if !builder.database_chosen {
            builder = builder.in_memory();
        }
        builder.start_paused = true;
        Ok(TestScheduler {
            scheduler: builder.start()?,
            clock,
        })
    }

    /// The clock every part of the scheduler reads.
    #[must_use]
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// Moves the clock forward by `by`. Nothing runs until the next
    /// [`TestScheduler::drain`].
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Runs every run due now, and every run those make due now (dependents, follow-ups,
    /// schedules' occurrences), then pauses again and says what happened. Retries wait
    /// for their backoff on the manual clock: [`TestScheduler::advance`] past it, then
    /// drain again.
    ///
    /// # Errors
    /// [`crate::Error::WaitTimeout`] when the queue is not idle after
    /// [`DRAIN_TIMEOUT`] (a job that does not end, due runs of a type no scheduler
    /// registers); database errors.
    pub fn drain(&self) -> Result<Drained> {
        let s = &self.scheduler;
        let before = s.stats()?;
        s.resume()?;
        let waited = s.wait_idle(DRAIN_TIMEOUT);
        s.pause()?;
        waited?;
        let after = s.stats()?;
        Ok(Drained {
            completed: after.completed - before.completed,
            failed: after.failed - before.failed,
            retried: after.retried - before.retried,
            snoozed: after.snoozed - before.snoozed,
            cancelled: after.cancelled - before.cancelled,
        })
    }

    /// The payloads of every run of type `T` (in any status), oldest first.
    ///
    /// # Errors
    /// [`crate::Error::Payload`] when a stored payload does not decode into `T`;
    /// database errors.
    pub fn enqueued<T: Job>(&self) -> Result<Vec<T>> {
        let mut runs = self
            .scheduler
            .runs(&RunFilter::new().job_type(T::NAME).limit(10_000))?;
        runs.reverse();
        runs.iter().map(|r| decode::<T>(&r.payload)).collect()
    }

    /// Whether a run of `job`'s type with exactly `job`'s payload exists (in any
    /// status): the assertion that the code under test enqueued it.
    ///
    /// # Errors
    /// [`crate::Error::Payload`] when `job` does not serialize; database errors.
    pub fn is_enqueued<T: Job>(&self, job: &T) -> Result<bool> {
        let want = to_value(job)?;
        let runs = self
            .scheduler
            .runs(&RunFilter::new().job_type(T::NAME).limit(10_000))?;
        Ok(runs.iter().any(|r| {
            serde_json::from_str::<serde_json::Value>(&r.payload).is_ok_and(|v| v == want)
        }))
    }

    /// Shuts the scheduler down (what is still running gets 10 s to finish).
    ///
    /// # Errors
    /// As [`Scheduler::shutdown`].
    pub fn shutdown(self) -> Result<ShutdownReport> {
        self.scheduler.shutdown(Duration::from_secs(10))
    }
}

impl Deref for TestScheduler {
    type Target = Scheduler;

    fn deref(&self) -> &Scheduler {
        &self.scheduler
    }
}
