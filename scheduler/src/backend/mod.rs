//! The storage interface: everything the runtime asks of a database, as typed
//! operations inside transactions. The runtime (enqueue, claim, dispatch, completion,
//! schedules, heartbeat, maintenance, admin) holds an `Arc<dyn Backend>` and names no
//! database; the SQLite backend (`store/`) is one implementation, and a PostgreSQL
//! backend is another, not a rewrite.
//!
//! A transaction is a closure: [`Backend::read`] runs it on one consistent snapshot,
//! [`Backend::write`] in a write transaction that commits when it returns `Ok` and
//! leaves nothing behind when it fails. Inside, [`Reads`] and [`Writes`] are the
//! operations, grouped by the stage that uses them; each has typed inputs and results
//! from [`crate::model`] and [`types`], and its contract (what it refuses, what it
//! fences) is on the SQLite backend's method of the same name, which the behavioural
//! tests check for every backend.

#[macro_use]
pub(crate) mod forward;
pub(crate) mod migrations;
pub(crate) mod rules;
mod types;
pub(crate) mod values;

use std::{
    any::Any,
    fmt,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crossbeam_channel::Receiver;
use time::OffsetDateTime;

#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub use self::types::{Finished, JobTypeFilter, LeaseRescue, RescuedRun};
use crate::{
    clock::HostInstant,
    error::{Error, Result},
    model::{
        ArchiveMode, AttemptOutcome, AttemptTiming, CancelOutcome, ClaimedRun, DependencyEdge,
        DependencyLimits, Health, Inserted, LastHour, Lease, MigrationStatus, MigrationStep,
        MinuteThroughput, NewDependency, NewRun, NewTask, NewWorker, Run, RunFilter, RunId,
        RunStatus, StatusCounts, Task, TaskId, TaskStats, TaskUpdate, Worker, WorkerId,
    },
    retry::RetryPolicy,
};

/// A database the runtime can run on.
pub(crate) trait Backend: Send + Sync + fmt::Debug + 'static {
    /// Runs `f` in a read transaction: every read inside sees one snapshot.
    fn read_dyn(&self, f: &mut dyn FnMut(&dyn Reads) -> Result<()>) -> Result<()>;

    /// Runs `f` in a write transaction and commits when it returns `Ok`; on an error
    /// nothing it did remains. Waits for the write lock (this process's and others')
    /// until `deadline`, or until `cutoff` once another thread sets it.
    fn write_dyn(
        &self,
        deadline: Instant,
        cutoff: Option<&Arc<Cutoff>>,
        f: &mut dyn FnMut(&dyn Writes) -> Result<()>,
    ) -> Result<()>;

    /// Adds dependency edges between existing runs, checked (cycles, limits) before the
    /// write lock is taken, so the lock is held only to write them.
    fn add_dependencies(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize>;

    /// How long a write waits for the lock unless told otherwise.
    fn busy_timeout(&self) -> Duration;
    /// Where the database is, for people: a path, or a URL without its password.
    fn describe(&self) -> String;

    /// The schema version (0 before any migration).
    fn schema_version(&self) -> Result<u32>;
    /// The highest schema version this library knows for this backend.
    fn latest_schema_version(&self) -> u32;
    /// Every migration of this library and its state in the database.
    fn migrations(&self) -> Result<Vec<MigrationStatus>>;
    /// Applies migrations up to `to` (all by default); with `dry_run`, only plans.
    fn migrate_up(&self, to: Option<u32>, dry_run: bool) -> Result<Vec<MigrationStep>>;
    /// Reverts migrations down to `to`; with `dry_run`, only plans.
    fn migrate_down(&self, to: u32, dry_run: bool) -> Result<Vec<MigrationStep>>;

    /// Starts the backend's own threads for a running scheduler (SQLite: the
    /// checkpointer; PostgreSQL: the listener of other hosts' notifications, which
    /// calls `notify`), which end when `stop` is closed.
    fn spawn_background(&self, stop: &Receiver<()>, notify: &Notify)
    -> Result<Vec<JoinHandle<()>>>;

    /// A write failed because the disk is full: give space back as soon as possible.
    fn reclaim_space(&self);
}

impl dyn Backend {
    /// [`Backend::read_dyn`] with a result.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&dyn Reads) -> Result<T>) -> Result<T> {
        let mut f = Some(f);
        let mut out = None;
        self.read_dyn(&mut |tx| {
            if let Some(f) = f.take() {
                out = Some(f(tx)?);
            }
            Ok(())
        })?;
        out.ok_or_else(not_run)
    }

    /// [`Backend::write_dyn`] with a result, waiting for the lock as long as the busy
    /// timeout.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&dyn Writes) -> Result<T>) -> Result<T> {
        self.write_cut(Instant::now() + self.busy_timeout(), None, f)
    }

    /// [`Backend::write`], waiting for the lock only until `deadline`.
    pub(crate) fn write_until<T>(
        &self,
        deadline: Instant,
        f: impl FnOnce(&dyn Writes) -> Result<T>,
    ) -> Result<T> {
        self.write_cut(deadline, None, f)
    }

    /// [`Backend::write_until`], whose waits also end once `cutoff` has passed.
    pub(crate) fn write_cut<T>(
        &self,
        deadline: Instant,
        cutoff: Option<&Arc<Cutoff>>,
        f: impl FnOnce(&dyn Writes) -> Result<T>,
    ) -> Result<T> {
        let mut f = Some(f);
        let mut out = None;
        self.write_dyn(deadline, cutoff, &mut |tx| {
            if let Some(f) = f.take() {
                out = Some(f(tx)?);
            }
            Ok(())
        })?;
        out.ok_or_else(not_run)
    }
}

/// A backend that returned success without running the transaction's closure broke
/// its contract; said so rather than trusted.
fn not_run() -> Error {
    Error::invalid("transaction", "the backend committed without running it")
}

/// The reads of a transaction, by the stage that makes them.
pub(crate) trait Reads {
    // Runs (enqueue, control, admin).
    fn get_run(&self, id: RunId) -> Result<Run>;
    fn find_run(&self, id: RunId) -> Result<Option<Run>>;
    fn run_status(&self, id: RunId) -> Result<RunStatus>;
    fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>>;
    fn count_runs_by_status(&self) -> Result<StatusCounts>;
    /// Whether nothing is to be done at `now`: no run running, none due, no ending
    /// waiting to reach its dependents, no schedule due to create an occurrence.
    fn is_idle(&self, now: OffsetDateTime) -> Result<bool>;
    /// Unfinished runs by job type and status.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn count_unfinished_by_type(&self) -> Result<Vec<(String, RunStatus, u64)>>;

    // Claiming and leases.
    fn next_due_unpaused(
        &self,
        after: OffsetDateTime,
        queue: &str,
        job_types: &JobTypeFilter,
    ) -> Result<Option<OffsetDateTime>>;
    fn lease_of(&self, run: RunId) -> Result<Option<Lease>>;
    fn leases_of_worker(&self, worker: WorkerId) -> Result<Vec<Lease>>;
    fn cancel_requested_for_worker(&self, worker: WorkerId) -> Result<Vec<RunId>>;

    // Dependencies.
    fn upstream_of(&self, run: RunId) -> Result<Vec<DependencyEdge>>;
    fn downstream_of(&self, run: RunId) -> Result<Vec<DependencyEdge>>;
    fn dependency_graph(&self, run: RunId) -> Result<Vec<DependencyEdge>>;

    // Tasks and schedules.
    fn find_task(&self, id: TaskId) -> Result<Option<Task>>;
    fn find_task_by_name(&self, name: &str) -> Result<Option<Task>>;
    fn list_tasks(&self, include_deleted: bool) -> Result<Vec<Task>>;
    fn due_schedules(&self, until: OffsetDateTime, limit: usize) -> Result<Vec<Task>>;
    fn next_schedule_due(&self) -> Result<Option<OffsetDateTime>>;

    // Workers.
    fn find_worker(&self, id: WorkerId) -> Result<Option<Worker>>;
    fn list_workers(&self, include_offline: bool) -> Result<Vec<Worker>>;

    // Shared state: pause, registered job types, maintenance records, tokens.
    fn get_state(&self, key: &str) -> Result<Option<String>>;
    fn is_paused(&self) -> Result<bool>;
    /// Whether claiming is paused globally, and the paused queues (one read where the
    /// backend can: each is a round trip on PostgreSQL).
    fn claim_pauses(&self) -> Result<(bool, Vec<String>)>;
    /// Every queue with unfinished runs or a pause record, as seen at `now`.
    fn list_queues(&self, now: OffsetDateTime) -> Result<Vec<crate::model::QueueInfo>>;
    fn registered_job_types(&self) -> Result<Vec<String>>;
    fn is_token_revoked(&self, token_id: &str) -> Result<bool>;

    // Figures for operators.
    fn health(&self) -> Result<Health>;
    fn task_stats(&self) -> Result<Vec<TaskStats>>;
    fn last_hour(&self) -> Result<LastHour>;
    fn throughput_last_hour(&self) -> Result<Vec<MinuteThroughput>>;
}

/// The writes of a transaction (which reads too), by the stage that makes them.
pub(crate) trait Writes: Reads {
    /// Runs `f` in a savepoint: on its error, what it did is undone and the rest of
    /// the transaction goes on.
    fn step_dyn(&self, f: &mut dyn FnMut(&dyn Writes) -> Result<()>) -> Result<()>;

    // Enqueue and control.
    fn insert_run(&self, run: &NewRun, now: OffsetDateTime) -> Result<Inserted>;
    fn insert_runs(&self, runs: &[NewRun], now: OffsetDateTime) -> Result<Vec<Inserted>>;
    fn add_dependencies(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize>;
    fn add_dependencies_acyclic(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize>;
    fn cancel_run(&self, id: RunId, reason: &str, now: OffsetDateTime) -> Result<CancelOutcome>;
    fn retry_run(&self, id: RunId, now: OffsetDateTime) -> Result<()>;
    /// Gives run `id`, just inserted as a copy of `from` (another database's run), the
    /// attempts, errors and enqueue time of `from`; false when `id` has started here
    /// already (nothing changed).
    fn restore_history(&self, id: RunId, from: &Run) -> Result<bool>;

    // Claiming, leases and completion.
    fn claim_unpaused(
        &self,
        worker: WorkerId,
        queue: &str,
        limit: usize,
        now: (OffsetDateTime, HostInstant),
        lease_ttl: Duration,
        job_types: &JobTypeFilter,
    ) -> Result<Vec<ClaimedRun>>;
    fn renew_leases(
        &self,
        worker: WorkerId,
        attempts: &[(RunId, i64)],
        now: OffsetDateTime,
        host: HostInstant,
        lease_ttl: Duration,
    ) -> Result<Vec<(RunId, i64)>>;
    fn finish_attempt(
        &self,
        run: RunId,
        token: i64,
        outcome: &AttemptOutcome,
        timing: Option<AttemptTiming>,
        now: OffsetDateTime,
    ) -> Result<Finished>;
    /// Writes a bounded share of the queued consequences of endings (dependents to
    /// release or cancel); true while more wait.
    fn settle_queued(&self, now: OffsetDateTime) -> Result<bool>;

    // Tasks and schedules.
    fn create_task(&self, task: &NewTask, now: OffsetDateTime) -> Result<Task>;
    fn update_task(
        &self,
        id: TaskId,
        expected_version: i64,
        update: &TaskUpdate,
        now: OffsetDateTime,
    ) -> Result<Task>;
    fn delete_task(&self, id: TaskId, expected_version: i64, now: OffsetDateTime) -> Result<()>;
    fn insert_occurrence(
        &self,
        task: &Task,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<RunId>>;
    fn advance_schedule(
        &self,
        task: &Task,
        next: Option<OffsetDateTime>,
        last: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool>;

    // Workers and their heartbeat.
    fn register_worker(
        &self,
        worker: &NewWorker,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<WorkerId>;
    fn heartbeat_worker(
        &self,
        id: WorkerId,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<bool>;
    fn reactivate_worker(
        &self,
        id: WorkerId,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<bool>;
    fn set_worker_stopping(&self, id: WorkerId, now: OffsetDateTime) -> Result<()>;
    fn mark_worker_offline(&self, id: WorkerId, now: OffsetDateTime) -> Result<()>;

    // Shared state and leadership.
    fn set_state(&self, key: &str, value: &str, now: OffsetDateTime) -> Result<()>;
    fn set_paused(&self, paused: bool, now: OffsetDateTime) -> Result<()>;
    /// Pauses or resumes one queue for every process; true when its state changed.
    fn set_queue_paused(&self, queue: &str, paused: bool, now: OffsetDateTime) -> Result<bool>;
    fn record_job_types(&self, names: &[String], now: OffsetDateTime) -> Result<()>;
    fn try_lead(
        &self,
        key: &str,
        worker: WorkerId,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<bool>;
    fn release_lead(&self, key: &str, worker: WorkerId, now: OffsetDateTime) -> Result<()>;
    fn revoke_token(
        &self,
        token_id: &str,
        expires_at: OffsetDateTime,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()>;

    // Maintenance, one bounded batch per call.
    fn rescue_expired_leases(
        &self,
        now: OffsetDateTime,
        host: HostInstant,
        batch: usize,
        policy: &dyn RetryPolicy,
    ) -> Result<LeaseRescue>;
    fn mark_stale_workers_offline(
        &self,
        now: OffsetDateTime,
        host: HostInstant,
        batch: usize,
    ) -> Result<Vec<WorkerId>>;
    fn purge_expired_tokens(&self, before: OffsetDateTime, batch: usize) -> Result<usize>;
    fn remove_finished_runs(
        &self,
        status: RunStatus,
        finished_before: OffsetDateTime,
        batch: usize,
        mode: ArchiveMode,
        now: OffsetDateTime,
    ) -> Result<usize>;

    /// The backend's own handle on this transaction, for the backends' host-transaction
    /// integration (`runloom::sqlite`, `runloom::postgres`), the only code that may
    /// look through the interface.
    fn native(&self) -> Native<'_>;
}

/// What a write transaction is underneath, for the host-transaction integration of
/// its backend.
pub(crate) enum Native<'t> {
    /// SQLite: the `rusqlite::Connection` the transaction is open on (the interface
    /// names no SQLite type, so it is handed over as `Any`).
    Sqlite(&'t dyn Any),
    /// PostgreSQL: the transaction itself, lent to a closure.
    #[cfg(feature = "postgres")]
    Postgres(&'t dyn PgNative),
}

/// A PostgreSQL write transaction lends its `postgres::Transaction` (which borrows its
/// connection, so it cannot be handed over as `Any`) to a closure.
#[cfg(feature = "postgres")]
pub(crate) trait PgNative {
    /// Runs `f` on the transaction.
    fn with_transaction(&self, f: &mut dyn FnMut(&mut postgres::Transaction<'_>));
}

impl dyn Writes + '_ {
    /// [`Writes::step_dyn`] with a result.
    pub(crate) fn step<T>(&self, f: impl FnOnce(&dyn Writes) -> Result<T>) -> Result<T> {
        let mut f = Some(f);
        let mut out = None;
        self.step_dyn(&mut |tx| {
            if let Some(f) = f.take() {
                out = Some(f(tx)?);
            }
            Ok(())
        })?;
        out.ok_or_else(not_run)
    }
}

/// What another host (or program) wrote that this host's dispatcher should look at.
// Only a backend that hears of other hosts' writes (PostgreSQL) sends them.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    /// Runs may be due: inserted, or put back to pending.
    Work,
    /// A schedule was created or changed.
    Schedules,
    /// Claiming was resumed.
    Resumed,
}

/// How a backend passes [`Notice`]s on to the dispatcher.
pub(crate) type Notify = Arc<dyn Fn(Notice) + Send + Sync>;

/// A deadline another thread can bring forward while a wait is under way: a shutdown
/// cuts the dispatcher's wait for the lock short.
#[derive(Debug, Default)]
pub(crate) struct Cutoff {
    /// Milliseconds after [`base`] plus one; 0 while unset.
    at: AtomicU64,
}

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

impl Cutoff {
    /// From now on, waits under this cutoff end at `at` at the latest.
    pub(crate) fn set(&self, at: Instant) {
        let ms =
            u64::try_from(at.saturating_duration_since(base()).as_millis()).unwrap_or(u64::MAX);
        self.at.store(ms.saturating_add(1), Ordering::Release);
    }

    /// The deadline, once set.
    pub(crate) fn get(&self) -> Option<Instant> {
        match self.at.load(Ordering::Acquire) {
            0 => None,
            ms => Some(base() + Duration::from_millis(ms - 1)),
        }
    }
}
