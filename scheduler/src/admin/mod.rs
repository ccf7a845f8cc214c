//! The operator's handle: [`Admin`] opens a scheduler database without starting any
//! thread and offers what operators and tools need — runs (list, show, cancel, retry
//! one or many), pause and resume, schedules and their next fire times, workers,
//! figures, a maintenance pass, and migrations. The `runloom` CLI is built on it alone.
//!
//! It works on a database that running schedulers use at the same time: its reads are
//! snapshots and its writes short transactions, like theirs. A running
//! [`Scheduler`](crate::Scheduler) hands out its own with
//! [`Scheduler::admin`](crate::Scheduler::admin).

mod copy;
mod queues;
mod runs;
mod system;
mod wait;

use std::{path::PathBuf, sync::Arc, time::Duration};

pub use self::{
    copy::CopyReport,
    runs::{Dependency, RetryReport, RunDetails},
    system::{Figures, WorkerInfo},
};
use crate::{
    backend::Backend,
    clock::{Clock, SystemClock},
    error::{Error, Result},
    maintenance::MaintenanceConfig,
    model::{MigrationStatus, MigrationStep},
    retry::{ExponentialBackoff, RetryPolicy},
    store::{Migrator, Store, StoreOptions},
};

/// An open scheduler database, for operators and tools: no threads, nothing runs on
/// its own. Cheap to clone (clones share the connections).
///
/// ```
/// use runloom::{Admin, RunFilter, RunStatus, Scheduler};
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("jobs.db");
/// # Scheduler::builder().database(&path).start()?.shutdown(std::time::Duration::from_secs(5))?;
/// // A database a host created (and migrated) earlier.
/// let admin = Admin::open(&path)?;
/// let failed = admin.runs(&RunFilter::new().status(RunStatus::Failed).limit(20))?;
/// assert!(failed.is_empty());
/// assert!(!admin.is_paused()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Admin {
    pub(crate) store: Arc<dyn Backend>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) retry: Arc<dyn RetryPolicy>,
    pub(crate) maintenance: MaintenanceConfig,
    /// A running scheduler's events, which wake [`Admin::wait`] at once; `None` for an
    /// admin of its own, which re-reads on a backoff.
    pub(crate) changes: Option<Arc<crate::events::Changes>>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// How to open an [`Admin`]: from [`Admin::builder`], then one of
/// [`open`](AdminBuilder::open), [`open_any_version`](AdminBuilder::open_any_version) or
/// [`create`](AdminBuilder::create).
#[derive(Clone)]
#[must_use]
pub struct AdminBuilder {
    path: PathBuf,
    /// A PostgreSQL database instead of the file at `path`.
    #[cfg(feature = "postgres")]
    postgres: Option<String>,
    clock: Arc<dyn Clock>,
    retry: Option<Arc<dyn RetryPolicy>>,
    maintenance: MaintenanceConfig,
    busy_timeout: Duration,
}

impl std::fmt::Debug for AdminBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminBuilder")
            .field("path", &self.path)
            .field("busy_timeout", &self.busy_timeout)
            .finish_non_exhaustive()
    }
}

impl AdminBuilder {
    /// The wall clock for the times it writes (cancellations, retries, pauses) and for
    /// "now" in its figures; the system clock by default.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use runloom::{Admin, EnqueueOptions, ManualClock, time::macros::datetime};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # Admin::builder(&path).create()?.migrate_up(None, false)?;
    /// let clock = Arc::new(ManualClock::new(datetime!(2030-01-01 9:00 UTC)));
    /// let admin = Admin::builder(&path).clock(clock).open()?;
    /// let id = admin.enqueue_json_any_type("report", "{}", &EnqueueOptions::new())?.id;
    /// assert_eq!(admin.run(id)?.created_at, datetime!(2030-01-01 9:00 UTC));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The delay before runs that a maintenance pass takes back from dead workers are
    /// tried again; [`ExponentialBackoff::default`] unless set (a host's own policy is
    /// code the tool opening the database may not have).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Admin, FailedAttempt, RetryPolicy, Service, maintenance::Counts};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # Admin::builder(&path).create()?.migrate_up(None, false)?;
    /// #[derive(Debug)]
    /// struct Fixed(Duration);
    /// impl RetryPolicy for Fixed {
    ///     fn retry_delay(&self, _: &FailedAttempt<'_>) -> Duration {
    ///         self.0
    ///     }
    /// }
    ///
    /// let admin = Admin::builder(&path).retry_policy(Fixed(Duration::from_secs(30))).open()?;
    /// // Runs this pass takes back from dead workers are due again in 30 s.
    /// let report = admin.run_maintenance(Some(Service::LeaseRescue))?;
    /// let pass = report.pass(Service::LeaseRescue).ok_or("no lease rescue pass")?;
    /// assert!(matches!(pass.counts, Counts::LeaseRescue(c) if c.requeued == 0), "no dead worker");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retry_policy(mut self, policy: impl RetryPolicy) -> Self {
        self.retry = Some(Arc::new(policy));
        self
    }

    /// The settings of the maintenance passes it runs ([`Admin::run_maintenance`]):
    /// retention periods and batch sizes; the defaults unless set. Workers are judged
    /// by the limits each recorded itself whatever these say.
    ///
    /// ```
    /// # use std::{sync::Arc, time::Duration};
    /// # use runloom::{Admin, EnqueueOptions, MaintenanceConfig, ManualClock, Service};
    /// # use runloom::time::{Duration as Span, OffsetDateTime};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # let setup = Admin::builder(&path).create()?;
    /// # setup.migrate_up(None, false)?;
    /// # let id = setup.enqueue_json_any_type("report", "{}", &EnqueueOptions::new())?.id;
    /// # setup.enqueue_json_any_type("report", "{}", &EnqueueOptions::new())?;
    /// # setup.cancel(id, "not needed")?;
    /// // A run was cancelled just now; look at the database two hours on.
    /// let later = Arc::new(ManualClock::new(OffsetDateTime::now_utc() + Span::hours(2)));
    /// let keep_an_hour = MaintenanceConfig::default().keep_cancelled(Duration::from_secs(3600));
    /// let admin = Admin::builder(&path).clock(later).maintenance(keep_an_hour).open()?;
    /// assert_eq!(admin.counts()?.cancelled, 1);
    /// admin.run_maintenance(Some(Service::RunRetention))?;
    /// assert_eq!(admin.counts()?.cancelled, 0, "past its hour (the default keeps it 7 days)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn maintenance(mut self, config: MaintenanceConfig) -> Self {
        self.maintenance = config;
        self
    }

    /// How long a write waits for another process's write lock (default 5 s).
    ///
    /// ```
    /// # use std::time::{Duration, Instant};
    /// # use runloom::Admin;
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # Admin::builder(&path).create()?.migrate_up(None, false)?;
    /// let admin = Admin::builder(&path).busy_timeout(Duration::from_secs(2)).open()?;
    /// // With no other writer, a write goes through at once.
    /// let started = Instant::now();
    /// assert!(admin.pause()?);
    /// assert!(started.elapsed() < Duration::from_secs(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Opens an existing database whose schema is at this library's version, without
    /// creating or migrating anything.
    ///
    /// ```
    /// # use runloom::{Admin, Error};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("jobs.db");
    /// assert!(matches!(Admin::builder(&path).open(), Err(Error::DatabaseMissing(_))));
    /// Admin::builder(&path).create()?; // a file with no schema yet
    /// assert!(matches!(Admin::builder(&path).open(), Err(Error::SchemaBehind { .. })));
    /// Admin::builder(&path).open_any_version()?.migrate_up(None, false)?;
    /// let admin = Admin::builder(&path).open()?;
    /// assert_eq!(admin.schema_version()?, Admin::latest_schema_version());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DatabaseMissing`]; [`Error::EmptyDatabase`] for an empty file;
    /// [`Error::SchemaBehind`] when it needs migrations first; every refusal of an
    /// existing file ([`Error::NotADatabase`], [`Error::NameClash`],
    /// [`Error::SchemaTooNew`], [`Error::ChecksumMismatch`] …).
    pub fn open(self) -> Result<Admin> {
        let admin = self.open_any_version()?;
        let database = admin.schema_version()?;
        let binary = admin.latest_version();
        if database < binary {
            return Err(Error::SchemaBehind { database, binary });
        }
        Ok(admin)
    }

    /// Opens an existing database at whatever schema version it is (for migrations):
    /// nothing is created or migrated.
    ///
    /// ```
    /// # use runloom::Admin;
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # Admin::builder(&path).create()?.migrate_up(Some(1), false)?;
    /// // A database an older release migrated: `open` refuses it, this opens it as it is.
    /// assert!(Admin::builder(&path).open().is_err());
    /// let admin = Admin::builder(&path).open_any_version()?;
    /// assert_eq!(admin.schema_version()?, 1);
    /// admin.migrate_up(None, false)?;
    /// assert_eq!(admin.schema_version()?, Admin::latest_schema_version());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`AdminBuilder::open`], without [`Error::SchemaBehind`].
    pub fn open_any_version(self) -> Result<Admin> {
        #[cfg(feature = "postgres")]
        if self.postgres.is_some() {
            return self.open_store(false);
        }
        // SQLite would turn an empty file into a database; only `create` may.
        if std::fs::metadata(&self.path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(Error::EmptyDatabase(self.path));
        }
        self.open_store(false)
    }

    /// Opens the database, creating the file when it is missing (or empty), and
    /// migrates nothing: for [`Admin::migrate_up`] on a new database.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("jobs.db");
    /// let admin = runloom::Admin::builder(&path).create()?;
    /// assert!(path.exists());
    /// assert_eq!(admin.schema_version()?, 0, "created, not migrated");
    /// admin.migrate_up(None, false)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Every refusal of an existing file, as [`AdminBuilder::open`]; [`Error::Io`].
    pub fn create(self) -> Result<Admin> {
        self.open_store(true)
    }

    fn open_store(self, create: bool) -> Result<Admin> {
        #[cfg(feature = "postgres")]
        if let Some(url) = &self.postgres {
            // A PostgreSQL database is created by its server's operator: `create`
            // opens an existing, possibly empty, one.
            let store = crate::store::postgres::PgStore::open_as_is(
                crate::store::postgres::PgOptions::new(url.clone()).busy_timeout(self.busy_timeout),
            )?;
            return Ok(self.with_store(Arc::new(store)));
        }
        let store: Arc<dyn Backend> = Arc::new(Store::open(
            StoreOptions::file(&self.path)
                .create_if_missing(create)
                .migrate(false)
                .busy_timeout(self.busy_timeout)
                .clock(self.clock.clone()),
        )?);
        Ok(self.with_store(store))
    }

    fn with_store(self, store: Arc<dyn Backend>) -> Admin {
        Admin {
            store,
            clock: self.clock,
            retry: self
                .retry
                .unwrap_or_else(|| Arc::new(ExponentialBackoff::default())),
            maintenance: self.maintenance,
            changes: None,
        }
    }
}

impl Admin {
    /// How to open one: a clock, a retry policy, a busy timeout.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::Admin;
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # Admin::builder(&path).create()?.migrate_up(None, false)?;
    /// let admin = Admin::builder(&path).busy_timeout(Duration::from_secs(1)).open()?;
    /// assert!(!admin.is_paused()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(path: impl Into<PathBuf>) -> AdminBuilder {
        AdminBuilder {
            path: path.into(),
            #[cfg(feature = "postgres")]
            postgres: None,
            clock: Arc::new(SystemClock),
            retry: None,
            maintenance: MaintenanceConfig::default(),
            busy_timeout: crate::store::DEFAULT_BUSY_TIMEOUT,
        }
    }

    /// How to open a PostgreSQL database (feature `postgres`): `url` is a libpq
    /// connection string or URL. The database must exist; [`AdminBuilder::create`]
    /// opens an empty one for [`Admin::migrate_up`].
    ///
    /// ```no_run
    /// let admin = runloom::Admin::builder_postgres("postgres://jobs@db.internal/jobs").open()?;
    /// println!("{} runs pending", admin.figures()?.counts.pending);
    /// # Ok::<(), runloom::Error>(())
    /// ```
    #[cfg(feature = "postgres")]
    pub fn builder_postgres(url: impl Into<String>) -> AdminBuilder {
        let mut builder = Admin::builder(PathBuf::new());
        builder.postgres = Some(url.into());
        builder
    }

    /// Opens an existing database at this library's schema version (see
    /// [`AdminBuilder::open`]).
    ///
    /// ```
    /// # use runloom::Admin;
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # let host = runloom::Scheduler::builder().database(&path).start()?;
    /// # host.shutdown(std::time::Duration::from_secs(5))?;
    /// let admin = Admin::open(&path)?; // a database a host created and migrated
    /// assert_eq!(admin.schema_version()?, Admin::latest_schema_version());
    /// let missing = Admin::open(dir.path().join("missing.db"));
    /// assert!(matches!(missing, Err(runloom::Error::DatabaseMissing(_))), "nothing is created");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`AdminBuilder::open`].
    pub fn open(path: impl Into<PathBuf>) -> Result<Admin> {
        Admin::builder(path).open()
    }

    /// The admin of a running scheduler, on its store, clock and policies.
    pub(crate) fn of(
        store: Arc<dyn Backend>,
        clock: Arc<dyn Clock>,
        retry: Arc<dyn RetryPolicy>,
        maintenance: MaintenanceConfig,
        changes: Arc<crate::events::Changes>,
    ) -> Admin {
        Admin {
            store,
            clock,
            retry,
            maintenance,
            changes: Some(changes),
        }
    }

    /// The highest migration version this library knows for this database's backend
    /// (SQLite's and PostgreSQL's migrations are numbered apart).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let admin = runloom::Admin::builder(dir.path().join("new.db")).create()?;
    /// assert_eq!(admin.latest_version(), runloom::Admin::latest_schema_version());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn latest_version(&self) -> u32 {
        self.store.latest_schema_version()
    }

    /// The highest migration version this library knows for a SQLite database.
    ///
    /// ```
    /// use runloom::Admin;
    ///
    /// let latest = Admin::latest_schema_version();
    /// let plan = Admin::plan_new_database(None)?;
    /// assert_eq!(plan.last().map(|step| step.version), Some(latest));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn latest_schema_version() -> u32 {
        Migrator::embedded().latest_version()
    }

    /// The migrations a new, empty database would get up to `to` (all by default),
    /// computed without creating any file: the dry run of `migrate up` on a missing
    /// database.
    ///
    /// ```
    /// use runloom::{Admin, Direction};
    ///
    /// let plan = Admin::plan_new_database(None)?;
    /// assert_eq!(plan.len() as u32, Admin::latest_schema_version());
    /// assert!(plan.iter().all(|step| step.direction == Direction::Up));
    /// let first_only = Admin::plan_new_database(Some(1))?;
    /// assert_eq!(first_only.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidMigrationTarget`]; database errors.
    pub fn plan_new_database(to: Option<u32>) -> Result<Vec<MigrationStep>> {
        Store::open(StoreOptions::memory().migrate(false))?.migrate_up(to, true)
    }

    /// The schema version of the database (0 before any migration).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let admin = runloom::Admin::builder(dir.path().join("new.db")).create()?;
    /// assert_eq!(admin.schema_version()?, 0);
    /// admin.migrate_up(None, false)?;
    /// assert_eq!(admin.schema_version()?, runloom::Admin::latest_schema_version());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn schema_version(&self) -> Result<u32> {
        self.store.schema_version()
    }

    /// Every migration of this library and whether the database has it.
    ///
    /// ```
    /// # use runloom::{Admin, MigrationState};
    /// # let dir = tempfile::tempdir()?;
    /// let admin = Admin::builder(dir.path().join("jobs.db")).create()?;
    /// assert!(admin.migrations()?.iter().all(|m| m.state == MigrationState::Pending));
    /// admin.migrate_up(None, false)?;
    /// let all = admin.migrations()?;
    /// assert!(all.iter().all(|m| matches!(m.state, MigrationState::Applied { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn migrations(&self) -> Result<Vec<MigrationStatus>> {
        self.store.migrations()
    }

    /// Applies pending migrations up to `to` (all by default); with `dry_run`, only
    /// says which would run. Each runs in its own transaction.
    ///
    /// ```
    /// # use runloom::Admin;
    /// # let dir = tempfile::tempdir()?;
    /// let admin = Admin::builder(dir.path().join("jobs.db")).create()?;
    /// let planned = admin.migrate_up(None, true)?; // dry run
    /// assert_eq!(admin.schema_version()?, 0);
    /// let applied = admin.migrate_up(None, false)?;
    /// assert_eq!(applied.len(), planned.len());
    /// assert_eq!(admin.schema_version()?, Admin::latest_schema_version());
    /// assert!(admin.migrate_up(None, false)?.is_empty(), "nothing left to apply");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidMigrationTarget`]; [`Error::MigrationFailed`] (that migration
    /// changed nothing; earlier ones stay applied); database errors.
    pub fn migrate_up(&self, to: Option<u32>, dry_run: bool) -> Result<Vec<MigrationStep>> {
        self.store.migrate_up(to, dry_run)
    }

    /// Reverts migrations down to version `to` (0 drops every scheduler table and
    /// row); with `dry_run`, only says which would run.
    ///
    /// ```
    /// # use runloom::{Admin, Direction};
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// let reverted = admin.migrate_down(1, false)?;
    /// assert!(reverted.iter().all(|step| step.direction == Direction::Down));
    /// assert_eq!(admin.schema_version()?, 1);
    /// admin.migrate_down(0, false)?; // every scheduler table dropped
    /// assert_eq!(admin.schema_version()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Admin::migrate_up`].
    pub fn migrate_down(&self, to: u32, dry_run: bool) -> Result<Vec<MigrationStep>> {
        self.store.migrate_down(to, dry_run)
    }
}
