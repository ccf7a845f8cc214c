//! The storage layer: the only code that talks to SQLite.
//!
//! A [`Store`] owns one write connection (behind a mutex: SQLite has one writer at a time
//! anyway, and serialising in-process writers here means they never meet `SQLITE_BUSY`
//! among themselves) and an r2d2 pool of query-only readers. Work is done in
//! transactions:
//!
//! * [`Store::write`] runs a closure in an IMMEDIATE transaction on the writer, so the
//!   write lock is taken up front and a read is never upgraded into `SQLITE_BUSY`;
//! * [`Store::read`] runs a closure in a read transaction on a pooled connection, which
//!   sees one consistent snapshot.
//!
//! The typed operations live on [`ReadTx`] and [`WriteTx`] (one file per table), and
//! every SQL statement they run is a file under `sql/`, embedded at compile time. Times
//! are bound as parameters (`:now`), never read from SQLite's clock.
//!
//! ```
//! use runloom::store::{NewRun, Store, StoreOptions};
//! use runloom::{Clock, SystemClock};
//!
//! let store = Store::open(StoreOptions::memory())?;
//! let now = SystemClock.now();
//! let inserted = store.write(|tx| tx.insert_run(&NewRun::new("send_email", r#"{"to":"a@b.c"}"#, now), now))?;
//! let run = store.read(|tx| tx.get_run(inserted.id))?;
//! assert_eq!(run.job_type, "send_email");
//! # Ok::<(), runloom::Error>(())
//! ```

mod backend;
mod busy;
mod checkpoint;
mod connection;
mod deps;
mod errors;
mod leases;
mod maintenance;
mod migrate;
/// The PostgreSQL backend (feature `postgres`): the same storage interface on a server
/// that several hosts share. Beside SQLite's files here, so both backends, and every
/// name of their driver crates, live under `store/`.
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
mod queues;
mod runs;
mod schedules;
pub(crate) mod sql;
mod state;
mod tasks;
mod tokens;
mod types;
mod views;
mod workers;

use std::{
    fmt,
    ops::Deref,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use parking_lot::Mutex;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, TransactionBehavior};

use self::busy::Cutoff;
pub(crate) use self::checkpoint::run_checkpointer;
pub use self::{
    checkpoint::Checkpoint,
    connection::{Location, Synchronous},
    migrate::{Direction, Migration, MigrationState, MigrationStatus, MigrationStep, Migrator},
    types::{
        AttemptError, AttemptErrorKind, AttemptOutcome, AttemptTiming, CancelOutcome, ClaimedRun,
        Inserted, Lease, MAX_ATTEMPTS, MAX_JSON_DEPTH, MAX_PRIORITY, MAX_UNIQUE_KEY_LEN,
        MisfirePolicy, NewRun, OnUpstreamFailure, Run, RunId, RunStatus, TaskId, WorkerId,
        WorkerStatus,
    },
    views::View,
};
pub use crate::backend::{Finished, JobTypeFilter, LeaseRescue, RescuedRun};
pub use crate::model::{
    ArchiveMode, DependencyEdge, DependencyLimits, NewDependency, NewTask, NewWorker, Promise,
    RunFilter, SCHEDULE_CHANGED, SCHEDULE_DISABLED, SCHEDULE_REMOVED, Schedule, StatusCounts, Task,
    TaskUpdate, UPSTREAM_FAILED, Worker,
};
use crate::{
    clock::{Clock, SystemClock},
    error::{Error, Result},
};

/// Default time a connection waits for another connection's write lock.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of pooled read connections.
pub const DEFAULT_READ_POOL_SIZE: u32 = 4;
/// Default number of prepared statements each connection keeps.
pub const DEFAULT_STATEMENT_CACHE: usize = 128;

/// How to open a [`Store`]. Start from [`StoreOptions::file`] or [`StoreOptions::memory`].
#[derive(Clone, Debug)]
pub struct StoreOptions {
    location: Location,
    synchronous: Synchronous,
    busy_timeout: Duration,
    read_pool_size: u32,
    statement_cache: usize,
    create_if_missing: bool,
    migrate: bool,
    max_size: Option<u64>,
    verify_integrity: bool,
    clock: Arc<dyn Clock>,
}

impl StoreOptions {
    /// A database file at `path`.
    #[must_use]
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::at(Location::File(path.into()))
    }

    /// A private in-memory database (for tests where a file adds nothing).
    #[must_use]
    pub fn memory() -> Self {
        Self::at(Location::Memory(connection::unique_memory_name()))
    }

    fn at(location: Location) -> Self {
        StoreOptions {
            location,
            synchronous: Synchronous::Normal,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            read_pool_size: DEFAULT_READ_POOL_SIZE,
            statement_cache: DEFAULT_STATEMENT_CACHE,
            create_if_missing: true,
            migrate: true,
            max_size: None,
            verify_integrity: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// Durability of commits. Defaults to [`Synchronous::Normal`].
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// How long a statement waits for another connection's write lock before failing
    /// with a busy error. Defaults to [`DEFAULT_BUSY_TIMEOUT`] (5 s).
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Number of pooled read connections. Defaults to [`DEFAULT_READ_POOL_SIZE`] (4).
    /// Values below 1 are raised to 1.
    #[must_use]
    pub fn read_pool_size(mut self, size: u32) -> Self {
        self.read_pool_size = size.max(1);
        self
    }

    /// Prepared statements cached per connection. Defaults to
    /// [`DEFAULT_STATEMENT_CACHE`] (128).
    #[must_use]
    pub fn statement_cache(mut self, capacity: usize) -> Self {
        self.statement_cache = capacity;
        self
    }

    /// Whether a missing file (and its folders) is created. Defaults to true; tools that
    /// must never create a database by accident turn it off.
    #[must_use]
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }

    /// Whether pending migrations are applied at open. Defaults to true. With false, the
    /// database is still checked (and refused if it is newer, foreign or tampered with)
    /// but left at its version, for `migrate status` and dry runs.
    #[must_use]
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// The most bytes the database file may grow to. A write that needs more fails with
    /// an error for which [`Error::is_disk_full`] is true, exactly as on a full disk,
    /// and changes nothing; space freed by deleting rows (maintenance retention) is used
    /// again. Defaults to no limit. (A file already larger keeps its size.)
    #[must_use]
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = Some(bytes);
        self
    }

    /// Whether opening reads every page to check for damage (`PRAGMA quick_check`)
    /// and refuses a damaged file with [`Error::Corrupt`]. Defaults to false: opening
    /// then checks the header, the file's length and the schema (what a truncated or
    /// foreign file breaks), and damage elsewhere is reported by the statement that
    /// reads it ([`Error::is_corrupt`]). The full check reads the whole file: about 2 s
    /// for a 100 MB database on a small machine.
    #[must_use]
    pub fn verify_integrity(mut self, verify: bool) -> Self {
        self.verify_integrity = verify;
        self
    }

    /// The clock that stamps migrations. Defaults to the system clock.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Where the database lives.
    #[must_use]
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The configured durability.
    #[must_use]
    pub fn synchronous_mode(&self) -> Synchronous {
        self.synchronous
    }

    pub(crate) fn busy_timeout_value(&self) -> Duration {
        self.busy_timeout
    }

    pub(crate) fn max_size_value(&self) -> Option<u64> {
        self.max_size
    }

    pub(crate) fn verify_integrity_value(&self) -> bool {
        self.verify_integrity
    }

    pub(crate) fn clock_value(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    fn settings(&self) -> connection::ConnectionSettings {
        connection::ConnectionSettings {
            busy_timeout: self.busy_timeout,
            synchronous: self.synchronous,
            statement_cache: self.statement_cache,
        }
    }
}

/// An open database: one writer and a pool of readers. Cheap to clone (shared).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    /// Commits on `writer`, for the checkpoint thread.
    commits: AtomicU64,
    /// A write found the disk full: the checkpoint thread truncates the log (once it
    /// can) so the space it grew into is given back.
    reclaim: std::sync::atomic::AtomicBool,
    /// The longest a write transaction of this store held the write lock, in
    /// nanoseconds, since it was last taken ([`Store::take_longest_write_hold`]).
    longest_hold: AtomicU64,
    /// The connection [`Store::checkpoint`] uses, opened on first use.
    checkpointer: Mutex<Option<Connection>>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    options: StoreOptions,
    migrator: Migrator,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.inner.options.location)
            .field("synchronous", &self.inner.options.synchronous)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (and by default creates and migrates) the database.
    ///
    /// Before anything is written the file is checked: it must be a SQLite database (or
    /// missing or empty), writable, not damaged at the header, free of objects of the
    /// scheduler's names that no history of ours records (the application's own tables
    /// of other names stay beside ours), not migrated by a newer binary, and every
    /// applied migration must match this binary's file. A database already up to date is not written to at all.
    ///
    /// # Errors
    /// [`Error::SqliteTooOld`], [`Error::DatabaseMissing`], [`Error::NotADatabase`],
    /// [`Error::Corrupt`], [`Error::ReadOnly`], [`Error::NameClash`],
    /// [`Error::SchemaTooNew`], [`Error::ChecksumMismatch`], [`Error::MigrationHistory`],
    /// [`Error::MigrationFailed`], [`Error::Io`], and database errors.
    pub fn open(options: StoreOptions) -> Result<Store> {
        Self::open_with_migrator(options, Migrator::embedded())
    }

    /// Opens with a custom migration list instead of the embedded one: for testing the
    /// runner. The scheduler itself always uses [`Migrator::embedded`].
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_with_migrator(options: StoreOptions, migrator: Migrator) -> Result<Store> {
        connection::check_sqlite_version(rusqlite::version_number(), rusqlite::version())?;
        if let Location::File(path) = &options.location {
            connection::prepare_file(path, options.create_if_missing)?;
        }
        let mut writer = connection::open_checked(&options.location, options.busy_timeout)?;
        // Refusals first: nothing below may run on a database we would refuse.
        migrator.current_version(&writer)?;
        if options.verify_integrity {
            connection::verify_integrity(&writer, &options.location)?;
        }
        let settings = options.settings();
        if matches!(options.location, Location::File(_)) {
            connection::enable_wal(&writer, options.busy_timeout)?;
        }
        connection::configure(&writer, settings, false)?;
        if let Some(bytes) = options.max_size {
            connection::limit_size(&writer, bytes)?;
        }
        if options.migrate {
            migrator.up(&mut writer, None, options.clock.now())?;
        }
        // From here on the writer waits for locks until each transaction's deadline.
        busy::install(&writer)?;

        let (name, flags) = connection::target(&options.location);
        let manager = SqliteConnectionManager::file(name)
            .with_flags(flags)
            .with_init(move |c| connection::configure(c, settings, true));
        let readers = r2d2::Pool::builder()
            .max_size(options.read_pool_size)
            .min_idle(Some(0))
            .connection_timeout(options.busy_timeout.max(Duration::from_secs(1)))
            .build(manager)?;
        Ok(Store {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                commits: AtomicU64::new(0),
                reclaim: std::sync::atomic::AtomicBool::new(false),
                longest_hold: AtomicU64::new(0),
                checkpointer: Mutex::new(None),
                readers,
                options,
                migrator,
            }),
        })
    }

    fn settings(&self) -> connection::ConnectionSettings {
        self.inner.options.settings()
    }

    /// The write connection, for what runs on it outside [`Store::write`] (migrations,
    /// pragmas): its lock waits last the busy timeout, as for any write.
    fn writer(&self) -> (parking_lot::MutexGuard<'_, Connection>, busy::Scope) {
        let scope = busy::scope(Instant::now() + self.inner.options.busy_timeout, None);
        (self.inner.writer.lock(), scope)
    }

    /// The migrations this store runs.
    pub(crate) fn migrator(&self) -> &Migrator {
        &self.inner.migrator
    }

    /// The options the store was opened with.
    #[must_use]
    pub fn options(&self) -> &StoreOptions {
        &self.inner.options
    }

    /// Runs `f` in an IMMEDIATE transaction on the write connection and commits it when
    /// `f` returns `Ok`. When `f` returns an error (or panics) the transaction is rolled
    /// back and nothing it did remains.
    ///
    /// # Errors
    /// The error of `f`; a busy error when another process held the write lock for
    /// longer than the busy timeout (see [`Error::is_busy`]); other database errors.
    pub fn write<T>(&self, f: impl FnOnce(&WriteTx<'_>) -> Result<T>) -> Result<T> {
        self.write_until(Instant::now() + self.inner.options.busy_timeout, f)
    }

    /// [`Store::write`], waiting for the write lock (this process's and other
    /// processes') only until `deadline` instead of the busy timeout.
    ///
    /// # Errors
    /// As [`Store::write`]; a busy error once the deadline passes.
    pub fn write_until<T>(
        &self,
        deadline: Instant,
        f: impl FnOnce(&WriteTx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.write_cut(deadline, None, f)
    }

    /// [`Store::write_until`], whose waits also end once `cutoff` (which another thread
    /// may set meanwhile) has passed.
    pub(crate) fn write_cut<T>(
        &self,
        deadline: Instant,
        cutoff: Option<&Arc<Cutoff>>,
        f: impl FnOnce(&WriteTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = loop {
            let until = busy::earliest(deadline, cutoff.map(Arc::as_ref));
            // In slices, so a cutoff set meanwhile is seen.
            let slice = (Instant::now() + Duration::from_millis(10)).min(until);
            if let Some(conn) = self.inner.writer.try_lock_until(slice) {
                break conn;
            }
            if Instant::now() >= until {
                return Err(busy::timed_out("this process's writer is in use"));
            }
        };
        let _deadline = busy::scope(deadline, cutoff.cloned());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // From here the database's write lock is held.
        let locked = Instant::now();
        let out = f(&WriteTx::over(&tx))?;
        tx.commit()?;
        let held = u64::try_from(locked.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.inner.longest_hold.fetch_max(held, Ordering::Relaxed);
        self.inner.commits.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// Runs `plan` on a snapshot before taking the write lock, then `apply` with the
    /// plan under the lock: the lock is held only for the writes. This process's other
    /// writers wait meanwhile (the writer is taken for both), and if another connection
    /// committed between the two, the plan is made again under the lock.
    pub(crate) fn write_planned<P, T>(
        &self,
        plan: impl Fn(&ReadTx<'_>) -> Result<P>,
        apply: impl FnOnce(&WriteTx<'_>, P) -> Result<T>,
    ) -> Result<T> {
        let deadline = Instant::now() + self.inner.options.busy_timeout;
        let mut conn = self
            .inner
            .writer
            .try_lock_until(deadline)
            .ok_or_else(|| busy::timed_out("this process's writer is in use"))?;
        let _deadline = busy::scope(deadline, None);
        let version = |c: &Connection| -> Result<i64> {
            Ok(c.prepare_cached(sql::SCHEMA_DATA_VERSION)?
                .query_row([], |r| r.get(0))?)
        };
        let before = version(&conn)?;
        let planned = {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let p = plan(&ReadTx { conn: &tx })?;
            tx.finish()?;
            p
        };
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let locked = Instant::now();
        let planned = if version(&tx)? == before {
            planned
        } else {
            plan(&ReadTx { conn: &tx })?
        };
        let out = apply(&WriteTx::over(&tx), planned)?;
        tx.commit()?;
        let held = u64::try_from(locked.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.inner.longest_hold.fetch_max(held, Ordering::Relaxed);
        self.inner.commits.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// Adds dependency edges between existing runs, as [`WriteTx::add_dependencies`]
    /// does, checking them before it takes the write lock: the lock is held only to
    /// write them (a chain of 10 000 edges: about the time of the bare inserts).
    ///
    /// # Errors
    /// As [`WriteTx::add_dependencies`].
    pub fn add_dependencies(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: time::OffsetDateTime,
    ) -> Result<usize> {
        self.write_planned(
            |tx| tx.plan_edges(edges, limits, true),
            |tx, plan| tx.apply_edges(plan, now),
        )
    }

    /// The longest a committed write transaction of this store held the database's
    /// write lock since the last call (or since it opened), and starts measuring anew:
    /// how long every other writer of the file may have waited for this one. The
    /// benches report it; a host may watch it.
    #[must_use]
    pub fn take_longest_write_hold(&self) -> Duration {
        Duration::from_nanos(self.inner.longest_hold.swap(0, Ordering::Relaxed))
    }

    /// Runs `f` in a read transaction on a pooled connection: every read inside sees the
    /// same snapshot.
    ///
    /// # Errors
    /// The error of `f`, a pool timeout, or database errors.
    pub fn read<T>(&self, f: impl FnOnce(&ReadTx<'_>) -> Result<T>) -> Result<T> {
        let conn = self.inner.readers.get()?;
        let tx = conn.unchecked_transaction()?;
        let out = f(&ReadTx { conn: &tx })?;
        // A read transaction has nothing to commit; ending it releases the snapshot.
        tx.finish()?;
        Ok(out)
    }

    /// Every migration of this binary with its state in the database.
    ///
    /// # Errors
    /// Database errors, or a refusal as at open.
    pub fn migration_status(&self) -> Result<Vec<MigrationStatus>> {
        self.inner.migrator.status(&self.writer().0)
    }

    /// The database's migration version.
    ///
    /// # Errors
    /// Database errors, or a refusal as at open.
    pub fn schema_version(&self) -> Result<u32> {
        self.inner.migrator.current_version(&self.writer().0)
    }

    /// Applies migrations up to `target` (all when `None`); with `dry_run`, only reports
    /// what would run.
    ///
    /// # Errors
    /// As [`Migrator::up`].
    pub fn migrate_up(&self, target: Option<u32>, dry_run: bool) -> Result<Vec<MigrationStep>> {
        let (mut conn, _deadline) = self.writer();
        if dry_run {
            return self.inner.migrator.plan_up(&conn, target);
        }
        self.inner
            .migrator
            .up(&mut conn, target, self.inner.options.clock.now())
    }

    /// Reverts migrations down to `target` (0 reverts everything, dropping every table
    /// and row of the scheduler); with `dry_run`, only reports what would run.
    ///
    /// # Errors
    /// As [`Migrator::down`].
    pub fn migrate_down(&self, target: u32, dry_run: bool) -> Result<Vec<MigrationStep>> {
        let (mut conn, _deadline) = self.writer();
        if dry_run {
            return self.inner.migrator.plan_down(&conn, target);
        }
        self.inner.migrator.down(&mut conn, target)
    }

    /// The settings in force on the write connection, read back from SQLite.
    ///
    /// # Errors
    /// Database errors.
    pub fn diagnostics(&self) -> Result<Diagnostics> {
        let (conn, _deadline) = self.writer();
        let text = |name: &str| -> Result<String> {
            Ok(conn.pragma_query_value(None, name, |r| {
                Ok(match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                    v => v.as_str().unwrap_or_default().to_owned(),
                })
            })?)
        };
        let synchronous = match text("synchronous")?.as_str() {
            "2" => Synchronous::Full,
            _ => Synchronous::Normal,
        };
        Ok(Diagnostics {
            sqlite_version: rusqlite::version().to_owned(),
            journal_mode: text("journal_mode")?,
            synchronous,
            foreign_keys: text("foreign_keys")? == "1",
            // The writer waits by its own handler (per-transaction deadlines); the
            // configured timeout is what readers use and writes default to.
            busy_timeout_ms: u64::try_from(self.inner.options.busy_timeout.as_millis())
                .unwrap_or(u64::MAX),
            page_count: text("page_count")?.parse().unwrap_or(0),
            page_size: text("page_size")?.parse().unwrap_or(0),
        })
    }

    /// Changes the most bytes the file may grow to (`None`: no limit), e.g. to let
    /// writes through again after [`Error::is_disk_full`] errors.
    ///
    /// # Errors
    /// Database errors.
    pub fn set_max_size(&self, bytes: Option<u64>) -> Result<()> {
        let (conn, _deadline) = self.writer();
        // SQLite's own ceiling when no limit is wanted.
        connection::limit_size(&conn, bytes.unwrap_or(u64::MAX / 2))
    }

    /// Checks the whole file for damage (`PRAGMA quick_check`): empty when it is sound,
    /// otherwise SQLite's description of each problem. Reads every page: on a large
    /// database it takes a while.
    ///
    /// # Errors
    /// Database errors (a file damaged badly enough may fail to be checked at all:
    /// [`Error::is_corrupt`] tells).
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        connection::quick_check(&self.writer().0)
    }

    /// The schema as `(type, name, table, sql)` rows, sorted, without SQLite's internal
    /// objects: for comparing two databases.
    ///
    /// # Errors
    /// Database errors.
    pub fn schema_objects(&self) -> Result<Vec<(String, String, String, String)>> {
        let (conn, _deadline) = self.writer();
        let mut stmt = conn.prepare(sql::SCHEMA_OBJECTS)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(Error::from)
    }
}

/// The settings in force on the write connection ([`Store::diagnostics`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnostics {
    /// The SQLite library version.
    pub sqlite_version: String,
    /// `wal` for a file database.
    pub journal_mode: String,
    /// Durability of commits.
    pub synchronous: Synchronous,
    /// Whether foreign keys are enforced.
    pub foreign_keys: bool,
    /// How long a statement waits for another connection's lock.
    pub busy_timeout_ms: u64,
    /// Pages in the database.
    pub page_count: u64,
    /// Bytes per page.
    pub page_size: u64,
}

/// A transaction that reads. Every read operation of the storage layer is a method of
/// this type (see the per-table modules); a [`WriteTx`] offers them too.
pub struct ReadTx<'a> {
    conn: &'a Connection,
}

impl fmt::Debug for ReadTx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadTx").finish_non_exhaustive()
    }
}

/// A write transaction (IMMEDIATE: it holds the database's write lock). Every write
/// operation of the storage layer is a method of this type; reads are available through
/// `Deref` to [`ReadTx`].
pub struct WriteTx<'a> {
    read: ReadTx<'a>,
    /// Dependency edges this transaction may still settle; the rest wait in the settle
    /// queue for the next transactions, so no finishing run holds the lock long.
    settle_budget: std::cell::Cell<usize>,
}

impl fmt::Debug for WriteTx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteTx").finish_non_exhaustive()
    }
}

impl<'a> Deref for WriteTx<'a> {
    type Target = ReadTx<'a>;

    fn deref(&self) -> &ReadTx<'a> {
        &self.read
    }
}

impl<'a> WriteTx<'a> {
    /// The connection this transaction runs on, for a host's own statements inside it
    /// (what [`crate::sqlite::JobContextExt::transaction`] hands to the job). Do not begin, commit
    /// or roll back on it: the transaction's owner does.
    #[must_use]
    pub fn connection(&self) -> &'a Connection {
        self.read.conn
    }

    /// Wraps a transaction the host opened on its own connection to the same database,
    /// so scheduler writes commit (or roll back) together with the host's own.
    ///
    /// The host is responsible for having opened the database through [`Store::open`]
    /// at least once (so the schema exists) and for committing.
    #[must_use]
    pub fn from_host(tx: &'a rusqlite::Transaction<'a>) -> Self {
        WriteTx::over(tx)
    }

    fn over(conn: &'a Connection) -> Self {
        WriteTx {
            read: ReadTx { conn },
            settle_budget: std::cell::Cell::new(deps::SETTLE_EDGES_PER_TX),
        }
    }

    /// [`WriteTx::from_host`], once the host's transaction holds the write lock: one
    /// begun `IMMEDIATE`, or one that wrote already, is used as it is; a deferred one
    /// that has not read yet takes the lock now (waiting with the connection's busy
    /// timeout). A deferred one that has read cannot take it safely (SQLite fails such
    /// an upgrade at once with a busy error when another connection wrote meanwhile), so
    /// it is refused.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a transaction that has read but not written;
    /// a busy error when the lock cannot be had in the busy timeout.
    pub fn from_host_locked(tx: &'a rusqlite::Transaction<'a>) -> Result<Self> {
        match tx.transaction_state(Some(rusqlite::MAIN_DB))? {
            rusqlite::TransactionState::Write => {}
            rusqlite::TransactionState::None => {
                tx.prepare_cached(sql::STATE_TAKE_WRITE_LOCK)?.execute([])?;
            }
            _ => {
                return Err(Error::invalid(
                    "transaction",
                    "a deferred transaction that has already read cannot be written to \
                     safely: begin it with TransactionBehavior::Immediate (or write before \
                     reading)",
                ));
            }
        }
        Ok(Self::from_host(tx))
    }
}

impl WriteTx<'_> {
    /// Runs `f` as one step of this transaction: if it fails, what it wrote is undone
    /// (a savepoint) and the transaction can go on without it.
    pub(crate) fn step<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        self.conn()
            .prepare_cached(sql::SAVEPOINT_BEGIN)?
            .execute([])?;
        match f(self) {
            Ok(v) => {
                self.conn()
                    .prepare_cached(sql::SAVEPOINT_RELEASE)?
                    .execute([])?;
                Ok(v)
            }
            Err(e) => {
                self.conn()
                    .prepare_cached(sql::SAVEPOINT_ROLLBACK)?
                    .execute([])?;
                self.conn()
                    .prepare_cached(sql::SAVEPOINT_RELEASE)?
                    .execute([])?;
                Err(e)
            }
        }
    }
}

impl ReadTx<'_> {
    fn conn(&self) -> &Connection {
        self.conn
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_plan_is_made_again_under_the_lock_when_another_connection_committed_meanwhile() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("jobs.db");
        let store = Store::open(StoreOptions::file(&path)).expect("the store opens");
        let other = Connection::open(&path).expect("a second connection");
        let plans = Cell::new(0);
        let seen = store
            .write_planned(
                |tx| {
                    plans.set(plans.get() + 1);
                    if plans.get() == 1 {
                        // Another program commits while the first plan is made.
                        other
                            .execute_batch("INSERT INTO system_state VALUES ('planned', 'x', 0)")
                            .expect("the other connection writes");
                    }
                    tx.get_state("planned")
                },
                |_, seen| Ok(seen),
            )
            .expect("the write commits");
        assert_eq!(plans.get(), 2, "the stale plan was made again");
        assert_eq!(seen.as_deref(), Some("x"), "from the current state");
        // Nobody else writes: one plan.
        let again = Cell::new(0);
        store
            .write_planned(
                |_| {
                    again.set(again.get() + 1);
                    Ok(())
                },
                |_, ()| Ok(()),
            )
            .expect("the write commits");
        assert_eq!(again.get(), 1);
    }
}
