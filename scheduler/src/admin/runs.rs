//! Runs through the operator's eyes: reading them with everything around them, and the
//! actions on them (cancel, retry one or many, enqueue by name).

use super::Admin;
use crate::{
    backend::Reads,
    config::DEFAULT_MAX_PAYLOAD_BYTES,
    enqueue::{EnqueueOptions, Enqueuer},
    error::{Error, Result},
    job::registry::Registry,
    model::{
        CancelOutcome, DependencyEdge, Inserted, Lease, Run, RunFilter, RunId, RunStatus, Worker,
    },
};

/// One run with everything an operator looks at, read in one snapshot.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RunDetails {
    /// The run, with every recorded attempt error.
    pub run: Run,
    /// The name of the task (schedule) it came from, if any.
    pub task_name: Option<String>,
    /// Its lease, while a worker holds one.
    pub lease: Option<Lease>,
    /// The worker holding (or that last held) it, if its row still exists.
    pub worker: Option<Worker>,
    /// The runs it waits for.
    pub upstream: Vec<Dependency>,
    /// The runs waiting for it.
    pub downstream: Vec<Dependency>,
}

/// A dependency edge with the run at its other end.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Dependency {
    /// The edge, with both ends' statuses.
    pub edge: DependencyEdge,
    /// The run at the other end (`None` once it was archived or deleted).
    pub other: Option<Run>,
}

/// What [`Admin::retry_where`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RetryReport {
    /// Runs put back, in the order they were.
    pub retried: Vec<RunId>,
    /// Runs that matched but were refused, each with the reason (an upstream still
    /// failed, a unique key taken meanwhile, a run no longer failed or cancelled).
    pub refused: Vec<(RunId, Error)>,
}

impl Admin {
    /// A run by id.
    ///
    /// ```
    /// # use runloom::{EnqueueOptions, RunId, RunStatus};
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// let id = admin.enqueue_json_any_type("report", r#"{"day":1}"#, &EnqueueOptions::new())?.id;
    /// let run = admin.run(id)?;
    /// assert_eq!((run.job_type.as_str(), run.status), ("report", RunStatus::Pending));
    /// assert!(admin.run(RunId::new(9999)).is_err_and(|e| e.is_not_found()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; database errors.
    pub fn run(&self, id: RunId) -> Result<Run> {
        self.store.read(|tx| tx.get_run(id))
    }

    /// Runs matching a filter, newest first, at most `filter.limit`; page on with
    /// `filter.before_id` set to the last id seen.
    ///
    /// ```
    /// # use runloom::{EnqueueOptions, RunFilter};
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// for day in 1..=3 {
    ///     let payload = format!(r#"{{"day":{day}}}"#);
    ///     admin.enqueue_json_any_type("report", &payload, &EnqueueOptions::new())?;
    /// }
    /// let page = admin.runs(&RunFilter::new().job_type("report").limit(2))?;
    /// assert_eq!(page.len(), 2);
    /// assert_eq!(page[0].payload, r#"{"day":3}"#, "newest first");
    /// let mut next = RunFilter::new().job_type("report").limit(2);
    /// next.before_id = Some(page[1].id);
    /// assert_eq!(admin.runs(&next)?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        self.store.read(|tx| tx.list_runs(filter))
    }

    /// A run with its task's name, lease, worker and dependencies, in one snapshot.
    ///
    /// ```
    /// # use runloom::{Admin, RunId};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # runloom::Scheduler::builder().database(&path).start()?.shutdown(std::time::Duration::from_secs(5))?;
    /// let admin = Admin::open(&path)?;
    /// assert!(admin.run_details(RunId::new(42)).is_err_and(|e| e.is_not_found()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; database errors.
    pub fn run_details(&self, id: RunId) -> Result<RunDetails> {
        self.store.read(|tx| {
            let run = tx.get_run(id)?;
            let task_name = match run.task_id {
                Some(t) => tx.find_task(t)?.map(|task| task.name),
                None => None,
            };
            let lease = tx.lease_of(id)?;
            let worker = match lease.map(|l| l.worker_id).or(run.worker_id) {
                Some(w) => tx.find_worker(w)?,
                None => None,
            };
            let upstream = with_runs(tx, tx.upstream_of(id)?, true)?;
            let downstream = with_runs(tx, tx.downstream_of(id)?, false)?;
            Ok(RunDetails {
                run,
                task_name,
                lease,
                worker,
                upstream,
                downstream,
            })
        })
    }

    /// Every edge of the dependency graph around a run: its ancestors' and
    /// descendants' edges, with the status of both ends.
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
    /// let (a, b) = (batch.add(Step(1))?, batch.add(Step(2))?);
    /// batch.depends_on(b, a)?;
    /// let runs = batch.submit()?;
    /// let edges = scheduler.admin().dependency_graph(runs[0].id)?;
    /// assert_eq!(edges.len(), 1);
    /// assert_eq!((edges[0].upstream, edges[0].downstream), (runs[0].id, runs[1].id));
    /// # scheduler.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn dependency_graph(&self, run: RunId) -> Result<Vec<DependencyEdge>> {
        self.store.read(|tx| tx.dependency_graph(run))
    }

    /// Cancels a run with `reason`: a blocked or pending run at once, with the runs
    /// that depend on it (the cascade is written in short transactions before this
    /// returns); a running one is asked to stop (its holder sees it at its next
    /// heartbeat, in whatever process it runs).
    ///
    /// ```
    /// # use runloom::{CancelOutcome, EnqueueOptions, RunStatus};
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// let payload = r#"{"order":42}"#;
    /// let id = admin.enqueue_json_any_type("charge", payload, &EnqueueOptions::new())?.id;
    /// assert_eq!(admin.cancel(id, "duplicate order")?, CancelOutcome::Cancelled);
    /// let run = admin.run(id)?;
    /// assert_eq!(run.status, RunStatus::Cancelled);
    /// assert_eq!(run.cancel_reason.as_deref(), Some("duplicate order"));
    /// assert!(admin.cancel(id, "again").is_err(), "it already finished");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; [`Error::InvalidRunState`] when it already finished;
    /// [`Error::InvalidArgument`] for an empty or oversized reason; database errors.
    pub fn cancel(&self, run: RunId, reason: &str) -> Result<CancelOutcome> {
        let outcome = self.cancel_unsettled(run, reason)?;
        self.settle()?;
        Ok(outcome)
    }

    /// [`Admin::cancel`] leaving the cascade to whoever settles next (a running
    /// scheduler's dispatcher does it in its own transactions).
    pub(crate) fn cancel_unsettled(&self, run: RunId, reason: &str) -> Result<CancelOutcome> {
        let now = self.clock.now();
        self.store.write(|tx| tx.cancel_run(run, reason, now))
    }

    /// Writes the queued consequences of cancellations and failures (dependents to
    /// cancel or release), one short transaction at a time, so no other process waits
    /// long for the write lock.
    fn settle(&self) -> Result<()> {
        let now = self.clock.now();
        while self.store.write(|tx| tx.settle_queued(now))? {}
        Ok(())
    }

    /// Puts a failed or cancelled run back, due now, with one more attempt (`blocked`
    /// again while an upstream has not finished); the run as it is after.
    ///
    /// ```
    /// # use runloom::{EnqueueOptions, RunStatus};
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// let payload = r#"{"order":42}"#;
    /// let id = admin.enqueue_json_any_type("charge", payload, &EnqueueOptions::new())?.id;
    /// admin.cancel(id, "by mistake")?;
    /// let run = admin.retry(id)?;
    /// assert_eq!(run.status, RunStatus::Pending);
    /// assert!(admin.retry(id).is_err(), "only failed or cancelled runs");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::RunNotFound`]; [`Error::InvalidRunState`];
    /// [`Error::UpstreamNotRetried`] while an upstream whose failure cancels it stays
    /// failed or cancelled; [`Error::UniqueKeyTaken`]; database errors.
    pub fn retry(&self, run: RunId) -> Result<Run> {
        let now = self.clock.now();
        self.store.write(|tx| {
            tx.retry_run(run, now)?;
            tx.get_run(run)
        })
    }

    /// Retries every failed or cancelled run that `filter` selects (a filter on
    /// another status is refused), at most `filter.limit` of them, each in its own
    /// short transaction. Upstream runs are put back before the runs that wait for
    /// them, whatever their order in the listing.
    ///
    /// ```
    /// # use runloom::{Admin, RunFilter, RunStatus};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # runloom::Scheduler::builder().database(&path).start()?.shutdown(std::time::Duration::from_secs(5))?;
    /// let admin = Admin::open(&path)?;
    /// let report = admin.retry_where(&RunFilter::new().job_type("send_email").limit(500))?;
    /// assert!(report.retried.is_empty() && report.refused.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a status other than failed or cancelled, or a
    /// limit of 0; database errors (runs retried before one stay retried).
    pub fn retry_where(&self, filter: &RunFilter) -> Result<RetryReport> {
        if filter.limit == 0 {
            return Err(Error::invalid("limit", "retry at least one run"));
        }
        let statuses = match filter.status {
            None => vec![RunStatus::Failed, RunStatus::Cancelled],
            Some(s @ (RunStatus::Failed | RunStatus::Cancelled)) => vec![s],
            Some(other) => {
                return Err(Error::invalid(
                    "status",
                    format!("only failed or cancelled runs can be retried, not {other}"),
                ));
            }
        };
        let mut candidates: Vec<RunId> = self.store.read(|tx| {
            let mut ids = Vec::new();
            for status in statuses {
                let mut f = filter.clone();
                f.status = Some(status);
                ids.extend(tx.list_runs(&f)?.into_iter().map(|r| r.id));
            }
            Ok(ids)
        })?;
        // Newest first, like the listing, and no more than asked for.
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        candidates.truncate(filter.limit as usize);
        candidates.reverse();

        let mut report = RetryReport::default();
        // A run whose upstream is in the set waits for that one's pass: repeat while a
        // pass puts something back.
        let mut waiting = candidates;
        loop {
            let mut next = Vec::new();
            let before = report.retried.len();
            for id in waiting {
                match self.retry(id) {
                    Ok(_) => report.retried.push(id),
                    Err(Error::UpstreamNotRetried { .. }) => next.push(id),
                    Err(e) if e.is_database() => return Err(e),
                    Err(e) => report.refused.push((id, e)),
                }
            }
            if next.is_empty() || report.retried.len() == before {
                for id in next {
                    match self.retry(id) {
                        Ok(_) => report.retried.push(id),
                        Err(e) if e.is_database() => return Err(e),
                        Err(e) => report.refused.push((id, e)),
                    }
                }
                break;
            }
            waiting = next;
        }
        Ok(report)
    }

    /// The job types that the hosts sharing the database have registered.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct SendEmail;
    /// # impl Perform for SendEmail {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// // A host that runs `send_email` used the database.
    /// let host = Scheduler::builder().database(&path).register::<SendEmail>().start()?;
    /// host.shutdown(std::time::Duration::from_secs(5))?;
    ///
    /// let admin = runloom::Admin::open(&path)?;
    /// assert_eq!(admin.job_types()?, ["send_email"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Database errors.
    pub fn job_types(&self) -> Result<Vec<String>> {
        self.store.read(|tx| tx.registered_job_types())
    }

    /// Enqueues a run of `job_type`, a type some host sharing the database registers,
    /// with its payload as JSON. This handle does not have the job's code: the payload
    /// is checked as JSON and against the shape the hosts registering the type recorded
    /// at their start ([`crate::PayloadShape`], when its type states one), and the
    /// type's default options (`#[job(priority = …)]` and the rest) apply as recorded,
    /// with `opts` overriding them.
    ///
    /// ```
    /// # use runloom::{EnqueueOptions, Error, Job, JobContext, JobError, Perform, Scheduler};
    /// # use serde::{Deserialize, Serialize};
    /// # #[derive(Serialize, Deserialize, Job)]
    /// # struct SendEmail {
    /// #     to: String,
    /// # }
    /// # impl Perform for SendEmail {
    /// #     type Output = ();
    /// #     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    /// #         Ok(())
    /// #     }
    /// # }
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("jobs.db");
    /// # let host = Scheduler::builder().database(&path).register::<SendEmail>().start()?;
    /// # host.shutdown(std::time::Duration::from_secs(5))?;
    /// // A host registers `send_email`; no host runs `send_sms`.
    /// let admin = runloom::Admin::open(&path)?;
    /// let payload = r#"{"to":"ann@example.com"}"#;
    /// let inserted = admin.enqueue_json("send_email", payload, &EnqueueOptions::new())?;
    /// assert!(inserted.created);
    /// let refused = admin.enqueue_json("send_sms", payload, &EnqueueOptions::new());
    /// assert!(matches!(refused, Err(Error::UnknownJobType(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownJobType`] when no host has registered it; [`Error::Payload`] for
    /// text that is not JSON or not of the recorded shape; [`Error::PayloadTooLarge`]; [`Error::InvalidArgument`]
    /// for an option out of range; database errors. Nothing is written on error.
    pub fn enqueue_json(
        &self,
        job_type: &str,
        payload: &str,
        opts: &EnqueueOptions,
    ) -> Result<Inserted> {
        self.insert_json(job_type, payload, opts, true)
    }

    /// [`Admin::enqueue_json`] for a job type no host has registered (yet): its run
    /// waits until one does.
    ///
    /// ```
    /// # use runloom::{EnqueueOptions, RunStatus};
    /// # let dir = tempfile::tempdir()?;
    /// # let admin = runloom::Admin::builder(dir.path().join("jobs.db")).create()?;
    /// # admin.migrate_up(None, false)?;
    /// // No host has registered `resize_image` yet: the run waits for one that does.
    /// let opts = EnqueueOptions::new().priority(80);
    /// let id = admin.enqueue_json_any_type("resize_image", r#"{"id":7}"#, &opts)?.id;
    /// let run = admin.run(id)?;
    /// assert_eq!((run.status, run.priority), (RunStatus::Pending, 80));
    /// assert!(admin.enqueue_json_any_type("resize_image", "{oops", &opts).is_err(), "not JSON");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Admin::enqueue_json`], without [`Error::UnknownJobType`].
    pub fn enqueue_json_any_type(
        &self,
        job_type: &str,
        payload: &str,
        opts: &EnqueueOptions,
    ) -> Result<Inserted> {
        self.insert_json(job_type, payload, opts, false)
    }

    fn insert_json(
        &self,
        job_type: &str,
        payload: &str,
        opts: &EnqueueOptions,
        registered_only: bool,
    ) -> Result<Inserted> {
        let registry = Registry::default();
        let enqueuer = Enqueuer {
            registry: &registry,
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            allow_foreign: true,
        };
        let now = self.clock.now();
        // Built inside the transaction, with the defaults it reads: a refusal rolls it
        // back, so nothing is written.
        self.store.write(|tx| {
            if registered_only && !tx.registered_job_types()?.iter().any(|t| t == job_type) {
                return Err(Error::UnknownJobType(job_type.to_owned()));
            }
            // The type's `#[job]` defaults, as the hosts registering it recorded them.
            let recorded = tx.get_state(crate::backend::rules::JOB_DEFAULTS)?;
            let (defaults, shape) =
                crate::backend::rules::job_defaults_of(recorded.as_deref(), job_type);
            if let Some(shape) = shape {
                // Valid JSON already (checked above).
                let value: serde_json::Value =
                    serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
                shape.check(&value).map_err(|detail| Error::Payload {
                    job_type: job_type.to_owned(),
                    detail: format!("{detail} (the job type's recorded shape)"),
                })?;
            }
            let run = enqueuer.run_for_recorded(job_type, payload, defaults, opts, now)?;
            tx.insert_run(&run, now)
        })
    }
}

/// Each edge with the run at its other end (`upstream`: the run waited for).
fn with_runs(
    tx: &dyn Reads,
    edges: Vec<DependencyEdge>,
    upstream: bool,
) -> Result<Vec<Dependency>> {
    edges
        .into_iter()
        .map(|edge| {
            let other = if upstream {
                edge.upstream
            } else {
                edge.downstream
            };
            Ok(Dependency {
                other: tx.find_run(other)?,
                edge,
            })
        })
        .collect()
}
