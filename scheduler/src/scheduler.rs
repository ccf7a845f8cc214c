//! The [`Scheduler`] handle: starting the threads, enqueueing, control, statistics, and
//! shutdown in flow order.

use std::{
    fmt,
    sync::Arc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use time::OffsetDateTime;

use crate::{
    admin::Admin,
    backend::{Backend, Cutoff, JobTypeFilter},
    claim::Claimer,
    clock::{Clock, HostInstant},
    config::{Config, SchedulerBuilder},
    dispatch::{
        Channels, Control, Dispatcher,
        inflight::InFlight,
        wake::{self, Wake, Waker},
    },
    enqueue::{Batch, BatchEdge, EnqueueOptions, Enqueuer},
    error::{Error, Result},
    events::{Event, Events},
    job::{Job, registry::Registry},
    maintenance::{MaintenanceReport, Service},
    metrics::{SchedulerStats, Stats},
    model::{
        CancelOutcome, DependencyEdge, DependencyLimits, Inserted, NewDependency, NewRun,
        NewWorker, Promise, Run, RunFilter, RunId, ShutdownReport, Task, WorkerId,
    },
    schedule::{self, ScheduleSpec},
    store::Store,
};

/// Everything the scheduler's threads share.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Backend>,
    pub(crate) config: Config,
    pub(crate) registry: Registry,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) worker_id: WorkerId,
    pub(crate) database_id: String,
    pub(crate) inflight: InFlight,
    pub(crate) events: Events,
    pub(crate) stats: Stats,
    /// Brought forward by a shutdown: the dispatcher's waits for the lock end then.
    pub(crate) dispatch_cutoff: Arc<Cutoff>,
    waker: Waker,
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

/// How much longer than its grace period [`Scheduler::shutdown`] may take: the time to
/// hand back what is still running, to let threads return, and to mark the instance
/// offline, whatever the database does meanwhile (locked by another process, full,
/// failing).
pub const SHUTDOWN_OVERRUN: Duration = Duration::from_secs(2);

struct Threads {
    dispatcher: JoinHandle<()>,
    workers: Vec<JoinHandle<()>>,
    background: Vec<JoinHandle<()>>,
    stop_background: Sender<()>,
    control: Sender<Control>,
}

/// Where the handle is in its life; [`Scheduler::shutdown`] moves it on.
enum Lifecycle {
    Running(Threads),
    /// A shutdown is under way and ends by `deadline`.
    Stopping {
        deadline: Instant,
    },
    Stopped(Stopped),
}

/// How a shutdown ended: every later call gets the same answer.
#[derive(Clone)]
struct Stopped {
    report: ShutdownReport,
    /// Why it is incomplete, if it is.
    problem: Option<String>,
}

impl Stopped {
    fn result(&self) -> Result<ShutdownReport> {
        match &self.problem {
            None => Ok(self.report.clone()),
            Some(reason) => Err(Error::ShutdownIncomplete {
                report: Box::new(self.report.clone()),
                reason: reason.clone(),
            }),
        }
    }
}

/// A running scheduler: enqueue work, control runs, read figures, shut down.
///
/// Cheap to share: wrap it in an `Arc` to use it from several threads (every method
/// takes `&self`). Dropping it shuts it down with the configured grace period.
pub struct Scheduler {
    shared: Arc<Shared>,
    admin: Admin,
    /// The SQLite store behind the interface, for the `internals` feature's tests.
    #[cfg(feature = "internals")]
    sqlite: Store,
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

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map_err(Error::Thread)
}

impl Scheduler {
    /// A builder with every default; see [`SchedulerBuilder`].
    #[must_use]
    pub fn builder() -> SchedulerBuilder {
        SchedulerBuilder::new()
    }

    pub(crate) fn start(
        config: Config,
        registry: Registry,
        clock: Arc<dyn Clock>,
        events: Events,
    ) -> Result<Scheduler> {
        let sqlite = Store::open(config.store.clone())?;
        let store: Arc<dyn Backend> = Arc::new(sqlite.clone());
        let database_id = store
            .read(|tx| tx.get_state("database_id"))?
            .unwrap_or_default();
        let host = host_name();
        let name = config
            .name
            .clone()
            .unwrap_or_else(|| format!("{host}:{}", std::process::id()));
        let threads = u32::try_from(config.worker_threads).unwrap_or(u32::MAX);
        let job_types = registry.names();
        let promise = Promise {
            heartbeat_interval: config.heartbeat_interval,
            lease_duration: config.lease_duration,
            stale_after: config.maintenance.stale_worker_after,
        };
        let registering = Instant::now();
        let worker_id = store.write(|tx| {
            let new = NewWorker::new(name, host, threads).promise(promise);
            let id = tx.register_worker(&new, clock.now(), HostInstant::now())?;
            // Tools (the CLI's enqueue) accept the job types some host registers.
            tx.record_job_types(&job_types, clock.now())?;
            // The views use the threshold this instance's maintenance uses.
            let stale_ms = config
                .maintenance
                .stale_worker_after
                .as_millis()
                .to_string();
            tx.set_state("maintenance.stale_worker_after_ms", &stale_ms, clock.now())?;
            Ok(id)
        })?;

        // A new dispatcher looks at the schedules at once.
        let (waker, wakeups) = wake::channel(&[Wake::Schedules]);
        let (to_workers, queue) = crossbeam_channel::bounded(config.max_in_flight);
        let (done_tx, done_rx) = crossbeam_channel::bounded(config.max_in_flight);
        let (control_tx, control_rx) = crossbeam_channel::bounded(1);
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let claimer = Claimer {
            worker: worker_id,
            lease: config.lease_duration,
            job_types: JobTypeFilter::only(registry.names()),
        };
        let inflight = InFlight::new(registering + config.maintenance.stale_worker_after);
        let shared = Arc::new(Shared {
            store,
            config,
            registry,
            clock,
            worker_id,
            database_id,
            inflight,
            events,
            stats: Stats::new(),
            dispatch_cutoff: Arc::default(),
            waker,
        });

        let workers =
            crate::worker::spawn(shared.config.worker_threads, &shared, &queue, &done_tx)?;
        drop(done_tx);
        let dispatcher = Dispatcher::new(
            shared.clone(),
            claimer,
            Channels {
                to_workers,
                queue,
                completions: done_rx,
                wake: wakeups,
                control: control_rx,
            },
        );
        let dispatcher = spawn("runloom-dispatcher", move || dispatcher.run())?;
        let mut background = Vec::new();
        {
            let (shared, stop) = (shared.clone(), stop_rx.clone());
            background.push(spawn("runloom-heartbeat", move || {
                crate::heartbeat::run(&shared, &stop);
            })?);
        }
        background.extend(shared.store.spawn_background(&stop_rx)?);
        if shared.config.maintenance.enabled {
            let (shared, stop) = (shared.clone(), stop_rx);
            background.push(spawn("runloom-maintenance", move || {
                crate::maintenance::run(&shared, &stop);
            })?);
        }
        shared
            .events
            .emit(Event::SchedulerStarted { worker: worker_id });
        log::info!(
            "scheduler {worker_id} started with {} worker thread(s)",
            shared.config.worker_threads
        );
        let admin = Admin::of(
            shared.store.clone(),
            shared.clock.clone(),
            shared.config.retry_policy.clone(),
            shared.config.maintenance.clone(),
        );
        #[cfg(not(feature = "internals"))]
        drop(sqlite);
        Ok(Scheduler {
            shared,
            admin,
            #[cfg(feature = "internals")]
            sqlite,
            lifecycle: Mutex::new(Lifecycle::Running(Threads {
                dispatcher,
                workers,
                background,
                stop_background: stop_tx,
                control: control_tx,
            })),
            stopped: parking_lot::Condvar::new(),
        })
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

    /// This instance's id in the `workers` table (the owner named in its leases).
    #[must_use]
    pub fn worker_id(&self) -> WorkerId {
        self.shared.worker_id
    }

    /// The storage layer (feature `internals`: this workspace's tests and benches).
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.sqlite
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
    #[must_use]
    pub fn job_types(&self) -> Vec<String> {
        self.shared.registry.names()
    }

    /// Enqueues a job, due now, with its type's default options.
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
    #[must_use]
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            scheduler: self,
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
        crate::enqueue::submit(&self.shared, runs, edges)
    }

    /// Creates the schedule `name`, or updates it if it exists: `job` (its type and
    /// payload) runs on `spec`. Calling it again with the same definition (at every
    /// start of the host, say) changes nothing; a changed definition is written with
    /// optimistic locking, and its next occurrence is recomputed only if the timing
    /// changed. The schedule lives in the database: every process sharing the file
    /// continues it, and each occurrence runs once.
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

    /// Every live schedule.
    ///
    /// # Errors
    /// Database errors.
    pub fn schedules(&self) -> Result<Vec<Task>> {
        self.admin.schedules()
    }

    /// The next `n` times the schedule `name` fires.
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
                self.shared.events.emit(Event::Cancelled {
                    run,
                    reason: "cancelled by request".to_owned(),
                });
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
    /// # Errors
    /// Database errors.
    pub fn pause(&self) -> Result<()> {
        self.admin.pause().map(drop)
    }

    /// Resumes claiming in every process sharing the database.
    ///
    /// # Errors
    /// Database errors.
    pub fn resume(&self) -> Result<()> {
        self.admin.resume()?;
        self.shared.wake(Wake::Resumed);
        Ok(())
    }

    /// Whether claiming is paused.
    ///
    /// # Errors
    /// Database errors.
    pub fn is_paused(&self) -> Result<bool> {
        self.admin.is_paused()
    }

    /// A run by id.
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; database errors.
    pub fn run(&self, id: RunId) -> Result<Run> {
        self.admin.run(id)
    }

    /// Runs matching a filter, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        self.admin.runs(filter)
    }

    /// Revokes a token id until its expiry (for hosts that authenticate submissions).
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
    /// # Errors
    /// [`Error::InvalidArgument`]; database errors.
    pub fn is_token_revoked(&self, token_id: &str) -> Result<bool> {
        self.shared.store.read(|tx| tx.is_token_revoked(token_id))
    }

    /// A channel of lifecycle events from now on. Bounded by `capacity`: when the
    /// reader falls behind, events are dropped for it (counted in
    /// [`SchedulerStats::events_dropped`]) rather than slowing the scheduler.
    #[must_use]
    pub fn subscribe(&self, capacity: usize) -> Receiver<Event> {
        self.shared.events.subscribe(capacity)
    }

    /// Runs maintenance now, whether or not this instance leads it: one pass of
    /// `only` the given service, or of every service. Each pass is recorded in
    /// `system_state` like the thread's.
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
    /// # Errors
    /// Database errors.
    pub fn maintenance_history(&self) -> Result<Vec<(Service, String)>> {
        self.admin.maintenance_history()
    }

    /// The scheduler's figures now.
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
            cancelled: s.cancelled.get(),
            lease_lost: s.lease_lost.get(),
            panics: s.panics.get(),
            timeouts: s.timeouts.get(),
            events_dropped: self.shared.events.dropped(),
        })
    }

    /// Shuts down: stops claiming, hands queued runs back, lets running jobs finish for
    /// up to `grace`, then asks the rest to stop and hands them back too (without
    /// counting their attempt), stops the heartbeat and maintenance threads, and marks
    /// this instance offline.
    ///
    /// Returns within `grace` plus [`SHUTDOWN_OVERRUN`] (2 s) whatever the database
    /// does: outcomes it could not write by then are named in the report of the error
    /// (their runs are safe: leases run out and fencing refuses late writes). A call
    /// while another is shutting down waits for that one and gets its answer; a call
    /// after it gets the same answer again.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::Scheduler;
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder().database(dir.path().join("jobs.db")).start()?;
    /// let report = scheduler.shutdown(Duration::from_secs(10))?;
    /// assert!(report.unwritten.is_empty());
    /// assert_eq!(scheduler.shutdown(Duration::ZERO)?, report, "the same answer again");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ShutdownIncomplete`], with the report, when outcomes could not be
    /// written in time or the instance could not be marked offline.
    pub fn shutdown(&self, grace: Duration) -> Result<ShutdownReport> {
        let start = Instant::now();
        let deadline = start + grace + SHUTDOWN_OVERRUN;
        let threads = {
            let mut lifecycle = self.lifecycle.lock();
            match std::mem::replace(&mut *lifecycle, Lifecycle::Stopping { deadline }) {
                Lifecycle::Running(threads) => threads,
                Lifecycle::Stopping { deadline: first } => {
                    *lifecycle = Lifecycle::Stopping { deadline: first };
                    // The first call is bounded by its own deadline.
                    let wait_until = first + Duration::from_millis(500);
                    while matches!(*lifecycle, Lifecycle::Stopping { .. }) {
                        if self
                            .stopped
                            .wait_until(&mut lifecycle, wait_until)
                            .timed_out()
                        {
                            break;
                        }
                    }
                    return match &*lifecycle {
                        Lifecycle::Stopped(stopped) => stopped.result(),
                        _ => Err(Error::ShutdownIncomplete {
                            report: Box::default(),
                            reason: "another shutdown of this scheduler did not finish in \
                                     time"
                                .to_owned(),
                        }),
                    };
                }
                Lifecycle::Stopped(stopped) => {
                    let result = stopped.result();
                    *lifecycle = Lifecycle::Stopped(stopped);
                    return result;
                }
            }
        };
        let stopped = self.stop(threads, start + grace, deadline);
        let result = stopped.result();
        *self.lifecycle.lock() = Lifecycle::Stopped(stopped);
        self.stopped.notify_all();
        result
    }

    /// The shutdown itself, each step bounded by `deadline`.
    fn stop(&self, threads: Threads, grace_until: Instant, deadline: Instant) -> Stopped {
        let worker = self.shared.worker_id;
        // Time kept for the last write (marking the instance offline).
        let final_write = Duration::from_millis(300);
        let steps_until = deadline.checked_sub(final_write).unwrap_or(deadline);
        let now = self.now();
        if let Err(e) = self
            .shared
            .store
            .write_until(grace_until.min(steps_until), |tx| {
                tx.set_worker_stopping(worker, now)
            })
        {
            log::warn!("could not mark this instance stopping: {}", e.report());
        }
        let mut problems = Vec::new();
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        // The dispatcher stops a little before this thread stops waiting for it.
        let dispatcher_until = steps_until
            .checked_sub(Duration::from_millis(200))
            .unwrap_or(steps_until)
            .max(grace_until);
        // A write under way when the shutdown begins must not keep it waiting.
        self.shared.dispatch_cutoff.set(dispatcher_until);
        let asked = threads
            .control
            .send(Control::Shutdown {
                grace_until,
                deadline: dispatcher_until,
                reply: reply_tx,
            })
            .is_ok();
        let report = match asked.then(|| reply_rx.recv_deadline(steps_until)) {
            Some(Ok(report)) => report,
            _ => {
                problems.push("the dispatcher did not stop in time".to_owned());
                ShutdownReport::default()
            }
        };
        if !report.unwritten.is_empty() {
            problems.push(format!(
                "{} outcome(s) could not be written before the deadline",
                report.unwritten.len()
            ));
        }
        drop(threads.stop_background);
        // Threads still running a job that ignored its cancellation, or blocked on the
        // database past the deadline, are left to finish on their own: a thread cannot
        // be killed.
        let mut handles = threads.background;
        handles.push(threads.dispatcher);
        handles.extend(threads.workers);
        join_until(handles, steps_until);
        let now = self.now();
        if let Err(e) = self
            .shared
            .store
            .write_until(deadline, |tx| tx.mark_worker_offline(worker, now))
        {
            problems.push(format!(
                "could not mark this instance offline: {}",
                e.report()
            ));
        }
        self.shared.events.emit(Event::SchedulerStopped { worker });
        log::info!(
            "scheduler {worker} stopped: {} finished, {} released, {} stuck, {} unwritten",
            report.finished,
            report.released.len(),
            report.stuck.len(),
            report.unwritten.len()
        );
        Stopped {
            report,
            problem: (!problems.is_empty()).then(|| problems.join("; ")),
        }
    }
}

/// Joins the threads that end by `deadline`; the others are left to end on their own.
fn join_until(handles: Vec<JoinHandle<()>>, deadline: Instant) {
    let mut left = handles;
    loop {
        let (done, running): (Vec<_>, Vec<_>) = left.into_iter().partition(JoinHandle::is_finished);
        for h in done {
            let _ = h.join();
        }
        if running.is_empty() || Instant::now() >= deadline {
            return;
        }
        left = running;
        std::thread::sleep(Duration::from_millis(2));
    }
}

impl Drop for Scheduler {
    /// Shuts down with the configured grace period (see
    /// [`SchedulerBuilder::shutdown_grace`]) unless a shutdown already ran; errors are
    /// logged.
    fn drop(&mut self) {
        if !matches!(*self.lifecycle.lock(), Lifecycle::Running(_)) {
            return;
        }
        if let Err(e) = self.shutdown(self.shared.config.shutdown_grace) {
            log::error!("shutdown on drop failed: {}", e.report());
        }
    }
}
