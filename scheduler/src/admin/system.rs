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
    /// Every queue with unfinished runs or a pause record.
    pub queues: Vec<crate::model::QueueInfo>,
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
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// admin.pause()?;
    /// assert!(admin.resume()?);
    /// assert!(!admin.resume()?, "it was not paused any more");
    /// assert!(!admin.is_paused()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// assert!(!admin.is_paused()?);
    /// admin.pause()?;
    /// assert!(admin.is_paused()?);
    /// assert!(admin.figures()?.paused);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn is_paused(&self) -> Result<bool> {
        self.store.read(|tx| tx.is_paused())
    }

    /// Task definitions by id, deleted ones too when `include_deleted`.
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
    /// scheduler.unschedule("poll")?;
    /// let admin = scheduler.admin();
    /// assert!(admin.tasks(false)?.is_empty());
    /// let all = admin.tasks(true)?;
    /// assert_eq!(all[0].name, "poll");
    /// assert!(all[0].deleted_at.is_some());
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn tasks(&self, include_deleted: bool) -> Result<Vec<Task>> {
        self.store.read(|tx| tx.list_tasks(include_deleted))
    }

    /// The live task named `name`, if any.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, Schedule, ScheduleSpec, Scheduler};
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
    /// let task = scheduler.admin().task("poll")?.ok_or("no task named poll")?;
    /// assert_eq!(task.job_type, "poll");
    /// assert_eq!(task.schedule, Schedule::Interval(Duration::from_secs(3600)));
    /// assert!(scheduler.admin().task("nope")?.is_none());
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn task(&self, name: &str) -> Result<Option<Task>> {
        self.store.read(|tx| tx.find_task_by_name(name))
    }

    /// Every live task that has a schedule.
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
    /// let schedules = scheduler.admin().schedules()?;
    /// assert_eq!(schedules.len(), 1);
    /// assert_eq!(schedules[0].name, "poll");
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// # scheduler.schedule("poll", Poll, ScheduleSpec::every(Duration::from_secs(3600)))?;
    /// let admin = scheduler.admin();
    /// for task in admin.schedules()? {
    ///     let times = admin.fire_times(&task, 2)?;
    ///     assert_eq!(times[1] - times[0], runloom::time::Duration::hours(1));
    /// }
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// let spec = ScheduleSpec::cron("0 9 * * *").time_zone("Europe/Paris");
    /// scheduler.schedule("morning", Report, spec)?;
    /// let times = scheduler.admin().next_fire_times("morning", 2)?;
    /// assert_eq!(times.len(), 2);
    /// // 09:00 in Paris is 07:00 or 08:00 UTC, by the season.
    /// assert!(times.iter().all(|t| t.minute() == 0 && (7..=8).contains(&t.hour())));
    /// assert!(scheduler.admin().next_fire_times("nope", 2).is_err_and(|e| e.is_not_found()));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// let admin = scheduler.admin();
    /// admin.disable_schedule("poll")?;
    /// let task = admin.enable_schedule("poll")?;
    /// assert!(task.enabled);
    /// assert!(task.next_run_at.is_some());
    /// assert!(admin.enable_schedule("nope").is_err_and(|e| e.is_not_found()));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, ScheduleSpec, Scheduler};
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
    /// # let path = dir.path().join("jobs.db");
    /// # let host = Scheduler::builder().database(&path).register::<Backup>().start()?;
    /// # host.schedule("backup", Backup, ScheduleSpec::cron("0 2 * * *"))?;
    /// # host.shutdown(Duration::from_secs(5))?;
    /// // A host schedules `backup` at 02:00; an operator wants one now.
    /// let admin = runloom::Admin::open(&path)?;
    /// let inserted = admin.trigger("backup")?;
    /// assert!(inserted.created);
    /// let task = admin.task("backup")?.ok_or("no task")?;
    /// assert_eq!(admin.run(inserted.id)?.task_id, Some(task.id));
    /// assert!(admin.trigger("nope").is_err_and(|e| e.is_not_found()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::TaskNameNotFound`]; database errors.
    pub fn trigger(&self, name: &str) -> Result<Inserted> {
        schedule::trigger(self.store.as_ref(), name, self.clock.now())
    }

    /// Scheduler instances with the runs each holds, offline ones too when `all`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Admin, Scheduler, WorkerStatus};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// let host = Scheduler::builder().database(&path).name("billing-1").start()?;
    /// let live = host.admin().workers(false)?;
    /// assert_eq!(live.len(), 1);
    /// assert_eq!(live[0].worker.name, "billing-1");
    /// assert!(!live[0].stale);
    /// host.shutdown(Duration::from_secs(5))?;
    ///
    /// let admin = Admin::open(&path)?;
    /// assert!(admin.workers(false)?.is_empty());
    /// assert_eq!(admin.workers(true)?[0].worker.status, WorkerStatus::Offline);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// ```
    /// # use runloom::{EnqueueOptions, RunStatus};
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// let first = admin.enqueue_json_any_type("report", "{}", &EnqueueOptions::new())?.id;
    /// admin.enqueue_json_any_type("report", "{}", &EnqueueOptions::new())?;
    /// admin.cancel(first, "not needed")?;
    /// let counts = admin.counts()?;
    /// assert_eq!((counts.pending, counts.cancelled), (1, 1));
    /// assert_eq!(counts.get(RunStatus::Pending), 1);
    /// assert_eq!(counts.total(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn counts(&self) -> Result<StatusCounts> {
        self.store.read(|tx| tx.count_runs_by_status())
    }

    /// Whether the system is healthy, in one row.
    ///
    /// ```
    /// # use runloom::EnqueueOptions;
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// admin.enqueue_json_any_type("report", "{}", &EnqueueOptions::new())?;
    /// let health = admin.health()?;
    /// assert_eq!(health.live_workers, 0, "no host runs on this database");
    /// assert_eq!(health.pending, 1);
    /// assert!(!health.paused);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn health(&self) -> Result<Health> {
        self.store.read(|tx| tx.health())
    }

    /// Every figure of `runloom stats`, in one snapshot.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
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
    /// let ids: Vec<_> = scheduler.enqueue_many([Report, Report])?.iter().map(|r| r.id).collect();
    /// scheduler.wait_all(&ids, Duration::from_secs(10))?;
    /// let figures = scheduler.admin().figures()?;
    /// assert_eq!(figures.counts.completed, 2);
    /// assert_eq!(figures.last_hour.completed_last_hour, 2);
    /// let report = figures.per_task.iter().find(|t| t.job_type == "report").ok_or("no row")?;
    /// assert_eq!(report.completed, 2);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn figures(&self) -> Result<Figures> {
        let now = self.clock.now();
        self.store.read(|tx| {
            Ok(Figures {
                queues: tx.list_queues(now)?,
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
    /// ```
    /// # use runloom::Service;
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// let report = admin.run_maintenance(None)?;
    /// let ran: Vec<Service> = report.passes.iter().map(|p| p.service).collect();
    /// assert_eq!(ran, Service::ALL);
    /// let one = admin.run_maintenance(Some(Service::RunRetention))?;
    /// assert_eq!(one.passes.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// ```
    /// # use runloom::Service;
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// assert!(admin.maintenance_history()?.is_empty());
    /// admin.run_maintenance(Some(Service::TokenPurge))?;
    /// let history = admin.maintenance_history()?;
    /// assert_eq!(history.len(), 1);
    /// assert_eq!(history[0].0, Service::TokenPurge);
    /// assert!(history[0].1.contains(r#""service":"tokens""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
