//! ① Enqueue: turning a job (or a job type name and a JSON payload) into a run, with its
//! options resolved and every input checked before anything is written.

mod follow_up;
mod submit;

use std::time::Duration;

use time::OffsetDateTime;

pub(crate) use self::submit::{Submitter, submit};
use crate::{
    error::{Error, Result},
    job::{Job, JobOptions, registry::Registry},
    model::time::{add_ms, to_ms},
    model::{self, NewRun},
};

/// Options of one enqueue; each overrides the job type's default.
///
/// ```
/// use std::time::Duration;
/// use runloom::EnqueueOptions;
///
/// let opts = EnqueueOptions::new()
///     .delay(Duration::from_secs(60))
///     .priority(50)
///     .max_attempts(10)
///     .unique_key("invoice-2026-001");
/// # let _ = opts;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct EnqueueOptions {
    /// Run at this time (not before).
    pub at: Option<OffsetDateTime>,
    /// Run after this delay from now.
    pub delay: Option<Duration>,
    /// Priority, attempts, timeout and backoff overriding the job type's defaults.
    pub job: JobOptions,
    /// At most one unfinished run holds a given key; another enqueue with the key returns
    /// that run. Overrides a key the job type derives.
    pub unique_key: Option<String>,
}

impl EnqueueOptions {
    /// No override: due now, the job type's options.
    ///
    /// ```
    /// use runloom::{EnqueueOptions, JobOptions};
    ///
    /// let opts = EnqueueOptions::new();
    /// assert!(opts.at.is_none() && opts.delay.is_none() && opts.unique_key.is_none());
    /// assert_eq!(opts.job, JobOptions::new());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Due at `at` (at once if `at` is in the past).
    ///
    /// ```
    /// # use runloom::{EnqueueOptions, time::macros::datetime};
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// let new_year = datetime!(2031-01-01 0:00 UTC);
    /// let opts = EnqueueOptions::new().at(new_year);
    /// let id = admin.enqueue_json_any_type("greet", "{}", &opts)?.id;
    /// assert_eq!(admin.run(id)?.scheduled_at, new_year);
    /// let both = EnqueueOptions::new().at(new_year).delay(std::time::Duration::from_secs(60));
    /// assert!(admin.enqueue_json_any_type("greet", "{}", &both).is_err(), "a time or a delay");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn at(mut self, at: OffsetDateTime) -> Self {
        self.at = Some(at);
        self
    }

    /// Due after `delay`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::EnqueueOptions;
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// let in_an_hour = EnqueueOptions::new().delay(Duration::from_secs(3600));
    /// let id = admin.enqueue_json_any_type("remind", "{}", &in_an_hour)?.id;
    /// let run = admin.run(id)?;
    /// assert_eq!(run.scheduled_at - run.created_at, runloom::time::Duration::hours(1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// The unique key.
    ///
    /// ```
    /// # use runloom::EnqueueOptions;
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// let once = EnqueueOptions::new().unique_key("invoice-2026-001");
    /// let first = admin.enqueue_json_any_type("invoice", "{}", &once)?;
    /// let again = admin.enqueue_json_any_type("invoice", "{}", &once)?;
    /// assert!(first.created && !again.created);
    /// assert_eq!(again.id, first.id, "the unfinished run that holds the key");
    /// admin.cancel(first.id, "sent by hand")?; // finished: the key is free again
    /// assert!(admin.enqueue_json_any_type("invoice", "{}", &once)?.created);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }
}

crate::model::options::job_option_setters!(EnqueueOptions);

/// What enqueueing needs to know about the scheduler.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Enqueuer<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) max_payload_bytes: usize,
    pub(crate) allow_foreign: bool,
}

impl Enqueuer<'_> {
    /// The run for a typed job.
    pub(crate) fn run_for<J: Job>(
        &self,
        job: &J,
        opts: &EnqueueOptions,
        now: OffsetDateTime,
    ) -> Result<NewRun> {
        if !self.registry.contains(J::NAME) {
            return Err(Error::UnknownJobType(J::NAME.to_owned()));
        }
        self.run_for_any(job, opts, now)
    }

    /// The run for a typed job whether or not this binary registers its type (a test
    /// context records follow-ups of types the test did not register).
    pub(crate) fn run_for_any<J: Job>(
        &self,
        job: &J,
        opts: &EnqueueOptions,
        now: OffsetDateTime,
    ) -> Result<NewRun> {
        let payload = serde_json::to_string(job).map_err(|e| Error::Payload {
            job_type: J::NAME.to_owned(),
            detail: e.to_string(),
        })?;
        let unique = opts.unique_key.clone().or_else(|| job.unique_key());
        self.build(J::NAME, payload, J::options(), unique, opts, now)
    }

    /// The run of a job type this binary does not have, named at run time with a JSON
    /// payload and the defaults a host recorded for it (the CLI, through `Admin`).
    pub(crate) fn run_for_recorded(
        &self,
        job_type: &str,
        payload: &str,
        defaults: JobOptions,
        opts: &EnqueueOptions,
        now: OffsetDateTime,
    ) -> Result<NewRun> {
        model::validate_name("job type", job_type)?;
        crate::job::registry::check_json(payload).map_err(|detail| Error::Payload {
            job_type: job_type.to_owned(),
            detail,
        })?;
        self.build(
            job_type,
            payload.to_owned(),
            defaults,
            opts.unique_key.clone(),
            opts,
            now,
        )
    }

    /// The run for a job type named at run time with a JSON payload (the CLI, other
    /// binaries). The payload must decode into the registered type; a foreign type (when
    /// allowed) only needs valid JSON.
    pub(crate) fn run_for_json(
        &self,
        job_type: &str,
        payload: &str,
        opts: &EnqueueOptions,
        now: OffsetDateTime,
    ) -> Result<NewRun> {
        model::validate_name("job type", job_type)?;
        let (defaults, check) = match self.registry.get(job_type) {
            Some(runner) => (runner.options(), runner.check_payload(payload)),
            None if self.allow_foreign => {
                (JobOptions::new(), crate::job::registry::check_json(payload))
            }
            None => return Err(Error::UnknownJobType(job_type.to_owned())),
        };
        check.map_err(|detail| Error::Payload {
            job_type: job_type.to_owned(),
            detail,
        })?;
        self.build(
            job_type,
            payload.to_owned(),
            defaults,
            opts.unique_key.clone(),
            opts,
            now,
        )
    }

    fn build(
        &self,
        job_type: &str,
        payload: String,
        defaults: JobOptions,
        unique_key: Option<String>,
        opts: &EnqueueOptions,
        now: OffsetDateTime,
    ) -> Result<NewRun> {
        if payload.len() > self.max_payload_bytes {
            return Err(Error::PayloadTooLarge {
                job_type: job_type.to_owned(),
                size: payload.len(),
                limit: self.max_payload_bytes,
            });
        }
        // What the schema's json_valid will refuse, refused here with the reason.
        model::check_json(&payload).map_err(|detail| Error::Payload {
            job_type: job_type.to_owned(),
            detail,
        })?;
        opts.job.validate()?;
        let options = opts.job.clone().or(defaults).settled();
        let scheduled_at = match (opts.at, opts.delay) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid("delay", "give a time or a delay, not both"));
            }
            (Some(at), None) => at,
            (None, Some(delay)) => {
                crate::model::time::from_ms(add_ms("delay", to_ms(now), delay)?)?
            }
            (None, None) => now,
        };
        let mut run = NewRun::new(job_type, payload, scheduled_at);
        run.priority = options.priority;
        run.max_attempts = options.max_attempts;
        run.timeout = options.timeout;
        run.backoff = options.backoff;
        run.queue = options.queue;
        run.unique_key = unique_key;
        run.validate()?;
        Ok(run)
    }
}

/// Several jobs enqueued in one transaction, optionally with dependency edges among
/// them and onto existing runs: all of them or none. Built with
/// [`crate::Scheduler::batch`].
///
/// A job with upstream jobs starts `blocked` and becomes `pending` when the last of
/// them completes; if one fails for good or is cancelled, it is cancelled with reason
/// `upstream_failed` (and its own dependents in turn), unless its edge says to run
/// anyway.
///
/// ```
/// use runloom::{Job, JobContext, JobError, Perform, Scheduler};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct Step(u32);
/// impl Job for Step { const NAME: &'static str = "step"; }
/// impl Perform for Step {
///     type Output = ();
///     fn perform(&self, _: &JobContext) -> Result<(), JobError> { Ok(()) }
/// }
///
/// # let dir = tempfile::tempdir()?;
/// let scheduler = Scheduler::builder().database(dir.path().join("jobs.db")).register::<Step>().start()?;
/// let mut batch = scheduler.batch();
/// let extract = batch.add(Step(1))?;
/// let left = batch.add(Step(2))?;
/// let right = batch.add(Step(3))?;
/// let load = batch.add(Step(4))?;
/// batch.depends_on(left, extract)?.depends_on(right, extract)?;   // fan-out
/// batch.depends_on(load, left)?.depends_on(load, right)?;         // fan-in
/// let runs = batch.submit()?;
/// assert_eq!(runs[3].status, runloom::RunStatus::Blocked);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Batch<'s> {
    pub(crate) target: &'s dyn Target,
    pub(crate) runs: Vec<NewRun>,
    pub(crate) edges: Vec<BatchEdge>,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("runs", &self.runs.len())
            .field("edges", &self.edges.len())
            .finish_non_exhaustive()
    }
}

/// Where a batch goes: what it needs of the scheduler that submits it (the handle
/// implements it), so enqueueing does not depend on the handle.
pub(crate) trait Target {
    /// The time runs are enqueued at.
    fn now(&self) -> OffsetDateTime;
    /// How runs are built and checked.
    fn enqueuer(&self) -> Enqueuer<'_>;
    /// The limits a graph is checked against.
    fn dependency_limits(&self) -> model::DependencyLimits;
    /// Writes the runs and edges in one transaction.
    fn submit_runs(&self, runs: &[NewRun], edges: &[BatchEdge]) -> Result<Vec<model::Inserted>>;
}

/// A job's place in a [`Batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchRef(pub(crate) usize);

impl BatchRef {
    /// The job's position in its batch (0 for the first).
    ///
    /// ```
    /// # use runloom::{BatchRef, Job, JobContext, JobError, Perform, Scheduler};
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
    /// let refs: Vec<BatchRef> = (0..3).map(|n| batch.add(Step(n))).collect::<Result<_, _>>()?;
    /// assert_eq!(refs[1].position(), 1);
    /// let runs = batch.submit()?;
    /// let second = &runs[refs[1].position()]; // a job's run, by its place in the batch
    /// assert_eq!(scheduler.run(second.id)?.payload, "1");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn position(self) -> usize {
        self.0
    }
}

/// What a batch job can wait for: another job of the batch, or a run that exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Upstream {
    /// A job of the same batch.
    Job(BatchRef),
    /// A run already in the database.
    Run(model::RunId),
}

impl From<BatchRef> for Upstream {
    fn from(r: BatchRef) -> Self {
        Upstream::Job(r)
    }
}

impl From<model::RunId> for Upstream {
    fn from(r: model::RunId) -> Self {
        Upstream::Run(r)
    }
}

/// One edge of a batch: `downstream` waits for `upstream`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchEdge {
    pub(crate) downstream: BatchRef,
    pub(crate) upstream: Upstream,
    pub(crate) on_failure: model::OnUpstreamFailure,
}

impl Batch<'_> {
    /// Adds a job with its type's default options.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Resize(u32);
    /// # impl Perform for Resize {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Unregistered;
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Resize>()
    /// #     .start()?;
    /// let mut batch = scheduler.batch();
    /// let small = batch.add(Resize(320))?;
    /// let large = batch.add(Resize(1280))?;
    /// assert_eq!((small.position(), large.position()), (0, 1));
    /// assert!(batch.add(Unregistered).is_err(), "not a type this scheduler runs");
    /// assert_eq!(batch.len(), 2, "nothing added on error");
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`crate::Scheduler::enqueue`]; nothing is added on error.
    pub fn add<J: Job>(&mut self, job: J) -> Result<BatchRef> {
        self.add_with(job, EnqueueOptions::new())
    }

    /// Adds a job with options.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{EnqueueOptions, Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Resize(u32);
    /// # impl Perform for Resize {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Resize>()
    /// #     .start()?;
    /// let mut batch = scheduler.batch();
    /// batch.add_with(Resize(320), EnqueueOptions::new().priority(90))?; // the preview first
    /// batch.add_with(Resize(4096), EnqueueOptions::new().delay(Duration::from_secs(600)))?;
    /// let runs = batch.submit()?;
    /// assert_eq!(scheduler.run(runs[0].id)?.priority, 90);
    /// let later = scheduler.run(runs[1].id)?;
    /// assert!(later.scheduled_at > later.created_at + runloom::time::Duration::minutes(9));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`crate::Scheduler::enqueue_with`]; nothing is added on error.
    pub fn add_with<J: Job>(&mut self, job: J, opts: EnqueueOptions) -> Result<BatchRef> {
        let now = self.target.now();
        let run = self.target.enqueuer().run_for(&job, &opts, now)?;
        self.runs.push(run);
        Ok(BatchRef(self.runs.len() - 1))
    }

    /// `downstream` waits for `upstream` (a job of this batch or an existing run) and is
    /// cancelled if it fails.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler};
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
    /// let export = scheduler.enqueue(Step(1))?.id; // a run already in the database
    /// let mut batch = scheduler.batch();
    /// let compress = batch.add(Step(2))?;
    /// let upload = batch.add(Step(3))?;
    /// batch.depends_on(compress, export)?.depends_on(upload, compress)?;
    /// assert!(batch.depends_on(upload, upload).is_err(), "not on itself");
    /// let runs = batch.submit()?;
    /// assert_eq!(runs[1].status, RunStatus::Blocked);
    /// let uploaded = scheduler.wait(runs[1].id, Duration::from_secs(10))?;
    /// assert_eq!(uploaded.status, RunStatus::Completed);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidBatch`] when `downstream` or an upstream job is not in this
    /// batch, or the edge is a self-edge. Cycles and limits are checked by
    /// [`Batch::submit`].
    pub fn depends_on(
        &mut self,
        downstream: BatchRef,
        upstream: impl Into<Upstream>,
    ) -> Result<&mut Self> {
        self.depends_on_with(downstream, upstream, model::OnUpstreamFailure::Cancel)
    }

    /// Like [`Batch::depends_on`], choosing what `downstream` does if `upstream`
    /// fails: [`model::OnUpstreamFailure::Run`] runs it anyway.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::{Job, JobContext, JobError, OnUpstreamFailure, Perform, RunStatus};
    /// # use runloom::Scheduler;
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Step {
    ///     fail: bool,
    /// }
    /// impl Perform for Step {
    ///     type Output = ();
    ///     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    ///         if self.fail {
    ///             return Err(JobError::fail("broken"));
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Step>()
    /// #     .start()?;
    /// let mut batch = scheduler.batch();
    /// let build = batch.add(Step { fail: true })?;
    /// let cleanup = batch.add(Step { fail: false })?;
    /// let deploy = batch.add(Step { fail: false })?;
    /// batch.depends_on_with(cleanup, build, OnUpstreamFailure::Run)?; // runs anyway
    /// batch.depends_on(deploy, build)?; // cancelled with it
    /// let runs = batch.submit()?;
    /// let done = scheduler.wait_all(&[runs[1].id, runs[2].id], Duration::from_secs(10))?;
    /// assert_eq!(done[0].status, RunStatus::Completed);
    /// assert_eq!(done[1].status, RunStatus::Cancelled);
    /// assert_eq!(done[1].cancel_reason.as_deref(), Some(runloom::UPSTREAM_FAILED));
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Batch::depends_on`].
    pub fn depends_on_with(
        &mut self,
        downstream: BatchRef,
        upstream: impl Into<Upstream>,
        on_failure: model::OnUpstreamFailure,
    ) -> Result<&mut Self> {
        let upstream = upstream.into();
        let n = self.runs.len();
        let check = |r: BatchRef, what: &str| {
            if r.0 >= n {
                Err(Error::InvalidBatch {
                    position: r.0,
                    reason: format!("{what} job {} is not in this batch ({n} jobs)", r.0),
                })
            } else {
                Ok(())
            }
        };
        check(downstream, "downstream")?;
        if let Upstream::Job(u) = upstream {
            check(u, "upstream")?;
            if u == downstream {
                return Err(Error::InvalidBatch {
                    position: downstream.0,
                    reason: "a job cannot depend on itself".into(),
                });
            }
        }
        self.edges.push(BatchEdge {
            downstream,
            upstream,
            on_failure,
        });
        Ok(self)
    }

    /// How many jobs the batch holds.
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
    /// assert_eq!(batch.len(), 0);
    /// batch.add(Step(1))?;
    /// batch.add(Step(2))?;
    /// assert_eq!(batch.len(), 2);
    /// assert_eq!(batch.submit()?.len(), 2);
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// True when the batch holds no job.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct Email(String);
    /// # impl Perform for Email {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let scheduler = Scheduler::builder()
    /// #     .database(dir.path().join("jobs.db"))
    /// #     .register::<Email>()
    /// #     .start()?;
    /// let subscribers: Vec<String> = Vec::new(); // nobody this week
    /// let mut batch = scheduler.batch();
    /// for to in subscribers {
    ///     batch.add(Email(to))?;
    /// }
    /// assert!(batch.is_empty());
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Enqueues every job and edge in one transaction. The returned runs are in the
    /// order the jobs were added, each with its status (`blocked` while it waits).
    ///
    /// ```
    /// # use runloom::{Error, Job, JobContext, JobError, Perform, RunStatus, Scheduler};
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
    /// let mut cycle = scheduler.batch();
    /// let (a, b) = (cycle.add(Step(1))?, cycle.add(Step(2))?);
    /// cycle.depends_on(a, b)?.depends_on(b, a)?;
    /// assert!(matches!(cycle.submit(), Err(Error::InvalidBatch { .. })));
    /// assert_eq!(scheduler.stats()?.counts.total(), 0, "nothing was enqueued");
    ///
    /// let mut chain = scheduler.batch();
    /// let (a, b) = (chain.add(Step(1))?, chain.add(Step(2))?);
    /// chain.depends_on(b, a)?;
    /// let runs = chain.submit()?;
    /// assert_eq!(runs[1].status, RunStatus::Blocked);
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidBatch`] for a cycle among the batch's jobs;
    /// [`Error::DependencyLimit`] for a batch or a fan-in over the configured limits;
    /// [`Error::UnknownDependency`] for an upstream run that does not exist;
    /// [`Error::DependencyCycle`] for an edge onto an existing run (through a unique
    /// key) that closes a cycle; database errors. On error nothing was enqueued.
    pub fn submit(self) -> Result<Vec<model::Inserted>> {
        let limits = self.target.dependency_limits();
        check_graph(self.runs.len(), &self.edges, &limits)?;
        self.target.submit_runs(&self.runs, &self.edges)
    }
}

/// Checks a batch's own graph before anything is written: size, fan-in, and that the
/// edges among its jobs form no cycle (Kahn's algorithm, linear in the graph).
pub(crate) fn check_graph(
    n: usize,
    edges: &[BatchEdge],
    limits: &model::DependencyLimits,
) -> Result<()> {
    for (what, size) in [("graph size", n), ("graph size", edges.len())] {
        if size > limits.max_graph_size {
            return Err(Error::DependencyLimit {
                limit: what,
                max: limits.max_graph_size,
                actual: size,
            });
        }
    }
    let mut fan_in = vec![0usize; n];
    let mut seen = std::collections::HashSet::new();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting = vec![0usize; n];
    for e in edges {
        if !seen.insert((e.downstream, e.upstream)) {
            continue;
        }
        fan_in[e.downstream.0] += 1;
        if let Upstream::Job(u) = e.upstream {
            dependents[u.0].push(e.downstream.0);
            waiting[e.downstream.0] += 1;
        }
    }
    if let Some((_, &actual)) = fan_in
        .iter()
        .enumerate()
        .find(|(_, c)| **c > limits.max_fan_in)
    {
        return Err(Error::DependencyLimit {
            limit: "fan-in",
            max: limits.max_fan_in,
            actual,
        });
    }
    let mut ready: Vec<usize> = (0..n).filter(|i| waiting[*i] == 0).collect();
    let mut done = 0;
    while let Some(i) = ready.pop() {
        done += 1;
        for &d in &dependents[i] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d);
            }
        }
    }
    if done < n {
        // Every job left still waits on another job left: follow upstream edges from
        // one of them until a job repeats, which names the cycle.
        let left: std::collections::HashSet<usize> = (0..n).filter(|i| waiting[*i] > 0).collect();
        let upstream_of = |j: usize| {
            edges.iter().find_map(|e| match e.upstream {
                Upstream::Job(u) if e.downstream.0 == j && left.contains(&u.0) => Some(u.0),
                _ => None,
            })
        };
        let mut path = Vec::new();
        let mut j = left.iter().copied().min().unwrap_or(0);
        while !path.contains(&j) {
            path.push(j);
            match upstream_of(j) {
                Some(u) => j = u,
                None => break,
            }
        }
        let from = path.iter().position(|p| *p == j).unwrap_or(0);
        let mut cycle: Vec<String> = path[from..].iter().map(ToString::to_string).collect();
        cycle.push(j.to_string());
        return Err(Error::InvalidBatch {
            position: j,
            reason: format!(
                "dependency cycle among batch jobs {}",
                cycle.join(" waits for ")
            ),
        });
    }
    Ok(())
}
