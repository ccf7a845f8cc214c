//! The database as a whole through the operator's eyes: claiming paused or not,
//! schedules, workers, figures, maintenance.

use time::OffsetDateTime;

use super::Admin;
use crate::{
    error::{Error, Result},
    maintenance::{MaintenanceReport, Service},
    model::{
        DEFAULT_STALE_WORKER_AFTER, Health, Inserted, LastHour, MinuteThroughput, RunId, Schedule,
        StatusCounts, Task, TaskStats, Worker, WorkerStatus,
    },
    schedule,
};

/// A scheduler instance with the runs it holds leases on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerInfo {
    /// The instance as stored.
    pub worker: Worker,
    /// The runs it holds a lease on now.
    pub runs: Vec<RunId>,
    /// Not offline, and silent for longer than the stale limit it recorded itself: it
    /// is about to be presumed dead. (For display: the decision is maintenance's, on
    /// the worker's own monotonic clock.)
    pub stale: bool,
}

/// The figures of the whole database, read in one snapshot: what `runloom stats`
/// prints.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Figures {
    /// Whether claiming is paused.
    pub paused: bool,
    /// Runs in each status.
    pub counts: StatusCounts,
    /// Per job type and task: outcomes, success rate, durations.
    pub per_task: Vec<TaskStats>,
    /// The last hour in one row.
    pub last_hour: LastHour,
    /// Runs finished per minute over the last hour, oldest minute first.
    pub throughput: Vec<MinuteThroughput>,
}

impl Admin {
    /// Stops claiming in every process sharing the database (running jobs finish).
    /// Returns false when it was already paused (nothing is written then).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # runloom::Scheduler::builder().database(&path).start()?.shutdown(std::time::Duration::from_secs(5))?;
    /// let admin = runloom::Admin::open(&path)?;
    /// assert!(admin.pause()?);
    /// assert!(!admin.pause()?, "already paused");
    /// assert!(admin.resume()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn pause(&self) -> Result<bool> {
        self.set_paused(true)
    }

    /// Resumes claiming in every process sharing the database. Returns false when it
    /// was not paused.
    ///
    /// # Errors
    /// Database errors.
    pub fn resume(&self) -> Result<bool> {
        self.set_paused(false)
    }

    fn set_paused(&self, paused: bool) -> Result<bool> {
        let now = self.clock.now();
        self.store.write(|tx| {
            let changed = tx.is_paused()? != paused;
            if changed {
                tx.set_paused(paused, now)?;
            }
            Ok(changed)
        })
    }

    /// Whether claiming is paused.
    ///
    /// # Errors
    /// Database errors.
    pub fn is_paused(&self) -> Result<bool> {
        self.store.read(|tx| tx.is_paused())
    }

    /// Task definitions by id, deleted ones too when `include_deleted`.
    ///
    /// # Errors
    /// Database errors.
    pub fn tasks(&self, include_deleted: bool) -> Result<Vec<Task>> {
        self.store.read(|tx| tx.list_tasks(include_deleted))
    }

    /// The live task named `name`, if any.
    ///
    /// # Errors
    /// Database errors.
    pub fn task(&self, name: &str) -> Result<Option<Task>> {
        self.store.read(|tx| tx.find_task_by_name(name))
    }

    /// Every live task that has a schedule.
    ///
    /// # Errors
    /// Database errors.
    pub fn schedules(&self) -> Result<Vec<Task>> {
        Ok(self
            .tasks(false)?
            .into_iter()
            .filter(|t| t.schedule != Schedule::None)
            .collect())
    }

    /// The next `n` times `task` fires from now (none when it is disabled, deleted or
    /// has no schedule).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for more than [`schedule::MAX_FIRE_TIMES`];
    /// [`Error::InvalidCron`] or [`Error::UnknownTimeZone`] for a definition this
    /// library cannot evaluate (written by another version, say).
    pub fn fire_times(&self, task: &Task, n: usize) -> Result<Vec<OffsetDateTime>> {
        if !task.enabled || task.deleted_at.is_some() {
            return Ok(Vec::new());
        }
        schedule::next_fire_times(task, self.clock.now(), n)
    }

    /// The next `n` times the schedule `name` fires.
    ///
    /// # Errors
    /// [`Error::TaskNameNotFound`]; as [`Admin::fire_times`].
    pub fn next_fire_times(&self, name: &str, n: usize) -> Result<Vec<OffsetDateTime>> {
        let task = self
            .task(name)?
            .ok_or_else(|| Error::TaskNameNotFound(name.to_owned()))?;
        self.fire_times(&task, n)
    }

    /// Disables the schedule of the live task `name`: no occurrence is created until it
    /// is enabled again, occurrences not yet started are cancelled (with the runs
    /// waiting for them), a running one runs to its end. A host's
    /// [`Scheduler::schedule`](crate::Scheduler::schedule) at its next start leaves it
    /// disabled unless its spec says `.enabled(true)`. The task as it is after
    /// (already disabled: unchanged).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, ScheduleSpec, Scheduler};
    /// # #[derive(serde::Serialize, serde::Deserialize)]
    /// # struct Tick;
    /// # impl Job for Tick { const NAME: &'static str = "tick"; }
    /// # impl Perform for Tick {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .register::<Tick>()
    ///     .start()?;
    /// scheduler.schedule("tick", Tick, ScheduleSpec::every(Duration::from_secs(60)))?;
    /// let admin = scheduler.admin();
    /// assert!(!admin.disable_schedule("tick")?.enabled);
    /// assert!(admin.next_fire_times("tick", 1)?.is_empty(), "a disabled schedule does not fire");
    /// assert!(admin.enable_schedule("tick")?.enabled);
    /// let run = admin.trigger("tick")?; // one run now, the schedule unmoved
    /// assert!(run.created);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::TaskNameNotFound`]; [`Error::InvalidArgument`] for a task without a
    /// schedule; [`Error::VersionConflict`] when it kept changing meanwhile; database
    /// errors.
    pub fn disable_schedule(&self, name: &str) -> Result<Task> {
        schedule::set_enabled(self.store.as_ref(), name, false, self.clock.now())
    }

    /// Enables the schedule of the live task `name` again: it continues from now, its
    /// next occurrence the first fire time after this call (the disabled time is not
    /// caught up). The task as it is after (already enabled: unchanged).
    ///
    /// # Errors
    /// As [`Admin::disable_schedule`].
    pub fn enable_schedule(&self, name: &str) -> Result<Task> {
        schedule::set_enabled(self.store.as_ref(), name, true, self.clock.now())
    }

    /// One run of the live task `name` now, with its payload and options, whether or
    /// not it has a schedule or the schedule is enabled; its occurrences are not
    /// moved. The task's unique key holds as for any enqueue (an unfinished run holding
    /// it is returned, `created` false).
    ///
    /// # Errors
    /// [`Error::TaskNameNotFound`]; database errors.
    pub fn trigger(&self, name: &str) -> Result<Inserted> {
        schedule::trigger(self.store.as_ref(), name, self.clock.now())
    }

    /// Scheduler instances with the runs each holds, offline ones too when `all`.
    ///
    /// # Errors
    /// Database errors.
    pub fn workers(&self, all: bool) -> Result<Vec<WorkerInfo>> {
        let now = self.clock.now();
        self.store.read(|tx| {
            tx.list_workers(all)?
                .into_iter()
                .map(|worker| {
                    let runs = tx
                        .leases_of_worker(worker.id)?
                        .iter()
                        .map(|l| l.run_id)
                        .collect();
                    let limit = worker.stale_after.unwrap_or(DEFAULT_STALE_WORKER_AFTER);
                    let silent = now - worker.last_heartbeat;
                    let stale = worker.status != WorkerStatus::Offline && silent > limit;
                    Ok(WorkerInfo {
                        worker,
                        runs,
                        stale,
                    })
                })
                .collect()
        })
    }

    /// Runs in each status.
    ///
    /// # Errors
    /// Database errors.
    pub fn counts(&self) -> Result<StatusCounts> {
        self.store.read(|tx| tx.count_runs_by_status())
    }

    /// Whether the system is healthy, in one row.
    ///
    /// # Errors
    /// Database errors.
    pub fn health(&self) -> Result<Health> {
        self.store.read(|tx| tx.health())
    }

    /// Every figure of `runloom stats`, in one snapshot.
    ///
    /// # Errors
    /// Database errors.
    pub fn figures(&self) -> Result<Figures> {
        self.store.read(|tx| {
            Ok(Figures {
                paused: tx.is_paused()?,
                counts: tx.count_runs_by_status()?,
                per_task: tx.task_stats()?,
                last_hour: tx.last_hour()?,
                throughput: tx.throughput_last_hour()?,
            })
        })
    }

    /// Runs maintenance now: one pass of `only` the given service, or of every
    /// service, recorded in `system_state` like the maintenance thread's. Workers are
    /// judged by the limits each recorded itself; runs taken back from dead workers
    /// back off by this handle's retry policy.
    ///
    /// # Errors
    /// Database errors (services that ran before the error keep their effect).
    pub fn run_maintenance(&self, only: Option<Service>) -> Result<MaintenanceReport> {
        let mut report = MaintenanceReport::default();
        for service in Service::ALL {
            if only.is_none_or(|o| o == service) {
                report.passes.push(crate::maintenance::run_pass(
                    self.store.as_ref(),
                    &self.maintenance,
                    self.clock.as_ref(),
                    self.retry.as_ref(),
                    service,
                )?);
            }
        }
        Ok(report)
    }

    /// The last pass of each maintenance service, from any process, as recorded in
    /// `system_state`: `(service, JSON of its PassReport)`.
    ///
    /// # Errors
    /// Database errors.
    pub fn maintenance_history(&self) -> Result<Vec<(Service, String)>> {
        self.store.read(|tx| {
            let mut out = Vec::new();
            for service in Service::ALL {
                if let Some(json) = tx.get_state(&crate::maintenance::state_key(service))? {
                    out.push((service, json));
                }
            }
            Ok(out)
        })
    }
}
