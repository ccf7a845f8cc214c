//! The [`Scheduler`] handle: enqueueing, control, statistics, each delegating to the
//! stage that does it (enqueue/, schedule/, admin/, metrics.rs). Starting is in
//! `wiring.rs`, the one place the threads are built; the end of its life in
//! `shutdown.rs`.

mod shutdown;
mod wiring;

use std::{fmt, sync::Arc};

use crossbeam_channel::Receiver;
use parking_lot::Mutex;
use time::OffsetDateTime;

use crate::{
    admin::Admin,
    backend::{Backend, Cutoff},
    clock::Clock,
    config::{Config, SchedulerBuilder},
    dispatch::wake::{Wake, Waker},
    enqueue::{Batch, BatchEdge, EnqueueOptions, Enqueuer},
    error::{Error, Result},
    events::{Event, Events},
    inflight::InFlight,
    job::{Job, registry::Registry},
    maintenance::{MaintenanceReport, Service},
    metrics::{SchedulerStats, Stats},
    model::{
        CancelOutcome, DependencyEdge, DependencyLimits, Inserted, NewDependency, NewRun, Run,
        RunFilter, RunId, Task, WorkerId,
    },
    schedule::{self, ScheduleSpec},
};

use self::shutdown::Lifecycle;
pub use self::shutdown::SHUTDOWN_OVERRUN;
#[cfg(feature = "internals")]
use crate::store::Store;

/// Everything the scheduler's threads share.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Backend>,
    pub(crate) config: Config,
    pub(crate) registry: Registry,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) worker_id: WorkerId,
    pub(crate) database_id: String,
    pub(crate) inflight: Arc<InFlight>,
    pub(crate) events: Arc<Events>,
    pub(crate) stats: Arc<Stats>,
    /// Brought forward by a shutdown: the dispatcher's waits for the lock end then.
    pub(crate) dispatch_cutoff: Arc<Cutoff>,
    pub(crate) waker: Waker,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("worker_id", &self.worker_id)
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Asks the dispatcher to look again, for `why` (coalesced, never blocks).
    pub(crate) fn wake(&self, why: Wake) {
        self.waker.wake(why);
    }
}

/// A running scheduler: enqueue work, control runs, read figures, shut down.
///
/// Cheap to share: wrap it in an `Arc` to use it from several threads (every method
/// takes `&self`). Dropping it shuts it down with the configured grace period.
pub struct Scheduler {
    shared: Arc<Shared>,
    admin: Admin,
    /// The SQLite store behind the interface, for the `internals` feature's tests
    /// (none on PostgreSQL).
    #[cfg(feature = "internals")]
    sqlite: Option<Store>,
    lifecycle: Mutex<Lifecycle>,
    stopped: parking_lot::Condvar,
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("worker_id", &self.shared.worker_id)
            .field("store", &self.shared.store)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A builder with every default; see [`SchedulerBuilder`].
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = runloom::Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .worker_threads(2)
    ///     .start()?;
    /// assert!(scheduler.job_types().is_empty(), "no job type registered");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn builder() -> SchedulerBuilder {
        SchedulerBuilder::new()
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.shared.clock.now()
    }

    pub(crate) fn enqueuer(&self) -> Enqueuer<'_> {
        Enqueuer {
            registry: &self.shared.registry,
            max_payload_bytes: self.shared.config.max_payload_bytes,
            allow_foreign: self.shared.config.allow_foreign_job_types,
        }
    }

    fn check_running(&self) -> Result<()> {
        if !matches!(*self.lifecycle.lock(), Lifecycle::Running(_)) {
            return Err(Error::ShutDown);
        }
        Ok(())
    }

    /// The database this scheduler runs on is PostgreSQL (not a SQLite file).
    pub(crate) fn on_postgres(&self) -> bool {
        #[cfg(feature = "postgres")]
        return self.shared.config.postgres.is_some();
        #[cfg(not(feature = "postgres"))]
        return false;
    }

    /// This instance's id in the `workers` table (the owner named in its leases).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = runloom::Scheduler::builder().database(dir.path().join("jobs.db")).start()?;
    /// let workers = scheduler.admin().workers(false)?;
    /// assert_eq!(workers[0].worker.id, scheduler.worker_id());
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn worker_id(&self) -> WorkerId {
        self.shared.worker_id
    }

    /// The storage layer (feature `internals`: this workspace's tests and benches).
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    #[must_use]
    pub fn store(&self) -> &Store {
        match &self.sqlite {
            Some(store) => store,
            // Only this workspace's SQLite tests call it.
            None => panic!("Scheduler::store: this scheduler runs on PostgreSQL, not SQLite"),
        }
    }

    /// The operator's handle on this scheduler's database (its connections, clock and
    /// policies): everything [`Admin`] offers, from a running host.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = runloom::Scheduler::builder().database(dir.path().join("jobs.db")).start()?;
    /// let health = scheduler.admin().health()?;
    /// assert_eq!(health.live_workers, 1);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// The job types this scheduler runs.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct SendEmail;
    /// # impl Perform for SendEmail {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .register::<SendEmail>()
    ///     .start()?;
    /// assert_eq!(scheduler.job_types(), ["send_email"]);
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn job_types(&self) -> Vec<String> {
        self.shared.registry.names()
    }

    /// Enqueues a job, due now, with its type's default options.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Resize {
    ///     width: u32,
    /// }
    /// impl Perform for Resize {
    ///     type Output = u32;
    ///     fn perform(&self, _: &JobContext) -> Result<u32, JobError> {
    ///         Ok(self.width / 2)
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Resize>()
    /// #     .start()?;
    /// let inserted = scheduler.enqueue(Resize { width: 640 })?;
    /// assert!(inserted.created);
    /// assert_eq!(inserted.status, RunStatus::Pending);
    /// let run = scheduler.wait(inserted.id, Duration::from_secs(10))?;
    /// assert_eq!(run.result::<u32>()?, 320);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownJobType`] when the type is not registered;
    /// [`Error::Payload`] when it does not serialize; [`Error::PayloadTooLarge`];
    /// [`Error::InvalidArgument`] for an option out of range; [`Error::ShutDown`];
    /// database errors (e.g. busy past the busy timeout). Nothing is written on error.
    pub fn enqueue<J: Job>(&self, job: J) -> Result<Inserted> {
        self.enqueue_with(job, EnqueueOptions::new())
    }

    /// Enqueues a job with options (time or delay, priority, attempts, timeout,
    /// backoff, unique key).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{EnqueueOptions, Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Reminder;
    /// # impl Perform for Reminder {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Reminder>()
    /// #     .start()?;
    /// let opts = EnqueueOptions::new().delay(Duration::from_secs(3600)).priority(90);
    /// let id = scheduler.enqueue_with(Reminder, opts)?.id;
    /// let run = scheduler.run(id)?;
    /// assert_eq!(run.priority, 90);
    /// assert!(run.scheduled_at > run.created_at + runloom::time::Duration::minutes(59));
    /// assert_eq!(run.status, RunStatus::Pending);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Scheduler::enqueue`]; [`Error::InvalidArgument`] for both a time and a
    /// delay, or a delay that overflows.
    pub fn enqueue_with<J: Job>(&self, job: J, opts: EnqueueOptions) -> Result<Inserted> {
        self.check_running()?;
        let run = self.enqueuer().run_for(&job, &opts, self.now())?;
        Ok(self.submit_runs(std::slice::from_ref(&run), &[])?.remove(0))
    }

    /// Enqueues a job of a type named at run time, with its payload as JSON (for tools
    /// and other binaries). The payload must decode into the registered type.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{EnqueueOptions, Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Add {
    /// #     a: i64,
    /// #     b: i64,
    /// # }
    /// # impl Perform for Add {
    /// #     type Output = i64;
    /// #     fn perform(&self, _: &JobContext) -> Result<i64, JobError> {
    /// #         Ok(self.a + self.b)
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Add>()
    /// #     .start()?;
    /// let id = scheduler.enqueue_json("add", r#"{"a": 2, "b": 3}"#, EnqueueOptions::new())?.id;
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.result::<i64>()?, 5);
    /// // JSON that does not decode into `Add` is refused.
    /// let refused = scheduler.enqueue_json("add", r#"{"a": "two"}"#, EnqueueOptions::new());
    /// assert!(matches!(refused, Err(runloom::Error::Payload { .. })));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Scheduler::enqueue_with`]; [`Error::Payload`] when the JSON does not decode
    /// into the job type.
    pub fn enqueue_json(
        &self,
        job_type: &str,
        payload: &str,
        opts: EnqueueOptions,
    ) -> Result<Inserted> {
        self.check_running()?;
        let run = self
            .enqueuer()
            .run_for_json(job_type, payload, &opts, self.now())?;
        Ok(self.submit_runs(std::slice::from_ref(&run), &[])?.remove(0))
    }

    /// Enqueues many jobs of one type in one transaction: all or none.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Thumbnail(u32);
    /// # impl Perform for Thumbnail {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Thumbnail>()
    /// #     .start()?;
    /// let runs = scheduler.enqueue_many((1..=3).map(Thumbnail))?;
    /// assert_eq!(runs.len(), 3);
    /// assert!(runs.iter().all(|r| r.created));
    /// scheduler.wait_idle(Duration::from_secs(10))?;
    /// assert_eq!(scheduler.stats()?.counts.completed, 3);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Scheduler::enqueue`]; on error nothing was enqueued.
    pub fn enqueue_many<J: Job>(&self, jobs: impl IntoIterator<Item = J>) -> Result<Vec<Inserted>> {
        let mut batch = self.batch();
        for job in jobs {
            batch.add(job)?;
        }
        batch.submit()
    }

    /// A batch of jobs (of any types), optionally with dependency edges, enqueued
    /// together in one transaction.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Download;
    /// # impl Perform for Download {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Unpack;
    /// # impl Perform for Unpack {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Download>()
    /// #     .register::<Unpack>()
    /// #     .start()?;
    /// let mut batch = scheduler.batch();
    /// let download = batch.add(Download)?;
    /// let unpack = batch.add(Unpack)?;
    /// batch.depends_on(unpack, download)?;
    /// let runs = batch.submit()?;
    /// assert_eq!(runs[1].status, RunStatus::Blocked, "unpack waits for the download");
    /// let unpacked = scheduler.wait(runs[1].id, Duration::from_secs(10))?;
    /// assert_eq!(unpacked.status, RunStatus::Completed);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            target: self,
            runs: Vec::new(),
            edges: Vec::new(),
        }
    }

    pub(crate) fn dependency_limits(&self) -> DependencyLimits {
        self.shared.config.dependency_limits
    }

    /// Makes existing runs wait for others: each `downstream` must not have started; it
    /// becomes `blocked` while an upstream is unfinished. All edges or none.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, NewDependency, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Step(u32);
    /// # impl Perform for Step {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Step>()
    /// #     .start()?;
    /// scheduler.pause()?; // so that neither run starts before the edge exists
    /// let first = scheduler.enqueue(Step(1))?.id;
    /// let second = scheduler.enqueue(Step(2))?.id;
    /// assert_eq!(scheduler.add_dependencies(&[NewDependency::new(second, first)])?, 1);
    /// assert_eq!(scheduler.run(second)?.status, RunStatus::Blocked);
    /// scheduler.resume()?;
    /// assert_eq!(scheduler.wait(second, Duration::from_secs(10))?.status, RunStatus::Completed);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::SelfDependency`], [`Error::DependencyCycle`],
    /// [`Error::UnknownDependency`], [`Error::DependencyNotAllowed`],
    /// [`Error::DependencyLimit`]; nothing is written on error.
    pub fn add_dependencies(&self, edges: &[NewDependency]) -> Result<usize> {
        let now = self.now();
        let limits = self.shared.config.dependency_limits;
        let added = self.shared.store.add_dependencies(edges, &limits, now)?;
        self.shared.wake(Wake::Work);
        Ok(added)
    }

    /// Every edge of the dependency graph around a run: its ancestors' and
    /// descendants' edges, with the status of both ends.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Step(u32);
    /// # impl Perform for Step {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Step>()
    /// #     .start()?;
    /// let mut batch = scheduler.batch();
    /// let (a, b, c) = (batch.add(Step(1))?, batch.add(Step(2))?, batch.add(Step(3))?);
    /// batch.depends_on(b, a)?.depends_on(c, b)?;
    /// let runs = batch.submit()?;
    /// // Around the middle run: the edge from its upstream and the edge to its downstream.
    /// let edges = scheduler.dependency_graph(runs[1].id)?;
    /// assert_eq!(edges.len(), 2);
    /// assert!(edges.iter().any(|e| e.upstream == runs[0].id && e.downstream == runs[1].id));
    /// assert!(edges.iter().any(|e| e.upstream == runs[1].id && e.downstream == runs[2].id));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn dependency_graph(&self, run: RunId) -> Result<Vec<DependencyEdge>> {
        self.admin.dependency_graph(run)
    }

    /// The backend-neutral core of the backends' `enqueue_tx` (for SQLite,
    /// [`crate::sqlite::SchedulerExt::enqueue_tx`]): the run `job` makes, inserted by
    /// `insert` inside the host's transaction.
    pub(crate) fn enqueue_in<J: Job>(
        &self,
        job: J,
        opts: &EnqueueOptions,
        insert: impl FnOnce(&NewRun, OffsetDateTime) -> Result<Inserted>,
    ) -> Result<Inserted> {
        self.check_running()?;
        let now = self.now();
        let run = self.enqueuer().run_for(&job, opts, now)?;
        insert(&run, now)
    }

    /// Wakes the dispatcher to look for due runs and due schedules now, after work was
    /// written around the scheduler (a host's own transaction, another tool on the
    /// file); otherwise it notices within the poll interval.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{EnqueueOptions, Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Hello;
    /// # impl Perform for Hello {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .poll_interval(Duration::from_secs(60)) // it would not look on its own for a minute
    ///     .register::<Hello>()
    ///     .start()?;
    /// // Written around the scheduler: by an admin handle, as another tool would.
    /// let id = scheduler.admin().enqueue_json("hello", "null", &EnqueueOptions::new())?.id;
    /// scheduler.notify();
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.status, RunStatus::Completed);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn notify(&self) {
        self.shared.wake(Wake::Schedules);
        self.shared.wake(Wake::Work);
    }

    pub(crate) fn submit_runs(
        &self,
        runs: &[NewRun],
        edges: &[BatchEdge],
    ) -> Result<Vec<Inserted>> {
        self.check_running()?;
        let shared = &self.shared;
        let with = crate::enqueue::Submitter {
            store: shared.store.as_ref(),
            clock: shared.clock.as_ref(),
            limits: shared.config.dependency_limits,
            events: &shared.events,
            waker: &shared.waker,
        };
        crate::enqueue::submit(&with, runs, edges)
    }

    /// Creates the schedule `name`, or updates it if it exists: `job` (its type and
    /// payload) runs on `spec`. Calling it again with the same definition (at every
    /// start of the host, say) changes nothing; a changed definition is written with
    /// optimistic locking, and its next occurrence is recomputed only if the timing
    /// changed. The schedule lives in the database: every process sharing the file
    /// continues it, and each occurrence runs once.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, ScheduleSpec, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Cleanup;
    /// # impl Perform for Cleanup {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Cleanup>()
    /// #     .start()?;
    /// let task = scheduler.schedule("cleanup", Cleanup, ScheduleSpec::cron("0 3 * * *"))?;
    /// assert_eq!((task.name.as_str(), task.job_type.as_str()), ("cleanup", "cleanup"));
    /// assert!(task.enabled);
    /// // The same definition at the next start changes nothing.
    /// let again = scheduler.schedule("cleanup", Cleanup, ScheduleSpec::cron("0 3 * * *"))?;
    /// assert_eq!(again.version, task.version);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidCron`] (with the parser's message), [`Error::UnknownTimeZone`],
    /// [`Error::UnknownJobType`], [`Error::Payload`], [`Error::PayloadTooLarge`],
    /// [`Error::InvalidArgument`]; [`Error::VersionConflict`] when another process
    /// changed the schedule at the same moment. Nothing is written on error.
    pub fn schedule<J: Job>(&self, name: &str, job: J, spec: ScheduleSpec) -> Result<Task> {
        self.check_running()?;
        crate::model::validate_name("schedule name", name)?;
        let recurrence = spec.compile()?;
        let now = self.now();
        let payload = self
            .enqueuer()
            .run_for(&job, &EnqueueOptions::new(), now)?
            .payload;
        let task = schedule::upsert(
            self.shared.store.as_ref(),
            name,
            J::NAME,
            payload,
            &spec,
            J::options(),
            &recurrence,
            now,
        )?;
        self.shared.wake(Wake::Schedules);
        Ok(task)
    }

    /// Schedules `job` on its type's default schedule (`#[job(cron = "...")]`), under
    /// the job type's name. Like [`Scheduler::schedule`], calling it at every start
    /// changes nothing.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// #[job(cron = "0 8 * * Mon")]
    /// struct WeeklyDigest;
    /// # impl Perform for WeeklyDigest {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<WeeklyDigest>()
    /// #     .start()?;
    /// let task = scheduler.schedule_default(WeeklyDigest)?;
    /// assert_eq!(task.name, "weekly_digest");
    /// let next = scheduler.next_fire_times("weekly_digest", 1)?;
    /// assert_eq!(next[0].weekday(), runloom::time::Weekday::Monday);
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the job type has no default schedule; as
    /// [`Scheduler::schedule`].
    pub fn schedule_default<J: Job>(&self, job: J) -> Result<Task> {
        let spec = J::default_schedule().ok_or_else(|| {
            Error::invalid(
                "schedule",
                format!(
                    "job type {:?} has no default schedule (#[job(cron = \"...\")])",
                    J::NAME
                ),
            )
        })?;
        self.schedule(J::NAME, job, spec)
    }

    /// Removes the schedule `name` (soft delete: its runs keep their history). Returns
    /// false when no such schedule exists.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, ScheduleSpec, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Poll;
    /// # impl Perform for Poll {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Poll>()
    /// #     .start()?;
    /// scheduler.schedule("poll", Poll, ScheduleSpec::every(Duration::from_secs(3600)))?;
    /// assert!(scheduler.unschedule("poll")?);
    /// assert!(!scheduler.unschedule("poll")?, "already gone");
    /// assert!(scheduler.schedules()?.is_empty());
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::VersionConflict`] when it changed at the same moment; database errors.
    pub fn unschedule(&self, name: &str) -> Result<bool> {
        let now = self.now();
        self.shared
            .store
            .write(|tx| match tx.find_task_by_name(name)? {
                Some(t) if t.schedule != crate::model::Schedule::None => {
                    tx.delete_task(t.id, t.version, now)?;
                    Ok(true)
                }
                _ => Ok(false),
            })
    }

    /// Disables the schedule `name` in every process sharing the database (see
    /// [`Admin::disable_schedule`]: occurrences not started are cancelled, none is
    /// created until it is enabled again, and a later [`Scheduler::schedule`] without
    /// `.enabled(...)` leaves it disabled).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, ScheduleSpec, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Poll;
    /// # impl Perform for Poll {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Poll>()
    /// #     .start()?;
    /// scheduler.schedule("poll", Poll, ScheduleSpec::every(Duration::from_secs(3600)))?;
    /// let task = scheduler.disable_schedule("poll")?;
    /// assert!(!task.enabled);
    /// assert!(scheduler.next_fire_times("poll", 1)?.is_empty(), "a disabled one does not fire");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Admin::disable_schedule`].
    pub fn disable_schedule(&self, name: &str) -> Result<Task> {
        let task = self.admin.disable_schedule(name)?;
        self.shared.wake(Wake::Schedules);
        Ok(task)
    }

    /// Enables the schedule `name` again, continuing from now (see
    /// [`Admin::enable_schedule`]).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, ScheduleSpec, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Poll;
    /// # impl Perform for Poll {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Poll>()
    /// #     .start()?;
    /// scheduler.schedule("poll", Poll, ScheduleSpec::every(Duration::from_secs(3600)))?;
    /// scheduler.disable_schedule("poll")?;
    /// let task = scheduler.enable_schedule("poll")?;
    /// assert!(task.enabled);
    /// assert_eq!(scheduler.next_fire_times("poll", 1)?.len(), 1);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Admin::disable_schedule`].
    pub fn enable_schedule(&self, name: &str) -> Result<Task> {
        let task = self.admin.enable_schedule(name)?;
        self.shared.wake(Wake::Schedules);
        Ok(task)
    }

    /// One run of the task `name` now (see [`Admin::trigger`]).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunStatus, ScheduleSpec, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Backup;
    /// # impl Perform for Backup {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Backup>()
    /// #     .start()?;
    /// let task = scheduler.schedule("backup", Backup, ScheduleSpec::cron("0 2 * * *"))?;
    /// let inserted = scheduler.trigger("backup")?; // now, not at 02:00
    /// let run = scheduler.wait(inserted.id, Duration::from_secs(10))?;
    /// assert_eq!(run.status, RunStatus::Completed);
    /// assert_eq!(run.task_id, Some(task.id));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Admin::trigger`]; [`Error::ShutDown`].
    pub fn trigger(&self, name: &str) -> Result<Inserted> {
        self.check_running()?;
        let inserted = self.admin.trigger(name)?;
        if self.shared.events.is_observed() {
            let run = self.admin.run(inserted.id)?;
            self.shared.events.emit(Event::Enqueued {
                run: inserted.id,
                job_type: run.job_type,
                created: inserted.created,
                scheduled_at: run.scheduled_at,
            });
        }
        self.shared.wake(Wake::Work);
        Ok(inserted)
    }

    /// Every live schedule.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, ScheduleSpec, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Report;
    /// # impl Perform for Report {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Report>()
    /// #     .start()?;
    /// scheduler.schedule("hourly", Report, ScheduleSpec::every(Duration::from_secs(3600)))?;
    /// scheduler.schedule("nightly", Report, ScheduleSpec::cron("0 0 * * *"))?;
    /// let names: Vec<String> = scheduler.schedules()?.into_iter().map(|t| t.name).collect();
    /// assert_eq!(names, ["hourly", "nightly"]);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn schedules(&self) -> Result<Vec<Task>> {
        self.admin.schedules()
    }

    /// The next `n` times the schedule `name` fires.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, ScheduleSpec, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Report;
    /// # impl Perform for Report {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Report>()
    /// #     .start()?;
    /// scheduler.schedule("nightly", Report, ScheduleSpec::cron("0 0 * * *"))?;
    /// let times = scheduler.next_fire_times("nightly", 3)?;
    /// assert_eq!(times.len(), 3);
    /// assert!(times.iter().all(|t| (t.hour(), t.minute()) == (0, 0)));
    /// assert_eq!(times[1] - times[0], runloom::time::Duration::days(1));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::TaskNameNotFound`]; database errors.
    pub fn next_fire_times(&self, name: &str, n: usize) -> Result<Vec<OffsetDateTime>> {
        self.admin.next_fire_times(name, n)
    }

    /// Cancels a run: a blocked or pending run at once (with its dependents); a running
    /// one is asked to stop (its job sees [`crate::JobContext::is_cancelled`], in any
    /// process sharing the database, at the holder's next heartbeat, or at once here).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{CancelOutcome, EnqueueOptions, Job, JobContext, JobError, Perform};
    /// # use runloom::RunStatus;
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Reminder;
    /// # impl Perform for Reminder {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = runloom::Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Reminder>()
    /// #     .start()?;
    /// let later = EnqueueOptions::new().delay(Duration::from_secs(3600));
    /// let id = scheduler.enqueue_with(Reminder, later)?.id;
    /// assert_eq!(scheduler.cancel(id)?, CancelOutcome::Cancelled, "pending: cancelled at once");
    /// assert_eq!(scheduler.run(id)?.status, RunStatus::Cancelled);
    /// assert!(scheduler.cancel(id).is_err(), "it already finished");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; [`Error::InvalidRunState`] when it already finished.
    pub fn cancel(&self, run: RunId) -> Result<CancelOutcome> {
        let outcome = self.admin.cancel_unsettled(run, "cancelled by request")?;
        match outcome {
            CancelOutcome::Requested => {
                self.shared.inflight.request_cancel(run);
            }
            CancelOutcome::Cancelled => {
                self.shared.stats.cancelled.inc();
                if self.shared.events.is_observed() {
                    let cancelled = self.admin.run(run)?;
                    self.shared.events.emit(Event::Cancelled {
                        run,
                        job_type: cancelled.job_type,
                        reason: cancelled
                            .cancel_reason
                            .unwrap_or_else(|| "cancelled by request".to_owned()),
                    });
                }
                // A large cascade goes on in the dispatcher's transactions.
                self.shared.wake(Wake::Work);
            }
        }
        Ok(outcome)
    }

    /// Puts a failed or cancelled run back, due now, with one more attempt: `pending`,
    /// or `blocked` while an upstream run it depends on has not finished (it waits for
    /// it again). Runs cancelled because of it stay cancelled; retry them in turn.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Import;
    /// impl Perform for Import {
    ///     type Output = u32;
    ///     fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
    ///         if ctx.attempt() == 1 {
    ///             return Err(JobError::fail("the file is not there yet"));
    ///         }
    ///         Ok(ctx.attempt())
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Import>()
    /// #     .start()?;
    /// let id = scheduler.enqueue(Import)?.id;
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.status, RunStatus::Failed);
    /// scheduler.retry(id)?; // the file arrived: one more attempt
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.result::<u32>()?, 2);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; [`Error::InvalidRunState`];
    /// [`Error::UpstreamNotRetried`] while an upstream whose failure cancels it stays
    /// failed or cancelled (retry that one first); [`Error::UniqueKeyTaken`].
    pub fn retry(&self, run: RunId) -> Result<()> {
        self.admin.retry(run)?;
        self.shared.wake(Wake::Work);
        Ok(())
    }

    /// Stops claiming in every process sharing the database (running jobs finish).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Hello;
    /// # impl Perform for Hello {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Hello>()
    /// #     .start()?;
    /// scheduler.pause()?;
    /// assert!(scheduler.is_paused()?);
    /// let id = scheduler.enqueue(Hello)?.id; // enqueued, but not claimed while paused
    /// assert_eq!(scheduler.run(id)?.status, RunStatus::Pending);
    /// scheduler.resume()?;
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.status, RunStatus::Completed);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn pause(&self) -> Result<()> {
        self.admin.pause().map(drop)
    }

    /// Resumes claiming in every process sharing the database.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # let scheduler = runloom::Scheduler::builder().database(path).start()?;
    /// scheduler.pause()?;
    /// scheduler.resume()?;
    /// assert!(!scheduler.is_paused()?);
    /// assert!(!scheduler.admin().is_paused()?, "for every process sharing the database");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn resume(&self) -> Result<()> {
        self.admin.resume()?;
        self.shared.wake(Wake::Resumed);
        Ok(())
    }

    /// Stops claiming from `queue` in every process sharing the database (see
    /// [`Admin::pause_queue`]); returns false when it was paused already.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{EnqueueOptions, Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Hello;
    /// # impl Perform for Hello {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .queue("default", 1)
    ///     .queue("mail", 1)
    ///     .register::<Hello>()
    ///     .start()?;
    /// assert!(scheduler.pause_queue("mail")?);
    /// let mail = scheduler.enqueue_with(Hello, EnqueueOptions::new().queue("mail"))?.id;
    /// let other = scheduler.enqueue(Hello)?.id; // the default queue goes on
    /// assert_eq!(scheduler.wait(other, Duration::from_secs(10))?.status, RunStatus::Completed);
    /// assert_eq!(scheduler.run(mail)?.status, RunStatus::Pending);
    /// scheduler.resume_queue("mail")?;
    /// assert_eq!(scheduler.wait(mail, Duration::from_secs(10))?.status, RunStatus::Completed);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad queue name; database errors.
    pub fn pause_queue(&self, queue: &str) -> Result<bool> {
        self.admin.pause_queue(queue)
    }

    /// Resumes claiming from `queue` in every process sharing the database (see
    /// [`Admin::resume_queue`]); this process claims from it at once.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = runloom::Scheduler::builder().database(dir.path().join("jobs.db")).start()?;
    /// scheduler.pause_queue("default")?;
    /// assert!(scheduler.resume_queue("default")?);
    /// assert!(!scheduler.resume_queue("default")?, "it was not paused any more");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad queue name; database errors.
    pub fn resume_queue(&self, queue: &str) -> Result<bool> {
        let changed = self.admin.resume_queue(queue)?;
        self.shared.wake(Wake::Resumed);
        Ok(changed)
    }

    /// Every queue with unfinished runs or a pause record (see [`Admin::queues`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = runloom::Scheduler::builder().database(dir.path().join("jobs.db")).start()?;
    /// assert!(scheduler.queues()?.is_empty(), "nothing enqueued, nothing paused");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn queues(&self) -> Result<Vec<crate::model::QueueInfo>> {
        self.admin.queues()
    }

    /// Whether claiming is paused.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # let scheduler = runloom::Scheduler::builder().database(path).start()?;
    /// assert!(!scheduler.is_paused()?);
    /// scheduler.admin().pause()?; // an operator pauses the database
    /// assert!(scheduler.is_paused()?);
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn is_paused(&self) -> Result<bool> {
        self.admin.is_paused()
    }

    /// A run by id.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, RunId, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Invoice {
    /// #     number: u32,
    /// # }
    /// # impl Perform for Invoice {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Invoice>()
    /// #     .start()?;
    /// let id = scheduler.enqueue(Invoice { number: 7 })?.id;
    /// let run = scheduler.run(id)?;
    /// assert_eq!(run.job_type, "invoice");
    /// assert_eq!(run.payload, r#"{"number":7}"#);
    /// assert!(scheduler.run(RunId::new(9999)).is_err_and(|e| e.is_not_found()));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; database errors.
    pub fn run(&self, id: RunId) -> Result<Run> {
        self.admin.run(id)
    }

    /// Waits until the run has finished and returns it: [`Admin::wait`], woken by this
    /// scheduler's own events the moment one of its runs changes.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Hello;
    /// impl Perform for Hello {
    ///     type Output = String;
    ///     fn perform(&self, _: &JobContext) -> Result<String, JobError> {
    ///         Ok("hello".into())
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .register::<Hello>()
    ///     .start()?;
    /// let id = scheduler.enqueue(Hello)?.id;
    /// let run = scheduler.wait(id, Duration::from_secs(10))?;
    /// assert_eq!(run.result::<String>()?, "hello");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Admin::wait`]: [`Error::WaitTimeout`], [`Error::RunNotFound`], database
    /// errors.
    pub fn wait(&self, run: RunId, timeout: std::time::Duration) -> Result<Run> {
        self.admin.wait(run, timeout)
    }

    /// Waits until every run of `runs` has finished: [`Admin::wait_all`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Square(i64);
    /// # impl Perform for Square {
    /// #     type Output = i64;
    /// #     fn perform(&self, _: &JobContext) -> Result<i64, JobError> {
    /// #         Ok(self.0 * self.0)
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Square>()
    /// #     .start()?;
    /// let inserted = scheduler.enqueue_many([Square(2), Square(3)])?;
    /// let ids: Vec<_> = inserted.iter().map(|r| r.id).collect();
    /// let runs = scheduler.wait_all(&ids, Duration::from_secs(10))?;
    /// assert_eq!(runs[0].result::<i64>()?, 4);
    /// assert_eq!(runs[1].result::<i64>()?, 9);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Admin::wait_all`].
    pub fn wait_all(&self, runs: &[RunId], timeout: std::time::Duration) -> Result<Vec<Run>> {
        self.admin.wait_all(runs, timeout)
    }

    /// Waits until nothing is to be done now (no run running or due, no dependents
    /// waiting to be released): [`Admin::wait_idle`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Step(u32);
    /// # impl Perform for Step {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Step>()
    /// #     .start()?;
    /// let mut batch = scheduler.batch();
    /// let first = batch.add(Step(1))?;
    /// let second = batch.add(Step(2))?;
    /// batch.depends_on(second, first)?;
    /// batch.submit()?;
    /// scheduler.wait_idle(Duration::from_secs(10))?; // the dependent run too
    /// assert_eq!(scheduler.stats()?.counts.completed, 2);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Admin::wait_idle`].
    pub fn wait_idle(&self, timeout: std::time::Duration) -> Result<()> {
        self.admin.wait_idle(timeout)
    }

    /// Runs matching a filter, newest first.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunFilter, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Ping(u32);
    /// # impl Perform for Ping {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Ping>()
    /// #     .start()?;
    /// let ids: Vec<_> = scheduler.enqueue_many((1..=3).map(Ping))?.iter().map(|r| r.id).collect();
    /// scheduler.wait_all(&ids, Duration::from_secs(10))?;
    /// let done = scheduler.runs(&RunFilter::new().status(RunStatus::Completed).limit(2))?;
    /// assert_eq!(done.len(), 2);
    /// assert_eq!(done[0].id, ids[2], "newest first");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        self.admin.runs(filter)
    }

    /// Revokes a token id until its expiry (for hosts that authenticate submissions).
    ///
    /// ```
    /// # use runloom::time::{Duration, OffsetDateTime};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # let scheduler = runloom::Scheduler::builder().database(path).start()?;
    /// // The token "tok-81f2" was leaked: refuse it until it would have expired anyway.
    /// scheduler.revoke_token("tok-81f2", OffsetDateTime::now_utc() + Duration::hours(1))?;
    /// assert!(scheduler.is_token_revoked("tok-81f2")?);
    /// assert!(scheduler.revoke_token("", OffsetDateTime::now_utc()).is_err(), "an empty id");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or oversized id; database errors.
    pub fn revoke_token(&self, token_id: &str, expires_at: OffsetDateTime) -> Result<()> {
        let now = self.now();
        self.shared
            .store
            .write(|tx| tx.revoke_token(token_id, expires_at, None, now))
    }

    /// Whether a token id is revoked. A failed lookup is an error, never "not revoked".
    ///
    /// ```
    /// # use runloom::time::{Duration, OffsetDateTime};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # let scheduler = runloom::Scheduler::builder().database(path).start()?;
    /// assert!(!scheduler.is_token_revoked("tok-81f2")?);
    /// scheduler.revoke_token("tok-81f2", OffsetDateTime::now_utc() + Duration::hours(1))?;
    /// assert!(scheduler.is_token_revoked("tok-81f2")?);
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`]; database errors.
    pub fn is_token_revoked(&self, token_id: &str) -> Result<bool> {
        self.shared.store.read(|tx| tx.is_token_revoked(token_id))
    }

    /// A channel of lifecycle events from now on. Bounded by `capacity`: when the
    /// reader falls behind, events are dropped for it (counted in
    /// [`SchedulerStats::events_dropped`]) rather than slowing the scheduler.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Event, Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Hello;
    /// # impl Perform for Hello {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Hello>()
    /// #     .start()?;
    /// let events = scheduler.subscribe(64);
    /// let id = scheduler.enqueue(Hello)?.id;
    /// let completed = loop {
    ///     match events.recv_timeout(Duration::from_secs(10))? {
    ///         Event::Completed { run, job_type, .. } => break (run, job_type),
    ///         _ => {} // Enqueued, Started
    ///     }
    /// };
    /// assert_eq!(completed, (id, "hello".to_owned()));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn subscribe(&self, capacity: usize) -> Receiver<Event> {
        self.shared.events.subscribe(capacity)
    }

    /// Runs maintenance now, whether or not this instance leads it: one pass of
    /// `only` the given service, or of every service. Each pass is recorded in
    /// `system_state` like the thread's.
    ///
    /// ```
    /// # use runloom::Service;
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # let scheduler = runloom::Scheduler::builder().database(path).start()?;
    /// let report = scheduler.run_maintenance(Some(Service::TokenPurge))?;
    /// assert_eq!(report.passes.len(), 1);
    /// assert!(report.pass(Service::TokenPurge).is_some());
    /// let all = scheduler.run_maintenance(None)?;
    /// assert_eq!(all.passes.len(), Service::ALL.len());
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors (services that ran before the error keep their effect).
    pub fn run_maintenance(&self, only: Option<Service>) -> Result<MaintenanceReport> {
        let report = self.admin.run_maintenance(only)?;
        self.shared.wake(Wake::Work);
        Ok(report)
    }

    /// The last pass of each maintenance service, from any process, as recorded in
    /// `system_state`: `(service, JSON of its PassReport)`.
    ///
    /// ```
    /// # use runloom::Service;
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # let scheduler = runloom::Scheduler::builder().database(path).start()?;
    /// scheduler.run_maintenance(Some(Service::TokenPurge))?;
    /// let history = scheduler.maintenance_history()?;
    /// let (_, json) = history
    ///     .iter()
    ///     .find(|(service, _)| *service == Service::TokenPurge)
    ///     .ok_or("no pass recorded")?;
    /// assert!(json.contains(r#""service":"tokens""#), "{json}");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn maintenance_history(&self) -> Result<Vec<(Service, String)>> {
        self.admin.maintenance_history()
    }

    /// The scheduler's figures now.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Hello;
    /// # impl Perform for Hello {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Hello>()
    /// #     .start()?;
    /// let id = scheduler.enqueue(Hello)?.id;
    /// scheduler.wait(id, Duration::from_secs(10))?;
    /// let stats = scheduler.stats()?;
    /// assert_eq!(stats.counts.completed, 1);
    /// assert_eq!((stats.failed, stats.panics), (0, 0));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors (the counts are read from the database).
    pub fn stats(&self) -> Result<SchedulerStats> {
        let counts = self.admin.counts()?;
        let s = &self.shared.stats;
        Ok(SchedulerStats {
            counts,
            in_flight: self.shared.inflight.len(),
            completed_per_second: s.per_second(),
            completed: s.completed.get(),
            failed: s.failed.get(),
            retried: s.retried.get(),
            snoozed: s.snoozed.get(),
            cancelled: s.cancelled.get(),
            lease_lost: s.lease_lost.get(),
            panics: s.panics.get(),
            timeouts: s.timeouts.get(),
            events_dropped: self.shared.events.dropped(),
        })
    }
}

impl crate::enqueue::Target for Scheduler {
    fn now(&self) -> OffsetDateTime {
        Scheduler::now(self)
    }

    fn enqueuer(&self) -> Enqueuer<'_> {
        Scheduler::enqueuer(self)
    }

    fn dependency_limits(&self) -> DependencyLimits {
        Scheduler::dependency_limits(self)
    }

    fn submit_runs(&self, runs: &[NewRun], edges: &[BatchEdge]) -> Result<Vec<Inserted>> {
        Scheduler::submit_runs(self, runs, edges)
    }
}
