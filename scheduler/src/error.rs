//! The error type of every fallible operation of the crate.

use std::{fmt, io, path::PathBuf};

use crate::model::{RunId, RunStatus, ShutdownReport, TaskId, UnknownValue, ValueError};

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the scheduler, each case named so callers can match on
/// it. Every refusal (bad input, a database the binary will not touch, a lost lease)
/// changes nothing in the database.
///
/// Use the classifiers ([`Error::is_busy`], [`Error::is_lease_lost`],
/// [`Error::is_not_found`]) instead of matching on database error codes.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A failure the database reported that no more specific variant describes: its
    /// kind ([`DatabaseError::kind`]) and, as the source, the database's own error.
    Database(DatabaseError),
    /// A file system operation on the database path failed.
    Io {
        /// The path the operation was about.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The SQLite library linked into the binary is older than the oldest version the
    /// scheduler accepts (WAL mode before 3.51.3 can corrupt a database with several
    /// writers).
    SqliteTooOld {
        /// The version that was found, e.g. `3.45.1`.
        found: String,
        /// The oldest accepted version.
        required: &'static str,
    },
    /// The database file does not exist and creating it was not allowed.
    DatabaseMissing(PathBuf),
    /// The file exists but is not a SQLite database (or its header is damaged).
    NotADatabase(PathBuf),
    /// The file is empty: no scheduler schema yet. Only a handle asked to create a
    /// database ([`crate::AdminBuilder::create`], a scheduler) makes one of it.
    EmptyDatabase(PathBuf),
    /// The file is a SQLite database whose content is damaged.
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite or the check reported.
        detail: String,
    },
    /// The database can only be opened read-only (file permissions or a read-only mount).
    ReadOnly(PathBuf),
    /// The database already holds an object of the scheduler's name (`object`, e.g. a
    /// table `tasks`) but no record of the scheduler's migrations: it is the
    /// application's own, or a schema a human half removed. Nothing is written. (Objects
    /// of any other name are the application's, and the scheduler's tables go beside
    /// them.)
    NameClash {
        /// The clashing object's name.
        object: String,
    },
    /// The database was migrated by a newer binary than this one.
    SchemaTooNew {
        /// The highest migration version recorded in the database.
        database: u32,
        /// The highest migration version this binary knows.
        binary: u32,
    },
    /// The database's schema is older than this library's: it needs migrations first
    /// (`runloom migrate up`, or [`crate::Admin::migrate_up`]).
    SchemaBehind {
        /// The highest migration version recorded in the database.
        database: u32,
        /// The highest migration version this library knows.
        binary: u32,
    },
    /// An applied migration's file differs from the one embedded in this binary.
    ChecksumMismatch {
        /// The migration's version.
        version: u32,
        /// The migration's name.
        name: String,
        /// The checksum of the migration embedded in this binary.
        expected: String,
        /// The checksum recorded when the migration was applied.
        found: String,
    },
    /// The database records migrations that do not form a prefix of this binary's list
    /// (a version is missing in between, or unknown).
    MigrationHistory {
        /// The first version that does not fit.
        version: u32,
        /// What is wrong with it.
        detail: String,
    },
    /// A migration failed; its transaction was rolled back and earlier ones were kept.
    MigrationFailed {
        /// The migration's version.
        version: u32,
        /// The migration's name.
        name: String,
        /// What the database reported.
        source: DatabaseError,
    },
    /// A migration target version that the binary does not know, or that points the
    /// wrong way for the command.
    InvalidMigrationTarget {
        /// The requested version.
        target: u32,
        /// Why it was refused.
        reason: String,
    },
    /// A migration list that cannot be applied in order (duplicate or unsorted versions).
    InvalidMigrations(String),
    /// An argument was outside its allowed range or otherwise malformed. Nothing was
    /// written.
    InvalidArgument {
        /// The name of the argument, e.g. `priority`.
        name: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// No run has this id.
    RunNotFound(RunId),
    /// No live task has this id.
    TaskNotFound(TaskId),
    /// No live task has this name.
    TaskNameNotFound(String),
    /// A live task with this name exists already.
    TaskNameTaken(String),
    /// An update carried a stale `version` of a task (optimistic locking): someone else
    /// changed it first. Nothing was written.
    VersionConflict {
        /// The task.
        task: TaskId,
        /// The version the caller based its update on.
        expected: i64,
        /// The version in the database.
        found: i64,
    },
    /// The operation is not allowed in the run's current status, e.g. retrying a run that
    /// is still pending.
    InvalidRunState {
        /// The run.
        run: RunId,
        /// Its status when the operation was attempted.
        status: RunStatus,
        /// The operation, e.g. `retry`.
        operation: &'static str,
    },
    /// Another unfinished run holds this unique key.
    UniqueKeyTaken {
        /// The key.
        key: String,
        /// The unfinished run that holds it.
        holder: RunId,
    },
    /// The writer's lease on the run was lost (it expired and the run was rescued or taken
    /// by another worker). Its write was refused so it cannot overwrite the current
    /// holder's work.
    LeaseLost {
        /// The run.
        run: RunId,
        /// The fencing token of the lost lease.
        token: i64,
    },
    /// A dependency edge from a run to itself.
    SelfDependency(RunId),
    /// A dependency edge that would close a cycle.
    DependencyCycle {
        /// The run that would wait.
        downstream: RunId,
        /// The run it would wait for, which already (transitively) waits for it.
        upstream: RunId,
    },
    /// A dependency edge names a run that does not exist.
    UnknownDependency(RunId),
    /// A run cannot be retried while one of its upstream runs stays failed or cancelled
    /// and the edge between them cancels it on failure: retry the upstream first.
    UpstreamNotRetried {
        /// The run that was to be retried.
        run: RunId,
        /// The upstream run that bars it.
        upstream: RunId,
        /// The upstream's status.
        status: RunStatus,
    },
    /// A dependency edge on a run that can no longer wait (it started or finished).
    DependencyNotAllowed {
        /// The run that would wait.
        downstream: RunId,
        /// Its status.
        status: RunStatus,
    },
    /// A dependency graph over a configured limit.
    DependencyLimit {
        /// Which limit, e.g. `fan_in`.
        limit: &'static str,
        /// The configured maximum.
        max: usize,
        /// The size that was asked for.
        actual: usize,
    },
    /// The job type is not registered with this scheduler (and foreign job types are not
    /// allowed). Nothing was enqueued.
    UnknownJobType(String),
    /// The same job type name was registered twice.
    DuplicateJobType(String),
    /// A registered job type declares application state
    /// ([`crate::Job::required_state`]) the builder was not given
    /// ([`crate::SchedulerBuilder::state`]). Nothing was started.
    MissingState {
        /// The job type declaring it.
        job_type: String,
        /// The state's type name.
        state: &'static str,
    },
    /// A payload that does not serialize, or a JSON payload that does not decode into
    /// the job type. Nothing was enqueued.
    Payload {
        /// The job type.
        job_type: String,
        /// What serde reported.
        detail: String,
    },
    /// A payload larger than the configured limit. Nothing was enqueued.
    PayloadTooLarge {
        /// The job type.
        job_type: String,
        /// The payload's size in bytes (serialized JSON).
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A batch's dependency edges are wrong: a job depends on itself or on a job of
    /// another batch, or the edges among its jobs form a cycle. Nothing was enqueued.
    InvalidBatch {
        /// The position in the batch of the job at fault.
        position: usize,
        /// What is wrong.
        reason: String,
    },
    /// A cron expression that does not parse: the expression and the parser's message.
    InvalidCron {
        /// The expression as given.
        expr: String,
        /// What the cron parser reported.
        message: String,
    },
    /// A time zone name that is not in the IANA database.
    UnknownTimeZone(String),
    /// The scheduler was shut down; it accepts no more work.
    ShutDown,
    /// A shutdown ended at its deadline without finishing everything: what it did is in
    /// the report (outcomes it could not write are in `unwritten`; their runs are safe,
    /// their leases run out and other workers take them back).
    ShutdownIncomplete {
        /// What the shutdown did.
        report: Box<ShutdownReport>,
        /// What it could not do.
        reason: String,
    },
    /// A scheduler thread could not be started.
    Thread(std::io::Error),
    /// A copy to another database ([`Admin::copy_into`](crate::Admin::copy_into)) was
    /// refused because scheduler instances are live on the source: each has kept the
    /// heartbeat it promised, so its runs may be running. Stop them (a killed one counts
    /// as live until its own `stale_after` has passed since its last heartbeat).
    HostsLive {
        /// Each live instance: its name, host, pid and how long it may still be live.
        instances: Vec<String>,
    },
    /// The source database was copied to another one before and paused then: copying
    /// it again would run its runs twice. Resume it by hand (`runloom resume`) only if
    /// that copy was abandoned.
    AlreadyCopied {
        /// Where it went (a URL without its password, or a path) and when.
        to: String,
    },
    /// A completed run's result does not decode into the type asked for
    /// ([`crate::Run::result`]).
    ResultType {
        /// The run.
        run: RunId,
        /// What serde reported.
        detail: String,
    },
    /// A wait ended at its timeout ([`crate::Admin::wait`], [`crate::Admin::wait_all`],
    /// [`crate::Admin::wait_idle`]). Nothing was changed: the runs go on.
    WaitTimeout {
        /// How long it waited.
        waited: std::time::Duration,
        /// The runs still unfinished (empty for [`crate::Admin::wait_idle`]).
        unfinished: Vec<RunId>,
    },
    /// A JSON value stored in the database could not be read back.
    CorruptValue {
        /// Where the value was, e.g. `task_runs.errors`.
        column: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl Error {
    /// True when SQLite reported the database as busy or locked: another connection held
    /// the write lock for longer than the busy timeout. Retrying later may succeed.
    #[must_use]
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Database(e) | Error::MigrationFailed { source: e, .. } => {
                e.kind() == DatabaseErrorKind::Busy
            }
            _ => false,
        }
    }

    /// True when the disk (or the database's configured maximum size) is full.
    #[must_use]
    pub fn is_disk_full(&self) -> bool {
        match self {
            Error::Database(e) | Error::MigrationFailed { source: e, .. } => {
                e.kind() == DatabaseErrorKind::DiskFull
            }
            _ => false,
        }
    }

    /// True when SQLite found the database file damaged (or not a database) while
    /// reading it, at open or later.
    #[must_use]
    pub fn is_corrupt(&self) -> bool {
        match self {
            Error::Corrupt { .. } | Error::NotADatabase(_) => true,
            Error::Database(e) | Error::MigrationFailed { source: e, .. } => {
                e.kind() == DatabaseErrorKind::Corrupt
            }
            _ => false,
        }
    }

    /// True when the database (or the file system under it) failed, rather than the
    /// operation being refused: busy, full, damaged, unavailable.
    #[must_use]
    pub fn is_database(&self) -> bool {
        matches!(
            self,
            Error::Database(_) | Error::Io { .. } | Error::Corrupt { .. }
        )
    }

    /// True when a write was refused because the writer no longer holds the run's lease.
    #[must_use]
    pub fn is_lease_lost(&self) -> bool {
        matches!(self, Error::LeaseLost { .. })
    }

    /// True when the run, task or name the operation named does not exist.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Error::RunNotFound(_) | Error::TaskNotFound(_) | Error::TaskNameNotFound(_)
        )
    }

    pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name,
            reason: reason.into(),
        }
    }
}

impl Error {
    /// The message with every cause after it (`database error: database is locked`), for
    /// a log line or a one-line report. [`Display`](fmt::Display) gives the message
    /// alone and [`source`](std::error::Error::source) the cause, so that reporters
    /// which walk the chain (anyhow's `{:#}`, eyre) do not print a cause twice.
    ///
    /// ```
    /// let e = runloom::Error::DatabaseMissing("jobs.db".into());
    /// assert_eq!(e.report().to_string(), "jobs.db: no such database file");
    /// ```
    #[must_use]
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }
}

/// [`Error::report`]: an error followed by each of its causes, joined by `": "`.
#[derive(Debug)]
pub struct Report<'a>(&'a Error);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last = self.0.to_string();
        f.write_str(&last)?;
        let mut cause = std::error::Error::source(self.0);
        while let Some(c) = cause {
            // Some causes repeat their own source's text (the SQLite driver's do): print it once.
            let text = c.to_string();
            if !last.contains(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            cause = c.source();
        }
        Ok(())
    }
}

impl From<ValueError> for Error {
    fn from(e: ValueError) -> Self {
        match e {
            ValueError::Invalid { name, reason } => Error::InvalidArgument { name, reason },
            ValueError::Corrupt { column, detail } => Error::CorruptValue { column, detail },
            ValueError::NotCompleted { run, status } => Error::InvalidRunState {
                run,
                status,
                operation: "read the result of",
            },
            ValueError::ResultType { run, detail } => Error::ResultType { run, detail },
        }
    }
}

impl From<UnknownValue> for Error {
    fn from(e: UnknownValue) -> Self {
        Error::invalid(e.what, e.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Database(e) => write!(f, "{e}"),
            Error::Io { path, .. } => write!(f, "I/O error on {}", path.display()),
            Error::SqliteTooOld { found, required } => write!(
                f,
                "SQLite {found} is too old: {required} or newer is required \
                 (older WAL mode can corrupt a database with several writers)"
            ),
            Error::DatabaseMissing(p) => write!(f, "{}: no such database file", p.display()),
            Error::NotADatabase(p) => write!(f, "{}: file is not a SQLite database", p.display()),
            Error::EmptyDatabase(p) => write!(
                f,
                "{}: file is empty, not a scheduler database (migrate it up to create the schema)",
                p.display()
            ),
            Error::Corrupt { path, detail } => {
                write!(f, "{}: database is damaged: {detail}", path.display())
            }
            Error::ReadOnly(p) => write!(
                f,
                "{}: database can only be opened read-only (check the file's permissions)",
                p.display()
            ),
            Error::NameClash { object } => write!(
                f,
                "the database already holds {object:?}, a name of the scheduler's, but no \
                 record of its migrations; refusing to touch it"
            ),
            Error::SchemaTooNew { database, binary } => write!(
                f,
                "database schema version {database} is newer than this binary's {binary}; \
                 upgrade the binary"
            ),
            Error::SchemaBehind { database, binary } => write!(
                f,
                "database schema is at version {database} but this library needs {binary}: \
                 migrate it up first"
            ),
            Error::ChecksumMismatch {
                version,
                name,
                expected,
                found,
            } => write!(
                f,
                "migration {version:04} {name} was applied with checksum {found} but this \
                 binary's file has {expected}: an applied migration must never change"
            ),
            Error::MigrationHistory { version, detail } => {
                write!(
                    f,
                    "migration history of the database is inconsistent at {version:04}: {detail}"
                )
            }
            Error::MigrationFailed { version, name, .. } => {
                write!(
                    f,
                    "migration {version:04} {name} failed and was rolled back"
                )
            }
            Error::InvalidMigrationTarget { target, reason } => {
                write!(f, "invalid migration target {target}: {reason}")
            }
            Error::InvalidMigrations(m) => write!(f, "invalid migration list: {m}"),
            Error::InvalidArgument { name, reason } => write!(f, "invalid {name}: {reason}"),
            Error::RunNotFound(id) => write!(f, "run {id} not found"),
            Error::TaskNotFound(id) => write!(f, "task {id} not found"),
            Error::TaskNameNotFound(n) => write!(f, "task {n:?} not found"),
            Error::TaskNameTaken(n) => write!(f, "a task named {n:?} exists already"),
            Error::VersionConflict {
                task,
                expected,
                found,
            } => write!(
                f,
                "task {task} was changed concurrently: update based on version {expected}, \
                 database has version {found}"
            ),
            Error::InvalidRunState {
                run,
                status,
                operation,
            } => write!(f, "cannot {operation} run {run}: it is {status}"),
            Error::UniqueKeyTaken { key, holder } => {
                write!(f, "unique key {key:?} is held by unfinished run {holder}")
            }
            Error::LeaseLost { run, token } => write!(
                f,
                "lease {token} on run {run} was lost (expired and rescued or taken over); \
                 the write was refused"
            ),
            Error::SelfDependency(id) => write!(f, "run {id} cannot depend on itself"),
            Error::DependencyCycle {
                downstream,
                upstream,
            } => write!(
                f,
                "run {downstream} cannot wait for run {upstream}: {upstream} already waits \
                 for {downstream} (cycle)"
            ),
            Error::UnknownDependency(id) => write!(f, "dependency on unknown run {id}"),
            Error::UpstreamNotRetried {
                run,
                upstream,
                status,
            } => write!(
                f,
                "cannot retry run {run}: its upstream run {upstream} is {status}, which cancels \
                 it; retry run {upstream} first (run {run} then waits for it)"
            ),
            Error::DependencyNotAllowed { downstream, status } => write!(
                f,
                "run {downstream} is {status} and can no longer wait for another run"
            ),
            Error::DependencyLimit { limit, max, actual } => {
                write!(
                    f,
                    "dependency {limit} of {actual} exceeds the limit of {max}"
                )
            }
            Error::UnknownJobType(t) => write!(
                f,
                "unknown job type {t:?}: register it with the scheduler (or allow foreign job types)"
            ),
            Error::DuplicateJobType(t) => write!(f, "job type {t:?} is registered twice"),
            Error::MissingState { job_type, state } => write!(
                f,
                "job type {job_type:?} reads application state of type {state}, but the \
                 scheduler was given none (add it with SchedulerBuilder::state)"
            ),
            Error::Payload { job_type, detail } => {
                write!(f, "payload of job type {job_type:?} is invalid: {detail}")
            }
            Error::PayloadTooLarge {
                job_type,
                size,
                limit,
            } => write!(
                f,
                "payload of job type {job_type:?} is {size} bytes, over the limit of {limit}"
            ),
            Error::InvalidBatch { position, reason } => {
                write!(f, "invalid batch at job {position}: {reason}")
            }
            Error::InvalidCron { expr, message } => {
                write!(f, "invalid cron expression {expr:?}: {message}")
            }
            Error::UnknownTimeZone(z) => write!(f, "unknown time zone {z:?}"),
            Error::ShutDown => write!(f, "the scheduler was shut down"),
            Error::ShutdownIncomplete { reason, .. } => {
                write!(f, "the shutdown did not finish everything: {reason}")
            }
            Error::Thread(_) => f.write_str("could not start a scheduler thread"),
            Error::ResultType { run, detail } => write!(
                f,
                "the result of run {run} does not decode into the type asked for: {detail}"
            ),
            Error::WaitTimeout { waited, unfinished } => match unfinished.as_slice() {
                [] => write!(f, "waited {waited:?}: the queue is still busy"),
                [one] => write!(f, "waited {waited:?}: run {one} is still unfinished"),
                [first, ..] => write!(
                    f,
                    "waited {waited:?}: {} runs are still unfinished (run {first} first)",
                    unfinished.len()
                ),
            },
            Error::CorruptValue { column, detail } => {
                write!(f, "unreadable value in {column}: {detail}")
            }
            Error::HostsLive { instances } => write!(
                f,
                "scheduler instances are live on the source database, refusing to copy \
                 it: {}; stop them first",
                instances.join("; ")
            ),
            Error::AlreadyCopied { to } => write!(
                f,
                "the source database was already copied to {to} (and paused); refusing \
                 to copy it again, which would run its runs twice"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Database(e) | Error::MigrationFailed { source: e, .. } => Some(e.cause()),
            Error::Io { source, .. } | Error::Thread(source) => Some(source),
            _ => None,
        }
    }
}

/// What kind of failure a database reported, whatever the database: what callers
/// decide on (wait and retry, free space, give up on this data), never its codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DatabaseErrorKind {
    /// Another connection held a lock for longer than the wait allowed.
    Busy,
    /// The disk, or the database's size limit, is full.
    DiskFull,
    /// The file is damaged, or is not a database.
    Corrupt,
    /// The database refused this data for good (a constraint, a value too big or of
    /// the wrong type, one that cannot be encoded): trying again cannot help.
    Refused,
    /// No connection could be had in time.
    Unavailable,
    /// Anything else: I/O, a read-only file, misuse.
    Other,
}

/// A failure the database reported: its [kind](DatabaseErrorKind), and the database's
/// own error, which [`Error::source`](std::error::Error::source) returns.
#[derive(Debug)]
pub struct DatabaseError {
    kind: DatabaseErrorKind,
    cause: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl DatabaseError {
    /// A failure of `kind`, caused by the database's own error `cause`.
    pub(crate) fn new(
        kind: DatabaseErrorKind,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        DatabaseError {
            kind,
            cause: cause.into(),
        }
    }

    /// What kind of failure it is.
    #[must_use]
    pub fn kind(&self) -> DatabaseErrorKind {
        self.kind
    }

    /// The database's own error.
    pub(crate) fn cause(&self) -> &(dyn std::error::Error + 'static) {
        self.cause.as_ref()
    }

    /// The database's own error as the backend's type, for the backend's own checks.
    pub(crate) fn cause_as<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.cause.downcast_ref::<T>()
    }
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            DatabaseErrorKind::Busy => "database busy",
            DatabaseErrorKind::DiskFull => "database disk full",
            DatabaseErrorKind::Corrupt => "database damaged",
            DatabaseErrorKind::Refused => "refused by the database",
            DatabaseErrorKind::Unavailable => "no database connection available",
            DatabaseErrorKind::Other => "database error",
        })
    }
}
