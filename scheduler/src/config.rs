//! [`SchedulerBuilder`]: every setting with its documented default, checked together
//! when the scheduler starts, then frozen into a `Config`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use crate::{
    clock::{Clock, SystemClock},
    error::{Error, Result},
    events::{EventHook, Events},
    job::{Perform, registry::Registry, state::AppState},
    maintenance::MaintenanceConfig,
    retry::{ExponentialBackoff, RetryPolicy},
    store::{DependencyLimits, StoreOptions, Synchronous},
};

/// The database file used when none is given: `scheduler.db` in the working directory.
pub const DEFAULT_DATABASE: &str = "scheduler.db";
pub use crate::model::{DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_LEASE_DURATION};
/// Default idle poll interval.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Default grace period of a shutdown started by dropping the handle.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Default largest payload accepted at enqueue.
pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 256 * 1024;
pub use crate::retry::DEFAULT_MAX_BACKOFF;
/// Default [`SchedulerBuilder::max_in_flight`] per worker thread: a ceiling for very short
/// jobs; the dispatcher holds fewer when jobs are longer.
pub const DEFAULT_IN_FLIGHT_PER_THREAD: usize = 32;
/// Default of [`SchedulerBuilder::max_snoozes`]: snoozes a run may take before the next
/// one counts as a failed attempt.
pub const DEFAULT_MAX_SNOOZES: u32 = 100;

/// The worker threads used when not set: the machine's available parallelism.
fn default_worker_threads() -> usize {
    std::thread::available_parallelism().map_or(4, |n| n.get().min(64))
}

/// Settings of a scheduler, frozen at start.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) store: StoreOptions,
    /// A PostgreSQL database instead of the SQLite file of `store` (whose busy timeout
    /// and clock still apply).
    #[cfg(feature = "postgres")]
    pub(crate) postgres: Option<crate::store::postgres::PgOptions>,
    pub(crate) worker_threads: usize,
    pub(crate) max_in_flight: usize,
    /// The queues this instance runs: name, worker threads, most runs held; the
    /// threads add up to `worker_threads`, the holdings to about `max_in_flight`.
    pub(crate) queues: Vec<QueueLane>,
    /// `max_in_flight` was not set: the dispatcher sizes its holdings to the jobs.
    pub(crate) adaptive_in_flight: bool,
    pub(crate) lease_duration: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) shutdown_grace: Duration,
    pub(crate) max_payload_bytes: usize,
    pub(crate) retry_policy: Arc<dyn RetryPolicy>,
    pub(crate) max_snoozes: u32,
    pub(crate) allow_foreign_job_types: bool,
    pub(crate) dependency_limits: DependencyLimits,
    pub(crate) misfire_threshold: Duration,
    pub(crate) maintenance: MaintenanceConfig,
    pub(crate) name: Option<String>,
    /// Claiming is paused before the dispatcher starts (a test scheduler drains on
    /// demand).
    pub(crate) start_paused: bool,
    /// How often the metrics gauges are read (feature `metrics`).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) metrics_interval: Duration,
}

/// One queue a scheduler runs, with its own threads and holdings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueueLane {
    pub(crate) name: String,
    pub(crate) threads: usize,
    pub(crate) max_in_flight: usize,
}

/// Builds and starts a [`Scheduler`](crate::Scheduler). Every setter documents its default; settings that
/// only make sense together are checked by [`SchedulerBuilder::start`].
///
/// ```
/// use std::time::Duration;
/// use runloom::Scheduler;
///
/// let dir = tempfile::tempdir()?;
/// let scheduler = Scheduler::builder()
///     .database(dir.path().join("jobs.db"))
///     .worker_threads(2)
///     .lease_duration(Duration::from_secs(10))
///     .heartbeat_interval(Duration::from_secs(2))
///     .start()?;
/// scheduler.shutdown(Duration::from_secs(5))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SchedulerBuilder {
    store: StoreOptions,
    #[cfg(feature = "postgres")]
    postgres: Option<crate::store::postgres::PgOptions>,
    worker_threads: Option<usize>,
    max_in_flight: Option<usize>,
    queues: Vec<(String, usize)>,
    lease_duration: Duration,
    heartbeat_interval: Duration,
    poll_interval: Duration,
    shutdown_grace: Duration,
    max_payload_bytes: usize,
    max_backoff: Duration,
    retry_policy: Option<Arc<dyn RetryPolicy>>,
    max_snoozes: u32,
    allow_foreign_job_types: bool,
    dependency_limits: DependencyLimits,
    misfire_threshold: Duration,
    maintenance: MaintenanceConfig,
    clock: Arc<dyn Clock>,
    registry: Registry,
    registration_error: Option<Error>,
    state: AppState,
    hooks: Vec<Arc<dyn EventHook>>,
    name: Option<String>,
    /// A database was chosen (a file, PostgreSQL, memory) instead of the default file.
    pub(crate) database_chosen: bool,
    pub(crate) start_paused: bool,
    metrics_interval: Duration,
}

impl std::fmt::Debug for SchedulerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerBuilder")
            .field("store", &self.store)
            .field("worker_threads", &self.worker_threads)
            .field("lease_duration", &self.lease_duration)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("poll_interval", &self.poll_interval)
            .field("job_types", &self.registry)
            .finish_non_exhaustive()
    }
}

impl Default for SchedulerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SchedulerBuilder {
    /// A builder with every default.
    ///
    /// ```
    /// use runloom::{DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_LEASE_DURATION, SchedulerBuilder};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = SchedulerBuilder::new().database(dir.path().join("jobs.db")).start()?;
    /// let me = &scheduler.admin().workers(false)?[0].worker;
    /// assert_eq!(me.lease_duration, Some(DEFAULT_LEASE_DURATION));
    /// assert_eq!(me.heartbeat_interval, Some(DEFAULT_HEARTBEAT_INTERVAL));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn new() -> Self {
        SchedulerBuilder {
            store: StoreOptions::file(DEFAULT_DATABASE),
            #[cfg(feature = "postgres")]
            postgres: None,
            worker_threads: None,
            max_in_flight: None,
            queues: Vec::new(),
            lease_duration: DEFAULT_LEASE_DURATION,
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            poll_interval: DEFAULT_POLL_INTERVAL,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            max_backoff: DEFAULT_MAX_BACKOFF,
            retry_policy: None,
            max_snoozes: DEFAULT_MAX_SNOOZES,
            allow_foreign_job_types: false,
            dependency_limits: DependencyLimits::default(),
            misfire_threshold: crate::schedule::DEFAULT_MISFIRE_THRESHOLD,
            maintenance: MaintenanceConfig::default(),
            clock: Arc::new(SystemClock),
            registry: Registry::default(),
            registration_error: None,
            state: AppState::default(),
            hooks: Vec::new(),
            name: None,
            database_chosen: false,
            start_paused: false,
            metrics_interval: Duration::from_secs(10),
        }
    }

    /// The database file. Defaults to [`DEFAULT_DATABASE`] (`scheduler.db` in the
    /// working directory); created with its folders when missing.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("data").join("jobs.db");
    /// let scheduler = runloom::Scheduler::builder().database(&path).start()?;
    /// assert!(path.exists(), "created, with its folder");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn database(mut self, path: impl Into<PathBuf>) -> Self {
        self.store = rebuild_store(StoreOptions::file(path), &self.store);
        self.database_chosen = true;
        #[cfg(feature = "postgres")]
        {
            self.postgres = None;
        }
        self
    }

    /// A PostgreSQL database instead of a SQLite file (feature `postgres`), for several
    /// hosts on one database: `url` is a libpq connection string or URL
    /// (`postgres://user@host/db` or `host=… dbname=…`). Its schema is created and
    /// migrated at start, as a file's is. [`SchedulerBuilder::busy_timeout`] bounds the
    /// waits for row locks; [`SchedulerBuilder::postgres_options`] sets the pool.
    ///
    /// ```no_run
    /// let scheduler = runloom::Scheduler::builder()
    ///     .postgres("postgres://jobs@db.internal/jobs")
    ///     .start()?;
    /// # Ok::<(), runloom::Error>(())
    /// ```
    #[cfg(feature = "postgres")]
    #[must_use]
    pub fn postgres(self, url: impl Into<String>) -> Self {
        self.postgres_options(crate::store::postgres::PgOptions::new(url))
    }

    /// [`SchedulerBuilder::postgres`] with the pool's settings.
    ///
    /// ```no_run
    /// use runloom::postgres::PgOptions;
    ///
    /// let pool = PgOptions::new("postgres://jobs@db.internal/jobs").max_connections(8);
    /// let scheduler = runloom::Scheduler::builder().postgres_options(pool).start()?;
    /// # let _ = scheduler;
    /// # Ok::<(), runloom::Error>(())
    /// ```
    #[cfg(feature = "postgres")]
    #[must_use]
    pub fn postgres_options(mut self, options: crate::store::postgres::PgOptions) -> Self {
        self.postgres = Some(options);
        self.database_chosen = true;
        self
    }

    /// A private in-memory database instead of a file, for tests where a file adds
    /// nothing. Nothing survives the scheduler, and no other process can share it.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Hello;
    /// # impl Perform for Hello {
    /// #     type Output = String;
    /// #     fn perform(&self, _: &JobContext) -> Result<String, JobError> {
    /// #         Ok("hello".into())
    /// #     }
    /// # }
    /// let scheduler = Scheduler::builder().in_memory().register::<Hello>().start()?;
    /// let id = scheduler.enqueue(Hello)?.id;
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.result::<String>()?, "hello");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn in_memory(mut self) -> Self {
        self.store = rebuild_store(StoreOptions::memory(), &self.store);
        self.database_chosen = true;
        #[cfg(feature = "postgres")]
        {
            self.postgres = None;
        }
        self
    }

    /// Number of worker threads (1 to 1024). Defaults to the machine's available
    /// parallelism (at most 64).
    ///
    /// ```
    /// # use runloom::Scheduler;
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .worker_threads(2)
    ///     .start()?;
    /// assert_eq!(scheduler.admin().workers(false)?[0].worker.threads, 2);
    /// assert!(Scheduler::builder().in_memory().worker_threads(0).start().is_err());
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = Some(n);
        self
    }

    /// Runs the queue `name` with `threads` worker threads of its own: at most that
    /// many of its runs execute here at once, and a busy queue never takes another
    /// queue's threads. Call once per queue. Without any call the instance runs the
    /// [`crate::DEFAULT_QUEUE`] with [`SchedulerBuilder::worker_threads`]; with them, it
    /// runs exactly the queues listed (list `default` too to keep running it), and its
    /// worker threads are their sum (setting `worker_threads` as well is refused). A
    /// queue paused by an operator ([`crate::Admin::pause_queue`]) is skipped by every
    /// process until it is resumed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{EnqueueOptions, Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// #[job(queue = "mail")]
    /// struct Welcome;
    ///
    /// impl Perform for Welcome {
    ///     type Output = ();
    ///     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .queue("default", 4)
    ///     .queue("mail", 2)
    ///     .register::<Welcome>()
    ///     .start()?;
    /// assert_eq!(scheduler.admin().workers(false)?[0].worker.threads, 6);
    /// let run = scheduler.enqueue(Welcome)?.id;
    /// let done = scheduler.wait(run, Duration::from_secs(10))?;
    /// assert_eq!((done.status, done.queue.as_str()), (RunStatus::Completed, "mail"));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn queue(mut self, name: impl Into<String>, threads: usize) -> Self {
        self.queues.push((name.into(), threads));
        self
    }

    /// Most runs this instance holds at once: running, plus claimed and waiting for a
    /// free thread in its local queue; claims are batched up to the free part of it.
    ///
    /// Left unset, the dispatcher sizes its holdings to the jobs, up to
    /// [`DEFAULT_IN_FLIGHT_PER_THREAD`] times the worker threads: per thread, the run it
    /// executes plus those it will finish while one write transaction is written,
    /// measured as it goes (two per thread until it has measured, and about that for
    /// jobs longer than a write). Short jobs get big batches; long ones never wait in
    /// this instance's queue when another process could run them. Set, it holds up to
    /// `n` whatever the jobs take. At least the worker threads.
    ///
    /// ```
    /// # use runloom::Scheduler;
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .worker_threads(4)
    ///     .max_in_flight(8) // four running, four waiting at most
    ///     .start()?;
    /// assert!(scheduler.stats()?.in_flight <= 8);
    /// let fewer = Scheduler::builder().in_memory().worker_threads(4).max_in_flight(2).start();
    /// assert!(fewer.is_err(), "at least the worker threads");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n);
        self
    }

    /// How long a claim is valid without a heartbeat. A run whose process dies is taken
    /// back by another process once its lease expires. Defaults to
    /// [`DEFAULT_LEASE_DURATION`] (30 s); at least 100 ms.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::Scheduler;
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .lease_duration(Duration::from_secs(10))
    ///     .heartbeat_interval(Duration::from_secs(2))
    ///     .start()?;
    /// let me = &scheduler.admin().workers(false)?[0].worker;
    /// assert_eq!(me.lease_duration, Some(Duration::from_secs(10)));
    /// let short = Scheduler::builder().in_memory().lease_duration(Duration::from_millis(50));
    /// assert!(short.start().is_err(), "at least 100 ms");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn lease_duration(mut self, d: Duration) -> Self {
        self.lease_duration = d;
        self
    }

    /// How often this instance renews its leases and its `workers` row. Defaults to
    /// [`DEFAULT_HEARTBEAT_INTERVAL`] (5 s); must be at most half the lease duration, so
    /// one late heartbeat never loses a lease.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::Scheduler;
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .heartbeat_interval(Duration::from_secs(1))
    ///     .start()?;
    /// let me = &scheduler.admin().workers(false)?[0].worker;
    /// assert_eq!(me.heartbeat_interval, Some(Duration::from_secs(1)));
    /// let late = Scheduler::builder()
    ///     .in_memory()
    ///     .lease_duration(Duration::from_secs(10))
    ///     .heartbeat_interval(Duration::from_secs(6)); // more than half the lease
    /// assert!(late.start().is_err());
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.heartbeat_interval = d;
        self
    }

    /// How often an idle dispatcher looks for work written by other processes (work
    /// enqueued by this process wakes it at once). Defaults to
    /// [`DEFAULT_POLL_INTERVAL`] (500 ms); 1 ms to 60 s.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Admin, EnqueueOptions, Job, JobContext, JobError, Perform, RunStatus};
    /// # use runloom::Scheduler;
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
    /// # let path = dir.path().join("jobs.db");
    /// let scheduler = Scheduler::builder()
    ///     .database(&path)
    ///     .poll_interval(Duration::from_millis(50))
    ///     .register::<Hello>()
    ///     .start()?;
    /// // Enqueued by another tool, which cannot wake this process: found at the next look.
    /// let id = Admin::open(&path)?.enqueue_json("hello", "null", &EnqueueOptions::new())?.id;
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.status, RunStatus::Completed);
    /// let lazy = Scheduler::builder().in_memory().poll_interval(Duration::from_secs(120));
    /// assert!(lazy.start().is_err(), "1 ms to 60 s");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }

    /// The grace period of the shutdown that dropping the handle starts. Defaults to
    /// [`DEFAULT_SHUTDOWN_GRACE`] (10 s).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use runloom::{Admin, Event, Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Watch;
    /// impl Perform for Watch {
    ///     type Output = ();
    ///     fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
    ///         ctx.sleep(Duration::from_secs(3600)) // an hour, unless asked to stop
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// let scheduler = Scheduler::builder()
    ///     .database(&path)
    ///     .shutdown_grace(Duration::from_millis(200))
    ///     .register::<Watch>()
    ///     .start()?;
    /// let events = scheduler.subscribe(16);
    /// let id = scheduler.enqueue(Watch)?.id;
    /// while !matches!(events.recv_timeout(Duration::from_secs(10))?, Event::Started { .. }) {}
    /// let dropped = Instant::now();
    /// drop(scheduler); // the job gets 200 ms to finish, then is asked to stop
    /// assert!(dropped.elapsed() < Duration::from_secs(5));
    /// let run = Admin::open(&path)?.run(id)?;
    /// assert_eq!(run.status, RunStatus::Pending, "handed back for another process");
    /// assert_eq!(run.attempt, 0, "the interrupted attempt is not counted");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.shutdown_grace = d;
        self
    }

    /// Durability of commits. Defaults to [`Synchronous::Normal`] (survives process
    /// crashes; `Full` also survives power loss, slower).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler, Synchronous};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Payment;
    /// # impl Perform for Payment {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .synchronous(Synchronous::Full) // every commit survives a power loss
    ///     .register::<Payment>()
    ///     .start()?;
    /// let id = scheduler.enqueue(Payment)?.id;
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.status, RunStatus::Completed);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn synchronous(mut self, s: Synchronous) -> Self {
        self.store = self.store.synchronous(s);
        self
    }

    /// How long a statement waits for another process's write lock. Defaults to 5 s.
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
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
    /// # let path = dir.path().join("jobs.db");
    /// let scheduler = Scheduler::builder()
    ///     .database(&path)
    ///     .busy_timeout(Duration::from_millis(200))
    ///     .register::<Hello>()
    ///     .start()?;
    /// // Writes wait up to 200 ms for another process's lock; none holds it here.
    /// let started = Instant::now();
    /// assert!(scheduler.enqueue(Hello)?.created);
    /// assert!(started.elapsed() < Duration::from_secs(5));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn busy_timeout(mut self, d: Duration) -> Self {
        self.store = self.store.busy_timeout(d);
        self
    }

    /// The most bytes the database file may grow to: past it, enqueues fail with an
    /// error for which [`Error::is_disk_full`] is true (exactly as on a full disk),
    /// outcomes wait in memory, and both go through again once maintenance frees space
    /// (space freed by deleting rows is used again). Defaults to no limit; a file
    /// already larger keeps its size.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Archive {
    /// #     blob: String,
    /// # }
    /// # impl Perform for Archive {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .max_database_size(1024 * 1024) // 1 MiB
    ///     .register::<Archive>()
    ///     .start()?;
    /// scheduler.pause()?; // keep every run, so the file fills up
    /// let blob = "x".repeat(200 * 1024);
    /// let refused = (0..20).find_map(|_| scheduler.enqueue(Archive { blob: blob.clone() }).err());
    /// assert!(refused.is_some_and(|e| e.is_disk_full()));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_database_size(mut self, bytes: u64) -> Self {
        self.store = self.store.max_size(bytes);
        self
    }

    /// Whether starting reads every page to check for damage (`PRAGMA quick_check`)
    /// and refuses a damaged file with [`Error::Corrupt`]. Defaults to false: opening
    /// then checks the header, the file's length and the schema, and damage elsewhere
    /// is reported by the statement that reads it ([`Error::is_corrupt`]). The full
    /// check reads the whole file: about 2 s for 100 MB on a small machine.
    ///
    /// ```
    /// # use std::{io::{Seek, SeekFrom, Write}, time::Duration};
    /// # use runloom::{Error, Scheduler};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # Scheduler::builder().database(&path).start()?.shutdown(Duration::from_secs(5))?;
    /// # let len = std::fs::metadata(&path)?.len();
    /// # let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
    /// # file.seek(SeekFrom::Start(len - 4096))?;
    /// # file.write_all(&[0xAB; 4096])?;
    /// # drop(file);
    /// // The last page of the file was damaged.
    /// let checked = Scheduler::builder().database(&path).verify_integrity_at_open(true).start();
    /// assert!(matches!(checked, Err(Error::Corrupt { .. })), "refused at start");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn verify_integrity_at_open(mut self, verify: bool) -> Self {
        self.store = self.store.verify_integrity(verify);
        self
    }

    /// Largest payload (serialized JSON) accepted at enqueue. Defaults to
    /// [`DEFAULT_MAX_PAYLOAD_BYTES`] (256 KiB).
    ///
    /// ```
    /// # use runloom::{Error, Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Note {
    /// #     text: String,
    /// # }
    /// # impl Perform for Note {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .max_payload_bytes(64)
    ///     .register::<Note>()
    ///     .start()?;
    /// assert!(scheduler.enqueue(Note { text: "short".into() })?.created);
    /// let long = scheduler.enqueue(Note { text: "x".repeat(100) });
    /// assert!(matches!(long, Err(Error::PayloadTooLarge { limit: 64, .. })));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_payload_bytes(mut self, n: usize) -> Self {
        self.max_payload_bytes = n;
        self
    }

    /// Longest delay between two attempts of the default retry policy
    /// ([`ExponentialBackoff`]), whatever the backoff computes. Defaults to
    /// [`DEFAULT_MAX_BACKOFF`] (24 h). Ignored when a [`SchedulerBuilder::retry_policy`]
    /// is set.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Event, Job, JobContext, JobError, Perform, Scheduler};
    /// # use runloom::time::{Duration as Span, OffsetDateTime};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// #[job(backoff = "1h")]
    /// struct Sync;
    /// # impl Perform for Sync {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Err(JobError::retry("the remote is down"))
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .max_backoff(Duration::from_secs(5))
    ///     .register::<Sync>()
    ///     .start()?;
    /// let events = scheduler.subscribe(16);
    /// let failed_at = OffsetDateTime::now_utc();
    /// scheduler.enqueue(Sync)?;
    /// let retry_at = loop {
    ///     if let Event::Retried { retry_at, .. } = events.recv_timeout(Duration::from_secs(10))? {
    ///         break retry_at;
    ///     }
    /// };
    /// assert!(retry_at < failed_at + Span::seconds(10), "capped at 5 s, not the hour asked for");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// When failed attempts are tried again: one policy for attempts that failed in
    /// their job (an error, a panic, a timeout) and for attempts whose worker died
    /// (taken back by the lease rescue), so a job that crashes its process backs off
    /// instead of looping. Defaults to [`ExponentialBackoff`] capped at
    /// [`SchedulerBuilder::max_backoff`]. A job's own
    /// [`crate::JobError::retry_after`] overrides it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{FailedAttempt, RetryPolicy, Scheduler};
    ///
    /// #[derive(Debug)]
    /// struct Fixed(Duration);
    ///
    /// impl RetryPolicy for Fixed {
    ///     fn retry_delay(&self, _: &FailedAttempt<'_>) -> Duration {
    ///         self.0
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .retry_policy(Fixed(Duration::from_secs(10)))
    ///     .start()?;
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn retry_policy(mut self, policy: impl RetryPolicy) -> Self {
        self.retry_policy = Some(Arc::new(policy));
        self
    }

    /// How many times one run may snooze ([`crate::JobError::snooze`]) before a snooze
    /// counts as a failed attempt (retried or failing the run as its attempts allow),
    /// so a job that keeps snoozing is seen in its errors instead of looping unseen.
    /// Defaults to [`DEFAULT_MAX_SNOOZES`] (100); 0 makes every snooze a failure.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// #[job(max_attempts = 1)]
    /// struct Poll;
    ///
    /// impl Perform for Poll {
    ///     type Output = ();
    ///     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    ///         Err(JobError::snooze(Duration::ZERO)) // never ready
    ///     }
    /// }
    ///
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .max_snoozes(3)
    ///     .register::<Poll>()
    ///     .start()?;
    /// let run = scheduler.enqueue(Poll)?.id;
    /// let ended = scheduler.wait(run, Duration::from_secs(10))?;
    /// assert_eq!((ended.status, ended.snoozes), (RunStatus::Failed, 3));
    /// assert!(ended.last_error.unwrap().contains("snoozed 3 times"));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_snoozes(mut self, n: u32) -> Self {
        self.max_snoozes = n;
        self
    }

    /// Accept enqueues of job types this binary does not register (by name, with a JSON
    /// payload), for several binaries sharing one database, each running its own types.
    /// Defaults to false: an unknown type is refused at enqueue.
    ///
    /// ```
    /// # use runloom::{EnqueueOptions, Error, Scheduler};
    /// # let dir = tempfile::tempdir()?;
    /// // This binary registers no job type; another binary sharing the database runs `resize`.
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .allow_foreign_job_types(true)
    ///     .start()?;
    /// let payload = r#"{"image": 7}"#;
    /// assert!(scheduler.enqueue_json("resize", payload, EnqueueOptions::new())?.created);
    ///
    /// let strict = Scheduler::builder().in_memory().start()?;
    /// let refused = strict.enqueue_json("resize", payload, EnqueueOptions::new());
    /// assert!(matches!(refused, Err(Error::UnknownJobType(_))));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # strict.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn allow_foreign_job_types(mut self, allow: bool) -> Self {
        self.allow_foreign_job_types = allow;
        self
    }

    /// Limits on dependency graphs: most upstream runs per run (fan-in, default
    /// 10 000) and most jobs or edges per batch (default 100 000). Graphs over them are
    /// refused with [`Error::DependencyLimit`] and nothing is written.
    ///
    /// ```
    /// # use runloom::{DependencyLimits, Error, Job, JobContext, JobError, Perform, Scheduler};
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
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .dependency_limits(DependencyLimits::default().max_fan_in(2))
    ///     .register::<Step>()
    ///     .start()?;
    /// let mut batch = scheduler.batch();
    /// let last = batch.add(Step(0))?;
    /// for n in 1..=3 {
    ///     let upstream = batch.add(Step(n))?;
    ///     batch.depends_on(last, upstream)?;
    /// }
    /// assert!(matches!(batch.submit(), Err(Error::DependencyLimit { max: 2, actual: 3, .. })));
    /// assert_eq!(scheduler.stats()?.counts.total(), 0, "nothing was written");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn dependency_limits(mut self, limits: DependencyLimits) -> Self {
        self.dependency_limits = limits;
        self
    }

    /// How late a schedule's occurrence may be before it counts as missed and its
    /// schedule's misfire policy decides. Defaults to
    /// [`crate::schedule::DEFAULT_MISFIRE_THRESHOLD`] (5 s).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, MisfirePolicy, Perform, ScheduleSpec, Scheduler};
    /// # use runloom::testing::TestScheduler;
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Tick;
    /// # impl Perform for Tick {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// let ran_after_ten_minutes_down = |threshold| -> Result<u64, runloom::Error> {
    ///     let builder = Scheduler::builder().misfire_threshold(threshold).register::<Tick>();
    ///     let test = TestScheduler::start(builder)?; // on a manual clock
    ///     let spec = ScheduleSpec::every(Duration::from_secs(60)).misfire(MisfirePolicy::Skip);
    ///     test.schedule("tick", Tick, spec)?;
    ///     test.advance(Duration::from_secs(600));
    ///     Ok(test.drain()?.completed)
    /// };
    /// // Ten minutes late is within an hour: on time, every occurrence runs.
    /// assert_eq!(ran_after_ten_minutes_down(Duration::from_secs(3600))?, 10);
    /// // Past 5 s they were missed and skipped: only the one due now runs.
    /// assert_eq!(ran_after_ten_minutes_down(Duration::from_secs(5))?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn misfire_threshold(mut self, d: Duration) -> Self {
        self.misfire_threshold = d;
        self
    }

    /// The maintenance thread's settings. Defaults to [`MaintenanceConfig::default`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{MaintenanceConfig, Scheduler};
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .maintenance(MaintenanceConfig::default().stale_worker_after(Duration::from_secs(120)))
    ///     .start()?;
    /// let me = &scheduler.admin().workers(false)?[0].worker;
    /// assert_eq!(me.stale_after, Some(Duration::from_secs(120)), "its promise to the others");
    /// let too_soon = MaintenanceConfig::default().stale_worker_after(Duration::from_secs(1));
    /// assert!(Scheduler::builder().in_memory().maintenance(too_soon).start().is_err());
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn maintenance(mut self, config: MaintenanceConfig) -> Self {
        self.maintenance = config;
        self
    }

    /// The wall clock: when runs are due, retries, cron occurrences, retention, and
    /// every timestamp written. Defaults to the system clock; tests pass a
    /// [`crate::ManualClock`] to cross backoffs and cron occurrences without sleeping.
    /// Leases and heartbeats are judged by the host's monotonic clock instead
    /// ([`crate::clock::HostInstant`]), which this clock does not move: a wall clock
    /// that jumps never takes a live run.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use runloom::{EnqueueOptions, Job, JobContext, JobError, ManualClock, Perform, RunStatus};
    /// # use runloom::Scheduler;
    /// # use runloom::time::macros::datetime;
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
    /// let clock = Arc::new(ManualClock::new(datetime!(2030-01-01 9:00 UTC)));
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .clock(clock.clone())
    ///     .register::<Reminder>()
    ///     .start()?;
    /// let in_an_hour = EnqueueOptions::new().delay(Duration::from_secs(3600));
    /// let id = scheduler.enqueue_with(Reminder, in_an_hour)?.id;
    /// assert_eq!(scheduler.run(id)?.scheduled_at, datetime!(2030-01-01 10:00 UTC));
    /// clock.advance(Duration::from_secs(3600)); // no waiting for an hour
    /// scheduler.notify();
    /// assert_eq!(scheduler.wait(id, Duration::from_secs(10))?.status, RunStatus::Completed);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.store = self.store.clock(clock.clone());
        self.clock = clock;
        self
    }

    /// A name for this instance in the `workers` table. Defaults to `host:pid`.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = runloom::Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .name("billing-1")
    ///     .start()?;
    /// assert_eq!(scheduler.admin().workers(false)?[0].worker.name, "billing-1");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Registers a job type. A duplicate name or an invalid name or default options is
    /// reported by [`SchedulerBuilder::start`].
    ///
    /// ```
    /// # use runloom::{Error, Job, JobContext, JobError, Perform, Scheduler};
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
    /// let twice = Scheduler::builder().in_memory().register::<SendEmail>();
    /// assert!(twice.register::<SendEmail>().start().is_err(), "a duplicate name");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn register<J: Perform>(mut self) -> Self {
        if let Err(e) = self.registry.register::<J>() {
            self.registration_error.get_or_insert(e);
        }
        self
    }

    /// Registers a job type with its runner (an async body's); errors as
    /// [`SchedulerBuilder::register`].
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn register_runner<J: crate::Job>(
        mut self,
        runner: Arc<dyn crate::job::registry::Runner>,
    ) -> Self {
        if let Err(e) = self.registry.register_runner::<J>(runner) {
            self.registration_error.get_or_insert(e);
        }
        self
    }

    /// Gives jobs a value of the application's (a database pool, an HTTP client,
    /// configuration), which every attempt reads with
    /// [`JobContext::state`](crate::JobContext::state), keyed by its type: one value
    /// per type, a later one replacing an earlier. Shared, never cloned: wrap what
    /// needs mutation in a `Mutex`, or give a type that synchronises itself.
    ///
    /// ```
    /// use std::sync::atomic::AtomicU64;
    /// use runloom::Scheduler;
    ///
    /// struct Config {
    ///     api_url: String,
    /// }
    /// #[derive(Default)]
    /// struct Counters {
    ///     sent: AtomicU64,
    /// }
    ///
    /// let builder = Scheduler::builder()
    ///     .state(Config { api_url: "https://api.example.com".into() })
    ///     .state(Counters::default());
    /// ```
    #[must_use]
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// How often the gauges of runs by status and by job type are read from the
    /// database (feature `metrics`; default 10 s, at least 100 ms).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = runloom::Scheduler::builder().metrics_interval(Duration::from_secs(30));
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "metrics")]
    #[must_use]
    pub fn metrics_interval(mut self, every: Duration) -> Self {
        self.metrics_interval = every;
        self
    }

    /// Adds a hook called with every lifecycle event, on the scheduler's threads: keep it
    /// quick (hand the event to a channel for slow work).
    ///
    /// ```
    /// # use std::{sync::mpsc, time::Duration};
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
    /// let (tx, rx) = mpsc::channel();
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .on_event(move |event: &Event| {
    ///         if let Event::Completed { run, duration, .. } = event {
    ///             let _ = tx.send((*run, *duration)); // quick: the slow work is elsewhere
    ///         }
    ///     })
    ///     .register::<Hello>()
    ///     .start()?;
    /// let id = scheduler.enqueue(Hello)?.id;
    /// let (run, _duration) = rx.recv_timeout(Duration::from_secs(10))?;
    /// assert_eq!(run, id);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn on_event(mut self, hook: impl EventHook) -> Self {
        self.hooks.push(Arc::new(hook));
        self
    }

    /// Checks the settings, naming the first bad one, and gives what the wiring
    /// starts a scheduler from ([`SchedulerBuilder::start`], in `scheduler/wiring.rs`).
    pub(crate) fn checked(self) -> Result<Checked> {
        if let Some(e) = self.registration_error {
            return Err(e);
        }
        if let Some((job_type, state)) = self.registry.missing_state(&self.state) {
            return Err(Error::MissingState {
                job_type,
                state: state.name(),
            });
        }
        if !self.queues.is_empty() && self.worker_threads.is_some() {
            return Err(Error::invalid(
                "worker_threads",
                "the instance lists its queues: give each its threads with queue(name, \
                 threads); the worker threads are their sum",
            ));
        }
        let mut listed: Vec<(String, usize)> = Vec::with_capacity(self.queues.len());
        for (name, threads) in &self.queues {
            crate::model::validate_queue(name)?;
            if listed.iter().any(|(n, _)| n == name) {
                return Err(Error::invalid("queue", format!("{name:?} is listed twice")));
            }
            if !(1..=1024).contains(threads) {
                return Err(Error::invalid(
                    "queue",
                    format!("{name:?} must have 1 to 1024 threads, got {threads}"),
                ));
            }
            listed.push((name.clone(), *threads));
        }
        let worker_threads = if listed.is_empty() {
            self.worker_threads.unwrap_or_else(default_worker_threads)
        } else {
            listed.iter().map(|(_, t)| t).sum()
        };
        if !(1..=1024).contains(&worker_threads) {
            return Err(Error::invalid(
                "worker_threads",
                format!("must be 1 to 1024, got {worker_threads}"),
            ));
        }
        let adaptive_in_flight = self.max_in_flight.is_none();
        let max_in_flight = self
            .max_in_flight
            .unwrap_or(worker_threads * DEFAULT_IN_FLIGHT_PER_THREAD);
        if max_in_flight < worker_threads || max_in_flight > 100_000 {
            return Err(Error::invalid(
                "max_in_flight",
                format!(
                    "must be between the worker threads ({worker_threads}) and 100000, got {max_in_flight}"
                ),
            ));
        }
        if listed.is_empty() {
            listed.push((crate::model::DEFAULT_QUEUE.to_owned(), worker_threads));
        }
        // Each queue holds its share of max_in_flight, and at least one run per thread.
        let queues = listed
            .into_iter()
            .map(|(name, threads)| QueueLane {
                max_in_flight: (max_in_flight * threads / worker_threads).max(threads),
                name,
                threads,
            })
            .collect();
        if self.lease_duration < Duration::from_millis(100) {
            return Err(Error::invalid("lease_duration", "must be at least 100 ms"));
        }
        crate::model::time::duration_ms("lease_duration", self.lease_duration)?;
        if self.heartbeat_interval.is_zero() || self.heartbeat_interval * 2 > self.lease_duration {
            return Err(Error::invalid(
                "heartbeat_interval",
                format!(
                    "must be shorter than half the lease duration ({:?}) so one late heartbeat \
                     never loses a lease, got {:?}",
                    self.lease_duration, self.heartbeat_interval
                ),
            ));
        }
        if self.poll_interval < Duration::from_millis(1)
            || self.poll_interval > Duration::from_secs(60)
        {
            return Err(Error::invalid("poll_interval", "must be 1 ms to 60 s"));
        }
        if self.max_payload_bytes == 0 {
            return Err(Error::invalid("max_payload_bytes", "must be at least 1"));
        }
        self.maintenance.validate()?;
        if self.metrics_interval < Duration::from_millis(100) {
            return Err(Error::invalid(
                "metrics_interval",
                "must be at least 100 ms",
            ));
        }
        if self.maintenance.stale_worker_after <= self.heartbeat_interval * 2 {
            return Err(Error::invalid(
                "stale_worker_after",
                format!(
                    "must be longer than two heartbeat intervals ({:?}), got {:?}",
                    self.heartbeat_interval * 2,
                    self.maintenance.stale_worker_after
                ),
            ));
        }
        let config = Config {
            store: self.store,
            #[cfg(feature = "postgres")]
            postgres: self.postgres,
            worker_threads,
            max_in_flight,
            queues,
            adaptive_in_flight,
            lease_duration: self.lease_duration,
            heartbeat_interval: self.heartbeat_interval,
            poll_interval: self.poll_interval,
            shutdown_grace: self.shutdown_grace,
            max_payload_bytes: self.max_payload_bytes,
            retry_policy: self
                .retry_policy
                .unwrap_or_else(|| Arc::new(ExponentialBackoff::new(self.max_backoff))),
            max_snoozes: self.max_snoozes,
            allow_foreign_job_types: self.allow_foreign_job_types,
            dependency_limits: self.dependency_limits,
            misfire_threshold: self.misfire_threshold,
            maintenance: self.maintenance,
            name: self.name,
            start_paused: self.start_paused,
            metrics_interval: self.metrics_interval,
        };
        Ok(Checked {
            config,
            registry: self.registry,
            state: self.state,
            clock: self.clock,
            events: Events::new(self.hooks),
        })
    }
}

/// A builder's settings, checked: what a scheduler starts from.
pub(crate) struct Checked {
    pub(crate) config: Config,
    pub(crate) registry: Registry,
    pub(crate) state: AppState,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) events: Events,
}

/// A new location with the settings already chosen on the old one.
fn rebuild_store(fresh: StoreOptions, old: &StoreOptions) -> StoreOptions {
    let fresh = fresh
        .synchronous(old.synchronous_mode())
        .busy_timeout(old.busy_timeout_value())
        .clock(old.clock_value());
    let fresh = fresh.verify_integrity(old.verify_integrity_value());
    match old.max_size_value() {
        Some(bytes) => fresh.max_size(bytes),
        None => fresh,
    }
}
