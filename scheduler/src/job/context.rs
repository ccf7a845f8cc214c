//! The context a running job receives: who it is, how long it has, and whether it
//! should stop.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use time::OffsetDateTime;

use super::JobError;
pub use crate::inflight::CancelReason;
use crate::{
    inflight::{Attempt, CancelFlag},
    model::RunId,
};

/// What a running job knows about its run, handed to [`crate::Perform::perform`].
pub struct JobContext {
    /// The attempt: the run and the fencing token of the lease it runs under. Every
    /// write this context makes is fenced by it.
    pub(crate) attempt: Attempt,
    pub(crate) job_type: String,
    /// The attempt's number (1 for the first).
    pub(crate) number: u32,
    pub(crate) max_attempts: u32,
    pub(crate) scheduled_at: OffsetDateTime,
    pub(crate) deadline: Option<Instant>,
    pub(crate) idempotency_key: String,
    pub(crate) cancel: Arc<CancelFlag>,
    /// When the job code started, for the timing a transaction records.
    pub(crate) started_at: OffsetDateTime,
    pub(crate) started: Instant,
    /// What the attempt's own transaction writes with
    /// ([`crate::sqlite::JobContextExt::transaction`]).
    pub(crate) env: Arc<Execution>,
    /// Set once a transaction completed the run.
    pub(crate) completed: std::sync::atomic::AtomicBool,
    /// Runs to create in the transaction that completes this run
    /// ([`JobContext::enqueue_on_completion`]).
    pub(crate) follow_ups: parking_lot::Mutex<Vec<crate::model::NewRun>>,
    /// Set when the job runs inline under [`crate::testing::TestContext`]: no run row,
    /// no lease, upstream results given by the test.
    pub(crate) inline: Option<Inline>,
}

/// What an inline (test) context has instead of a run in the database.
#[derive(Debug, Default)]
pub(crate) struct Inline {
    /// The upstream runs the test gave.
    pub(crate) upstream: Vec<crate::Run>,
}

/// What executing attempts uses, shared by the worker threads and every attempt's
/// context: the workers' part of the scheduler, and nothing more.
pub(crate) struct Execution {
    pub(crate) store: Arc<dyn crate::backend::Backend>,
    pub(crate) clock: Arc<dyn crate::clock::Clock>,
    pub(crate) inflight: Arc<crate::inflight::InFlight>,
    pub(crate) events: Arc<crate::events::Events>,
    pub(crate) stats: Arc<crate::metrics::Stats>,
    /// The job types this instance runs.
    pub(crate) registry: super::registry::Registry,
    /// The application's state, for [`JobContext::state`].
    pub(crate) state: super::state::AppState,
    /// Makes idempotency keys unique across databases.
    pub(crate) database_id: String,
    /// What a job's follow-up runs are checked against, as any enqueue.
    pub(crate) max_payload_bytes: usize,
    pub(crate) allow_foreign: bool,
    /// Tells this process's dispatcher that runs were created.
    pub(crate) new_work: Arc<dyn Fn() + Send + Sync>,
}

impl fmt::Debug for Execution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Execution")
            .field("registry", &self.registry)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for JobContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobContext")
            .field("run_id", &self.attempt.run)
            .field("lease_token", &self.attempt.token)
            .field("job_type", &self.job_type)
            .field("attempt", &self.number)
            .field("max_attempts", &self.max_attempts)
            .field("deadline", &self.deadline)
            .field("cancelled", &self.cancel.reason())
            .finish_non_exhaustive()
    }
}

impl JobContext {
    /// The run being executed.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunId, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct WhoAmI;
    /// impl Perform for WhoAmI {
    ///     type Output = RunId;
    ///     fn perform(&self, ctx: &JobContext) -> Result<RunId, JobError> {
    ///         Ok(ctx.run_id())
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<WhoAmI>()
    /// #     .start()?;
    /// let id = scheduler.enqueue(WhoAmI)?.id;
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.result::<RunId>()?, id);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn run_id(&self) -> RunId {
        self.attempt.run
    }

    /// The job type's name.
    ///
    /// ```
    /// use runloom::{Job, JobContext, JobError, Perform, testing::TestContext};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct SendInvoice;
    /// impl Perform for SendInvoice {
    ///     type Output = String;
    ///     fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
    ///         Ok(format!("{} ran", ctx.job_type()))
    ///     }
    /// }
    ///
    /// let done = TestContext::new().perform(&SendInvoice)?;
    /// assert_eq!(done.result.ok().as_deref(), Some("send_invoice ran"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn job_type(&self) -> &str {
        &self.job_type
    }

    /// This attempt's number: 1 for the first.
    ///
    /// ```
    /// use runloom::{Job, JobContext, JobError, Perform, testing::TestContext};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Fetch;
    /// impl Perform for Fetch {
    ///     type Output = u32;
    ///     fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
    ///         if ctx.attempt() == 1 {
    ///             return Err(JobError::retry("the cache is cold"));
    ///         }
    ///         Ok(ctx.attempt())
    ///     }
    /// }
    ///
    /// assert!(TestContext::new().attempt(1, 3).perform(&Fetch)?.result.is_err());
    /// assert_eq!(TestContext::new().attempt(2, 3).perform(&Fetch)?.result.ok(), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.number
    }

    /// Attempts allowed for the run.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{EnqueueOptions, Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// #[job(max_attempts = 5)]
    /// struct Charge;
    /// impl Perform for Charge {
    ///     type Output = u32;
    ///     fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
    ///         Ok(ctx.max_attempts())
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Charge>()
    /// #     .start()?;
    /// let id = scheduler.enqueue(Charge)?.id; // the job type's default
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.result::<u32>()?, 5);
    /// let id = scheduler.enqueue_with(Charge, EnqueueOptions::new().max_attempts(2))?.id;
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.result::<u32>()?, 2);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// True when a failure of this attempt fails the run for good.
    ///
    /// ```
    /// use runloom::{Job, JobContext, JobError, Perform, testing::TestContext};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct SendSms;
    /// impl Perform for SendSms {
    ///     type Output = String;
    ///     fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
    ///         if ctx.is_last_attempt() {
    ///             return Ok("sent by email instead".into()); // the fallback, once
    ///         }
    ///         Err(JobError::retry("the SMS gateway is down"))
    ///     }
    /// }
    ///
    /// assert!(TestContext::new().attempt(1, 3).perform(&SendSms)?.result.is_err());
    /// let last = TestContext::new().attempt(3, 3).perform(&SendSms)?;
    /// assert_eq!(last.result.ok().as_deref(), Some("sent by email instead"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_last_attempt(&self) -> bool {
        self.number >= self.max_attempts
    }

    /// When the run was due.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{EnqueueOptions, Job, JobContext, JobError, Perform, Scheduler};
    /// # use runloom::time::macros::datetime;
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct DailyReport;
    /// impl Perform for DailyReport {
    ///     type Output = i64;
    ///     fn perform(&self, ctx: &JobContext) -> Result<i64, JobError> {
    ///         Ok(ctx.scheduled_at().unix_timestamp()) // the day it reports on, however late
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<DailyReport>()
    /// #     .start()?;
    /// let due = datetime!(2024-06-01 0:00 UTC); // in the past: it runs at once
    /// let id = scheduler.enqueue_with(DailyReport, EnqueueOptions::new().at(due))?.id;
    /// let run = scheduler.wait(id, Duration::from_secs(10))?;
    /// assert_eq!(run.result::<i64>()?, due.unix_timestamp());
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn scheduled_at(&self) -> OffsetDateTime {
        self.scheduled_at
    }

    /// When this attempt times out, if the run has a timeout.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use runloom::{Job, JobContext, JobError, Perform, testing::TestContext};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// #[job(timeout = "30s")]
    /// struct Render;
    /// impl Perform for Render {
    ///     type Output = bool;
    ///     fn perform(&self, ctx: &JobContext) -> Result<bool, JobError> {
    ///         let deadline = ctx.deadline().ok_or("no timeout")?;
    ///         // Whether the slow path (10 s) would end before the timeout.
    ///         Ok(Instant::now() + Duration::from_secs(10) < deadline)
    ///     }
    /// }
    ///
    /// assert_eq!(TestContext::new().perform(&Render)?.result.ok(), Some(true));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the timeout, if the run has one (zero once past it).
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{Job, JobContext, JobError, Perform, testing::TestContext};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// #[job(timeout = "60s")]
    /// struct Crawl;
    /// impl Perform for Crawl {
    ///     type Output = Option<Duration>;
    ///     fn perform(&self, ctx: &JobContext) -> Result<Option<Duration>, JobError> {
    ///         Ok(ctx.time_left())
    ///     }
    /// }
    ///
    /// let left = TestContext::new().perform(&Crawl)?.result.ok().flatten().ok_or("no timeout")?;
    /// assert!(left <= Duration::from_secs(60) && left > Duration::from_secs(50));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn time_left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// A key that is the same for every attempt of this run and different for every
    /// other run (in any database): pass it to external systems (payment, email, HTTP
    /// APIs with idempotency support) so that a run executed twice (after a crash or a
    /// lost lease) has its effect once.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Charge;
    /// impl Perform for Charge {
    ///     type Output = String;
    ///     fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
    ///         let key = ctx.idempotency_key().to_owned(); // the payment API's Idempotency-Key
    ///         if ctx.attempt() == 1 {
    ///             // The response was lost: try again, with the same key.
    ///             return Err(JobError::retry_after(Duration::ZERO, key));
    ///         }
    ///         Ok(key)
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Charge>()
    /// #     .start()?;
    /// let run = scheduler.wait(scheduler.enqueue(Charge)?.id, Duration::from_secs(10))?;
    /// let key = run.result::<String>()?;
    /// assert_eq!(run.errors[0].message, key, "the same key on every attempt");
    /// let other = scheduler.wait(scheduler.enqueue(Charge)?.id, Duration::from_secs(10))?;
    /// assert_ne!(other.result::<String>()?, key, "another run, another key");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }

    /// True once the job should stop: the run was cancelled, timed out, lost its lease,
    /// or the scheduler is shutting down. Long jobs should check it between steps.
    ///
    /// ```
    /// use runloom::{CancelReason, Job, JobContext, JobError, Perform, testing::TestContext};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Export {
    ///     pages: u32,
    /// }
    /// impl Perform for Export {
    ///     type Output = u32;
    ///     fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
    ///         let mut exported = 0;
    ///         while exported < self.pages && !ctx.is_cancelled() {
    ///             exported += 1; // one page
    ///         }
    ///         Ok(exported)
    ///     }
    /// }
    ///
    /// assert_eq!(TestContext::new().perform(&Export { pages: 10 })?.result.ok(), Some(10));
    /// let stopped = TestContext::new().cancelled(CancelReason::Shutdown);
    /// assert_eq!(stopped.perform(&Export { pages: 10 })?.result.ok(), Some(0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_set()
    }

    /// Why the job should stop, if it should.
    ///
    /// ```
    /// use runloom::{CancelReason, Job, JobContext, JobError, JobErrorKind, Perform};
    /// use runloom::testing::TestContext;
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Export;
    /// impl Perform for Export {
    ///     type Output = ();
    ///     fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
    ///         match ctx.cancel_reason() {
    ///             None => Ok(()),
    ///             // Interrupted by a shutdown: to be tried again, not cancelled.
    ///             Some(CancelReason::Shutdown) => Err(JobError::retry("interrupted")),
    ///             Some(reason) => Err(JobError::cancel(reason.to_string())),
    ///         }
    ///     }
    /// }
    ///
    /// let kind = |reason| -> Result<_, runloom::Error> {
    ///     let done = TestContext::new().cancelled(reason).perform(&Export)?;
    ///     Ok(done.result.err().map(|e| e.kind()))
    /// };
    /// assert_eq!(kind(CancelReason::Shutdown)?, Some(JobErrorKind::Retry));
    /// assert_eq!(kind(CancelReason::Requested)?, Some(JobErrorKind::Cancel));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn cancel_reason(&self) -> Option<CancelReason> {
        self.cancel.reason()
    }

    /// `Err` once the job should stop, so a job can write `ctx.check_cancelled()?;`
    /// between steps.
    ///
    /// ```
    /// use runloom::{CancelReason, Job, JobContext, JobError, JobErrorKind, Perform};
    /// use runloom::testing::TestContext;
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct CopyTables;
    /// impl Perform for CopyTables {
    ///     type Output = u32;
    ///     fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
    ///         let mut copied = 0;
    ///         for _table in ["users", "orders", "invoices"] {
    ///             ctx.check_cancelled()?; // between tables, never in the middle of one
    ///             copied += 1;
    ///         }
    ///         Ok(copied)
    ///     }
    /// }
    ///
    /// assert_eq!(TestContext::new().perform(&CopyTables)?.result.ok(), Some(3));
    /// let stopped = TestContext::new().cancelled(CancelReason::Requested).perform(&CopyTables)?;
    /// assert_eq!(stopped.result.err().map(|e| e.kind()), Some(JobErrorKind::Cancel));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A cancelling [`JobError`] naming the reason.
    pub fn check_cancelled(&self) -> Result<(), JobError> {
        match self.cancel.reason() {
            None => Ok(()),
            Some(reason) => Err(JobError::cancel(reason.to_string())),
        }
    }

    /// The backend-neutral core of the backends' `transaction` (for SQLite,
    /// [`crate::sqlite::JobContextExt::transaction`]): runs `f` in the write
    /// transaction that completes this run, fenced by its lease.
    pub(crate) fn transaction_with<T: serde::Serialize>(
        &self,
        f: impl FnOnce(&dyn crate::backend::Writes) -> Result<T, JobError>,
    ) -> Result<T, JobError> {
        use std::sync::atomic::Ordering;
        if self.completed.load(Ordering::Acquire) {
            return Err(JobError::fail(
                "the run was already completed by a transaction",
            ));
        }
        if self.inline.is_some() {
            return self.inline_transaction(f);
        }
        let inflight = &self.env.inflight;
        // The transaction owns the attempt's outcome while it writes: neither a timeout
        // nor a release decides it meanwhile, and the heartbeat leaves its lease alone.
        if !inflight.begin_commit(self.attempt) {
            let reason = self.cancel.reason().unwrap_or(CancelReason::LeaseLost);
            return Err(JobError::cancel(reason.to_string()));
        }
        // Whatever way this function is left without a decision (the closure fails or
        // panics, the database refuses the write), the outcome goes back to the job:
        // its panic or error then fails the attempt like any other.
        let guard = CommitGuard {
            inflight,
            attempt: self.attempt,
            settled: false,
        };
        let mut job_error = None;
        let now = self.env.clock.now();
        let timing = crate::model::AttemptTiming::new(self.started_at, self.started.elapsed());
        let mut created = Vec::new();
        let result = self.env.store.write(|tx| {
            let value = match f(tx) {
                Ok(v) => v,
                Err(e) => {
                    job_error = Some(e);
                    return Err(crate::Error::invalid(
                        "transaction",
                        "the job's closure failed",
                    ));
                }
            };
            // Copied, not taken: a transaction that fails leaves them for the next.
            let follow_ups = self.follow_ups.lock().clone();
            created.clear();
            for run in &follow_ups {
                created.push((
                    tx.insert_run(run, now)?,
                    run.job_type.clone(),
                    run.scheduled_at,
                ));
            }
            let json = serde_json::to_string(&value).map_err(|e| crate::Error::Payload {
                job_type: self.job_type.clone(),
                detail: e.to_string(),
            })?;
            let outcome = crate::model::AttemptOutcome::Completed { result: json };
            tx.finish_attempt(
                self.attempt.run,
                self.attempt.token,
                &outcome,
                Some(timing),
                now,
            )?;
            Ok(value)
        });
        match result {
            Ok(value) => {
                guard.settle();
                self.completed.store(true, Ordering::Release);
                self.follow_ups.lock().clear();
                if !created.is_empty() {
                    for (inserted, job_type, scheduled_at) in created {
                        self.env.events.emit(crate::Event::Enqueued {
                            run: inserted.id,
                            job_type,
                            created: inserted.created,
                            scheduled_at,
                        });
                    }
                    (self.env.new_work)();
                }
                self.env.stats.record(crate::model::RunStatus::Completed);
                self.env.events.emit(crate::Event::Completed {
                    run: self.attempt.run,
                    job_type: self.job_type.clone(),
                    duration: timing.duration,
                });
                Ok(value)
            }
            Err(e) if e.is_lease_lost() => {
                guard.settle();
                log::warn!(
                    "{}: the lease was lost before its transaction; its writes were discarded",
                    self.attempt
                );
                self.cancel.cancel(CancelReason::LeaseLost);
                self.env.stats.lease_lost.inc();
                self.env.events.emit(crate::Event::LeaseLost {
                    run: self.attempt.run,
                    job_type: self.job_type.clone(),
                    token: self.attempt.token,
                });
                Err(JobError::cancel(CancelReason::LeaseLost.to_string()))
            }
            Err(e) => {
                drop(guard);
                Err(job_error.unwrap_or_else(|| JobError::retry(e.to_string())))
            }
        }
    }

    /// The application's value of type `T`, given to the builder with
    /// [`SchedulerBuilder::state`](crate::SchedulerBuilder::state): a pool, an HTTP
    /// client, configuration, shared by every attempt (wrap what needs interior
    /// mutability in a `Mutex` or use a type that has its own).
    ///
    /// ```
    /// use runloom::{Job, JobContext, JobError, Perform};
    /// use serde::{Deserialize, Serialize};
    ///
    /// struct Mailer {
    ///     from: String,
    /// }
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// #[job(state = "Mailer")] // checked at start: the scheduler refuses to start without one
    /// struct Welcome {
    ///     to: String,
    /// }
    ///
    /// impl Perform for Welcome {
    ///     type Output = String;
    ///     fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
    ///         let mailer = ctx.state::<Mailer>()?;
    ///         Ok(format!("{} -> {}", mailer.from, self.to))
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let scheduler = runloom::Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .state(Mailer { from: "hello@example.com".into() })
    ///     .register::<Welcome>()
    ///     .start()?;
    /// let run = scheduler.enqueue(Welcome { to: "ann@example.com".into() })?;
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A permanent failure (no retry: a retry would not find it either) when no value of
    /// type `T` was given. Declaring the type ([`crate::Job::required_state`],
    /// `#[job(state = "...")]`) turns that into an error at start instead.
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<&T, JobError> {
        self.env.state.get::<T>().ok_or_else(|| {
            JobError::fail(format!(
                "no application state of type {} was given to the scheduler \
                 (SchedulerBuilder::state)",
                std::any::type_name::<T>()
            ))
        })
    }

    /// The job's transaction under a test context: the closure's writes commit (there is
    /// no run to complete or lease to fence), and the follow-ups stay recorded for the
    /// test to read.
    fn inline_transaction<T: serde::Serialize>(
        &self,
        f: impl FnOnce(&dyn crate::backend::Writes) -> Result<T, JobError>,
    ) -> Result<T, JobError> {
        let mut job_error = None;
        let result = self.env.store.write(|tx| match f(tx) {
            Ok(v) => Ok(v),
            Err(e) => {
                job_error = Some(e);
                Err(crate::Error::invalid(
                    "transaction",
                    "the job's closure failed",
                ))
            }
        });
        match result {
            Ok(v) => {
                self.completed
                    .store(true, std::sync::atomic::Ordering::Release);
                Ok(v)
            }
            Err(e) => Err(job_error.unwrap_or_else(|| JobError::retry(e.report().to_string()))),
        }
    }

    /// Whether follow-up runs wait for this run's completion.
    pub(crate) fn has_follow_ups(&self) -> bool {
        !self.follow_ups.lock().is_empty()
    }

    /// Whether a transaction of the job already completed the run.
    pub(crate) fn is_completed(&self) -> bool {
        self.completed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The runs this run waited for (its upstream), oldest first, each as it ended:
    /// its status and, when it completed, its result ([`crate::Run::result`]).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, OnUpstreamFailure, Perform, RunStatus};
    /// # use runloom::Scheduler;
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Shard(u32);
    /// impl Perform for Shard {
    ///     type Output = u32;
    ///     fn perform(&self, _: &JobContext) -> Result<u32, JobError> {
    ///         if self.0 == 2 {
    ///             return Err(JobError::fail("disk full"));
    ///         }
    ///         Ok(self.0)
    ///     }
    /// }
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Summary;
    /// impl Perform for Summary {
    ///     type Output = (usize, usize);
    ///     fn perform(&self, ctx: &JobContext) -> Result<(usize, usize), JobError> {
    ///         let runs = ctx.upstream()?;
    ///         let failed = runs.iter().filter(|r| r.status == RunStatus::Failed).count();
    ///         Ok((runs.len(), failed))
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Shard>()
    /// #     .register::<Summary>()
    /// #     .start()?;
    /// let mut batch = scheduler.batch();
    /// let summary = batch.add(Summary)?;
    /// for n in 1..=3 {
    ///     let shard = batch.add(Shard(n))?;
    ///     batch.depends_on_with(summary, shard, OnUpstreamFailure::Run)?; // runs in any case
    /// }
    /// let runs = batch.submit()?;
    /// let done = scheduler.wait(runs[0].id, Duration::from_secs(10))?;
    /// assert_eq!(done.result::<(usize, usize)>()?, (3, 1));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A retryable failure when the database could not be read.
    pub fn upstream(&self) -> Result<Vec<crate::Run>, JobError> {
        if let Some(inline) = &self.inline {
            return Ok(inline.upstream.clone());
        }
        let run = self.attempt.run;
        let mut runs = self
            .env
            .store
            .read(|tx| {
                tx.upstream_of(run)?
                    .iter()
                    .map(|edge| tx.get_run(edge.upstream))
                    .collect::<crate::Result<Vec<_>>>()
            })
            .map_err(|e| JobError::retry(format!("reading the upstream runs: {}", e.report())))?;
        runs.sort_by_key(|r| r.id);
        Ok(runs)
    }

    /// The results of the completed upstream runs of job type `J`, oldest first (a
    /// fan-in reads every branch's output this way), typed as `J`'s output.
    ///
    /// ```
    /// use runloom::{Job, JobContext, JobError, Perform, testing::TestContext};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct CountWords(String);
    /// impl Perform for CountWords {
    ///     type Output = usize;
    ///     fn perform(&self, _: &JobContext) -> Result<usize, JobError> {
    ///         Ok(self.0.split_whitespace().count())
    ///     }
    /// }
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Total;
    /// impl Perform for Total {
    ///     type Output = usize;
    ///     fn perform(&self, ctx: &JobContext) -> Result<usize, JobError> {
    ///         Ok(ctx.upstream_results::<CountWords>()?.iter().sum())
    ///     }
    /// }
    ///
    /// let test = TestContext::new()
    ///     .upstream(&CountWords("a b".into()), &2)
    ///     .upstream(&CountWords("c d e".into()), &3);
    /// assert_eq!(test.perform(&Total)?.result.ok(), Some(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A retryable failure when the database could not be read; a permanent one when a
    /// result does not decode into `J::Output`.
    pub fn upstream_results<J>(&self) -> Result<Vec<J::Output>, JobError>
    where
        J: super::Perform,
        J::Output: serde::de::DeserializeOwned,
    {
        self.upstream()?
            .iter()
            .filter(|r| r.job_type == J::NAME && r.status == crate::RunStatus::Completed)
            .map(|r| {
                r.result::<J::Output>()
                    .map_err(|e| JobError::fail(crate::Error::from(e).to_string()))
            })
            .collect()
    }

    /// The result of the one completed upstream run of job type `J` (a pipeline's
    /// previous step), typed as `J`'s output.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Extract;
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Load;
    ///
    /// impl Perform for Extract {
    ///     type Output = Vec<u32>;
    ///     fn perform(&self, _: &JobContext) -> Result<Vec<u32>, JobError> {
    ///         Ok(vec![1, 2, 3])
    ///     }
    /// }
    /// impl Perform for Load {
    ///     type Output = u32;
    ///     fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
    ///         let rows = ctx.upstream_result::<Extract>()?;
    ///         Ok(rows.iter().sum())
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .register::<Extract>()
    ///     .register::<Load>()
    ///     .start()?;
    /// let mut batch = scheduler.batch();
    /// let extract = batch.add(Extract)?;
    /// let load = batch.add(Load)?;
    /// batch.depends_on(load, extract)?;
    /// let runs = batch.submit()?;
    /// let loaded = scheduler.wait(runs[1].id, Duration::from_secs(10))?;
    /// assert_eq!(loaded.result::<u32>()?, 6);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A permanent failure unless exactly one upstream run of type `J` completed (none:
    /// the edge ran anyway after a failure, or there is no such edge; several: use
    /// [`JobContext::upstream_results`]) or when its result does not decode; a
    /// retryable one when the database could not be read.
    pub fn upstream_result<J>(&self) -> Result<J::Output, JobError>
    where
        J: super::Perform,
        J::Output: serde::de::DeserializeOwned,
    {
        let mut results = self.upstream_results::<J>()?;
        match results.len() {
            1 => Ok(results.remove(0)),
            n => Err(JobError::fail(format!(
                "run {} has {n} completed upstream runs of job type {:?}, not one",
                self.attempt.run,
                J::NAME
            ))),
        }
    }

    /// Sleeps for `duration`, waking early when the job should stop.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{CancelOutcome, Event, Job, JobContext, JobError, Perform, RunStatus};
    /// # use runloom::Scheduler;
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Watch;
    /// impl Perform for Watch {
    ///     type Output = ();
    ///     fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
    ///         loop {
    ///             ctx.sleep(Duration::from_secs(3600))?; // until the next check, or a cancel
    ///         }
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Watch>()
    /// #     .start()?;
    /// let events = scheduler.subscribe(16);
    /// let id = scheduler.enqueue(Watch)?.id;
    /// while !matches!(events.recv_timeout(Duration::from_secs(10))?, Event::Started { .. }) {}
    /// assert_eq!(scheduler.cancel(id)?, CancelOutcome::Requested);
    /// let run = scheduler.wait(id, Duration::from_secs(10))?; // woken at once, not in an hour
    /// assert_eq!(run.status, RunStatus::Cancelled);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`JobContext::check_cancelled`] when woken by a cancellation.
    pub fn sleep(&self, duration: Duration) -> Result<(), JobError> {
        let until = Instant::now() + duration;
        match self.cancel.wait_until(until) {
            None => Ok(()),
            Some(reason) => Err(JobError::cancel(reason.to_string())),
        }
    }
}

/// Hands an attempt's outcome back to its job unless the job's transaction settled it:
/// a panic unwinding through [`crate::sqlite::JobContextExt::transaction`] must not
/// leave the attempt owned by a transaction that no longer exists.
struct CommitGuard<'a> {
    inflight: &'a crate::inflight::InFlight,
    attempt: Attempt,
    settled: bool,
}

impl CommitGuard<'_> {
    fn settle(mut self) {
        self.settled = true;
        self.inflight.commit_settled(self.attempt);
    }
}

impl Drop for CommitGuard<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.inflight.commit_abandoned(self.attempt);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_wins_and_wakes_a_sleeper() {
        let flag = Arc::new(CancelFlag::default());
        let f = flag.clone();
        let t = std::thread::spawn(move || f.wait_until(Instant::now() + Duration::from_secs(30)));
        flag.cancel(CancelReason::Requested);
        flag.cancel(CancelReason::Timeout);
        assert_eq!(t.join().unwrap(), Some(CancelReason::Requested));
        assert_eq!(flag.reason(), Some(CancelReason::Requested));
    }
}
