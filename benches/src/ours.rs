//! The scheduler's side of every figure, through its public API on a real file.
//!
//! End-to-end figures start from work already in the database and stop when the last
//! `Completed` event fires, which the runtime emits only after the outcome committed:
//! "completed" means durable, not merely returned by the job.

use std::{
    path::PathBuf,
    sync::{
        Arc, LazyLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender, unbounded};
use parking_lot::{Condvar, Mutex};
use runloom::clock::HostInstant;
use runloom::{
    Clock, Event, Job, JobContext, JobError, MaintenanceConfig, PassReport, Perform, Scheduler,
    Service, SystemClock,
    store::{
        AttemptOutcome, JobTypeFilter, NewRun, NewWorker, Store, StoreOptions, Synchronous,
        WorkerId,
    },
};
use serde::{Deserialize, Serialize};

use crate::{BenchDb, BoxError, NOW, Result, fixture};

/// A job that does nothing: every figure measures the scheduler, not the job.
#[derive(Debug, Serialize, Deserialize, Job)]
#[job(name = "noop")]
pub struct Noop {}

impl Perform for Noop {
    type Output = ();
    fn perform(&self, _ctx: &JobContext) -> std::result::Result<(), JobError> {
        Ok(())
    }
}

static PROBE: LazyLock<(Sender<Instant>, Receiver<Instant>)> = LazyLock::new(unbounded);

/// The instant the next [`Probe`] of this process started, if one starts within
/// `timeout`.
pub(crate) fn probe_started(timeout: Duration) -> Option<Instant> {
    PROBE.1.recv_timeout(timeout).ok()
}

/// A job that reports the instant its work started (pickup latency).
#[derive(Debug, Serialize, Deserialize, Job)]
#[job(name = "probe")]
pub struct Probe {}

impl Perform for Probe {
    type Output = ();
    fn perform(&self, _ctx: &JobContext) -> std::result::Result<(), JobError> {
        let _ = PROBE.0.send(Instant::now());
        Ok(())
    }
}

/// Counts `Completed` and `Enqueued { created: true }` events and lets a thread wait for
/// a count.
#[derive(Debug, Default)]
struct Counter {
    completed: AtomicUsize,
    created: AtomicUsize,
    lock: Mutex<()>,
    changed: Condvar,
}

impl Counter {
    fn on_event(&self, e: &Event) {
        let counter = match e {
            Event::Completed { .. } => &self.completed,
            Event::Enqueued { created: true, .. } => &self.created,
            _ => return,
        };
        counter.fetch_add(1, Ordering::Release);
        let _guard = self.lock.lock();
        self.changed.notify_all();
    }

    fn wait(&self, counter: &AtomicUsize, target: usize, deadline: Duration) -> bool {
        let until = Instant::now() + deadline;
        let mut guard = self.lock.lock();
        while counter.load(Ordering::Acquire) < target {
            if self.changed.wait_until(&mut guard, until).timed_out() {
                return counter.load(Ordering::Acquire) >= target;
            }
        }
        true
    }
}

/// How long any one measurement may take before it is reported as stuck.
const DEADLINE: Duration = Duration::from_secs(600);

/// A running scheduler on a fresh bench database, counting what it completes.
#[derive(Debug)]
pub struct Harness {
    /// The files, when this harness made them (not when it opened another's).
    db: Option<BenchDb>,
    scheduler: Scheduler,
    counter: Arc<Counter>,
}

/// What a harness is built with.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    /// Worker threads.
    pub threads: usize,
    /// `synchronous` setting of the file.
    pub sync: Synchronous,
    /// How often the dispatcher looks for work written elsewhere; long for figures
    /// whose clock starts with an explicit wake-up, so a poll cannot start early.
    pub poll: Duration,
    /// Runs held at once (claimed, queued or running); `None` for the default.
    pub max_in_flight: Option<usize>,
    /// No maintenance thread: the maintenance figure runs each pass itself
    /// ([`Harness::maintenance`]), with the default batches and pauses.
    pub manual_maintenance: bool,
}

impl Setup {
    /// `threads` workers, `sync`, the default poll interval.
    #[must_use]
    pub fn new(threads: usize, sync: Synchronous) -> Self {
        Setup {
            threads,
            sync,
            poll: runloom::DEFAULT_POLL_INTERVAL,
            max_in_flight: None,
            manual_maintenance: false,
        }
    }
}

impl Harness {
    /// Starts a scheduler on a fresh file with [`Noop`] and [`Probe`] registered.
    ///
    /// # Errors
    /// Scheduler start errors.
    pub fn start(setup: Setup) -> Result<Harness> {
        Self::start_on(BenchDb::new(), setup)
    }

    /// Starts a scheduler on `db` (which may hold fixtures already).
    ///
    /// # Errors
    /// Scheduler start errors.
    pub fn start_on(db: BenchDb, setup: Setup) -> Result<Harness> {
        let path = db.path();
        Self::build(path, Some(db), setup)
    }

    /// Starts a scheduler on the database file at `path`, made by someone else (the
    /// memory figure's child process).
    ///
    /// # Errors
    /// Scheduler start errors.
    pub fn open_existing(path: PathBuf, setup: Setup) -> Result<Harness> {
        Self::build(path, None, setup)
    }

    /// Starts `hosts` schedulers of `threads` worker threads each on the PostgreSQL
    /// database at `url`, as separate hosts would run (each with its own pool, worker
    /// row and listener), counting completions together: any one's
    /// [`Harness::wait_for_completions`] waits for all of theirs.
    ///
    /// # Errors
    /// Scheduler start errors.
    pub fn start_postgres(url: &str, hosts: usize, threads: usize) -> Result<Vec<Harness>> {
        let counter = Arc::new(Counter::default());
        (0..hosts)
            .map(|_| {
                let hook = Arc::clone(&counter);
                let scheduler = Scheduler::builder()
                    .postgres(url)
                    .worker_threads(threads)
                    .register::<Noop>()
                    .register::<Probe>()
                    .on_event(move |e: &Event| hook.on_event(e))
                    .start()?;
                Ok(Harness {
                    db: None,
                    scheduler,
                    counter: Arc::clone(&counter),
                })
            })
            .collect()
    }

    fn build(path: PathBuf, db: Option<BenchDb>, setup: Setup) -> Result<Harness> {
        let counter = Arc::new(Counter::default());
        let hook = Arc::clone(&counter);
        let mut builder = Scheduler::builder();
        if let Some(n) = setup.max_in_flight {
            builder = builder.max_in_flight(n);
        }
        if setup.manual_maintenance {
            builder = builder.maintenance(MaintenanceConfig::default().enabled(false));
        }
        let scheduler = builder
            .database(path)
            .worker_threads(setup.threads)
            .synchronous(setup.sync)
            .poll_interval(setup.poll)
            .register::<Noop>()
            .register::<Probe>()
            .on_event(move |e: &Event| hook.on_event(e))
            .start()?;
        Ok(Harness {
            db,
            scheduler,
            counter,
        })
    }

    /// The scheduler.
    #[must_use]
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    fn completed(&self) -> usize {
        self.counter.completed.load(Ordering::Acquire)
    }

    /// Waits up to `timeout` for more than `seen` completions since the start; returns
    /// how many there are.
    pub(crate) fn completions_beyond(&self, seen: usize, timeout: Duration) -> usize {
        self.counter
            .wait(&self.counter.completed, seen + 1, timeout);
        self.completed()
    }

    /// Waits until `n` runs completed since the start.
    ///
    /// # Errors
    /// Fewer completions within ten minutes.
    pub fn wait_for_completions(&self, n: usize) -> Result<()> {
        self.wait_completed(n)
    }

    fn wait_completed(&self, target: usize) -> Result<()> {
        if self.counter.wait(&self.counter.completed, target, DEADLINE) {
            Ok(())
        } else {
            Err(stuck("completions", target, self.completed()))
        }
    }

    /// Inserts `n` pending no-op runs straight into the store (not through the
    /// scheduler, so it is not woken), in transactions of 10 000.
    ///
    /// # Errors
    /// Database errors.
    pub fn insert_pending(&self, n: usize) -> Result<()> {
        fixture::insert_pending(self.scheduler.store(), n)
    }

    /// Time to complete `n` runs already pending while the scheduler was paused: from
    /// `resume()` to the last completion committed.
    ///
    /// # Errors
    /// Database errors; runs that did not all complete within ten minutes.
    pub fn drain(&self, n: usize) -> Result<Duration> {
        self.scheduler.pause()?;
        self.insert_pending(n)?;
        let target = self.completed() + n;
        let t0 = Instant::now();
        self.scheduler.resume()?;
        self.wait_completed(target)?;
        Ok(t0.elapsed())
    }

    /// Time to enqueue `n` jobs one per call (one transaction each), with claiming
    /// paused so only the enqueue path is measured.
    ///
    /// # Errors
    /// Enqueue errors.
    pub fn enqueue_single(&self, n: usize) -> Result<Duration> {
        self.scheduler.pause()?;
        let t0 = Instant::now();
        for _ in 0..n {
            self.scheduler.enqueue(Noop {})?;
        }
        Ok(t0.elapsed())
    }

    /// Time to enqueue `batches` batches of `size` jobs, one transaction per batch.
    ///
    /// # Errors
    /// Enqueue errors.
    pub fn enqueue_batches(&self, batches: usize, size: usize) -> Result<Duration> {
        self.scheduler.pause()?;
        let t0 = Instant::now();
        for _ in 0..batches {
            self.scheduler.enqueue_many((0..size).map(|_| Noop {}))?;
        }
        Ok(t0.elapsed())
    }

    /// Pickup latency: from just before `enqueue` to the moment the job's code starts,
    /// into an idle scheduler, `samples` times (each waits for the previous run's
    /// completion to commit first).
    ///
    /// # Errors
    /// Enqueue errors, or a probe that never started.
    pub fn pickup(&self, samples: usize) -> Result<Vec<Duration>> {
        self.pickup_from(samples, || {
            Ok(self.scheduler.enqueue(Probe {}).map(drop)?)
        })
    }

    /// [`Harness::pickup`] with the probe enqueued by `enqueue` (another host's handle,
    /// say) instead of this scheduler.
    ///
    /// # Errors
    /// `enqueue`'s errors, or a probe that never started.
    pub fn pickup_from(
        &self,
        samples: usize,
        mut enqueue: impl FnMut() -> Result<()>,
    ) -> Result<Vec<Duration>> {
        self.scheduler.resume()?;
        while PROBE.1.try_recv().is_ok() {}
        let mut out = Vec::with_capacity(samples);
        for _ in 0..samples {
            let target = self.completed() + 1;
            let t0 = Instant::now();
            enqueue()?;
            let started = PROBE
                .1
                .recv_timeout(DEADLINE)
                .map_err(|_| stuck("probe starts", 1, 0))?;
            out.push(started.saturating_duration_since(t0));
            self.wait_completed(target)?;
        }
        Ok(out)
    }

    /// Time to drain a dependency graph of `shape` with `n` runs besides its root or
    /// sink, enqueued as one batch while claiming was paused: from `resume()` to the
    /// last completion.
    ///
    /// # Errors
    /// Enqueue errors; a graph that did not drain.
    pub fn dag(&self, shape: Shape, n: usize) -> Result<Duration> {
        self.scheduler.pause()?;
        let mut batch = self.scheduler.batch();
        let total = match shape {
            Shape::Flat => {
                for _ in 0..n {
                    batch.add(Noop {})?;
                }
                n
            }
            Shape::Chain => {
                let mut prev = batch.add(Noop {})?;
                for _ in 1..n {
                    let next = batch.add(Noop {})?;
                    batch.depends_on(next, prev)?;
                    prev = next;
                }
                n
            }
            Shape::FanOut => {
                let root = batch.add(Noop {})?;
                for _ in 0..n {
                    let leaf = batch.add(Noop {})?;
                    batch.depends_on(leaf, root)?;
                }
                n + 1
            }
            Shape::FanIn => {
                let sink = batch.add(Noop {})?;
                for _ in 0..n {
                    let leaf = batch.add(Noop {})?;
                    batch.depends_on(sink, leaf)?;
                }
                n + 1
            }
        };
        batch.submit()?;
        let target = self.completed() + total;
        let t0 = Instant::now();
        self.scheduler.resume()?;
        self.wait_completed(target)?;
        Ok(t0.elapsed())
    }

    /// Time to create the due occurrence of `n` schedules due now: the schedules are
    /// written straight into the store, then the dispatcher is woken and the clock runs
    /// until the `n`-th occurrence was created. Claiming is paused so the figure is the
    /// materialisation alone.
    ///
    /// # Errors
    /// Database errors; occurrences that were not all created.
    pub fn materialize(&self, n: usize) -> Result<Duration> {
        self.scheduler.pause()?;
        let before = self.counter.created.load(Ordering::Acquire);
        fixture::insert_schedules(self.scheduler.store(), "noop", n)?;
        let t0 = Instant::now();
        self.scheduler.notify();
        if !self
            .counter
            .wait(&self.counter.created, before + n, DEADLINE)
        {
            return Err(stuck(
                "occurrences",
                n,
                self.counter.created.load(Ordering::Acquire) - before,
            ));
        }
        Ok(t0.elapsed())
    }

    /// One pass of `service` through [`Scheduler::run_maintenance`], with claiming
    /// paused so the runs it hands back stay put; start the harness with
    /// [`Setup::manual_maintenance`].
    ///
    /// # Errors
    /// Database errors.
    pub fn maintenance(&self, service: Service) -> Result<PassReport> {
        self.scheduler.pause()?;
        let report = self.scheduler.run_maintenance(Some(service))?;
        report
            .pass(service)
            .cloned()
            .ok_or_else(|| format!("no {} pass in the report", service.name()).into())
    }

    /// Shuts the scheduler down.
    ///
    /// # Errors
    /// Shutdown errors.
    pub fn stop(self) -> Result<Option<BenchDb>> {
        self.scheduler.shutdown(Duration::from_secs(10))?;
        Ok(self.db)
    }
}

/// The shape of a dependency graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// No edges: the reference the others are compared with.
    Flat,
    /// Each run waits for the one before.
    Chain,
    /// One root, `n` runs waiting for it.
    FanOut,
    /// `n` runs, one sink waiting for all of them.
    FanIn,
}

fn stuck(what: &str, wanted: usize, got: usize) -> BoxError {
    format!("only {got} of {wanted} {what} within {DEADLINE:?}").into()
}

/// The storage layer's claim + complete cycle, on a store that may hold big tables:
/// claims `per_tx` runs under leases in one transaction and completes them in a second
/// one, `rounds` times; `rounds × per_tx` runs must be pending.
#[derive(Debug)]
pub struct Cycle {
    store: Store,
    worker: WorkerId,
}

impl Cycle {
    /// Opens the store in `db` and registers a worker.
    ///
    /// # Errors
    /// Store errors.
    pub fn open(db: &BenchDb, sync: Synchronous) -> Result<Cycle> {
        let store = Store::open(StoreOptions::file(db.path()).synchronous(sync))?;
        let worker = store.write(|tx| {
            tx.register_worker(
                &NewWorker::new("bench", "localhost", 4),
                NOW,
                HostInstant::now(),
            )
        })?;
        Ok(Cycle { store, worker })
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Time for `rounds` cycles of `per_tx` runs.
    ///
    /// # Errors
    /// Database errors, or fewer pending runs than the cycles need.
    pub fn run(&self, per_tx: usize, rounds: usize) -> Result<Duration> {
        let done = AttemptOutcome::Completed {
            result: "null".into(),
        };
        let any = JobTypeFilter::any();
        let lease = Duration::from_secs(30);
        let now = SystemClock.now();
        let t0 = Instant::now();
        for _ in 0..rounds {
            let claimed = self.store.write(|tx| {
                tx.claim_runs(self.worker, per_tx, now, HostInstant::now(), lease, &any)
            })?;
            if claimed.len() < per_tx {
                return Err(stuck("claims", per_tx, claimed.len()));
            }
            self.store.write(|tx| {
                for c in &claimed {
                    tx.finish_attempt(c.id, c.token, &done, None, now)?;
                }
                Ok(())
            })?;
        }
        Ok(t0.elapsed())
    }
}

/// Creates `n` runs pending now with the storage layer, as the enqueue figure's
/// reference shape ([`NewRun`] with the defaults).
#[must_use]
pub fn noop_runs(n: usize, at: time::OffsetDateTime) -> Vec<NewRun> {
    (0..n).map(|_| NewRun::new(Noop::NAME, "{}", at)).collect()
}
