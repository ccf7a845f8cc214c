//! ① Enqueue: turning a job (or a job type name and a JSON payload) into a run, with its
//! options resolved and every input checked before anything is written.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{
    clock::{add_ms, to_ms},
    error::{Error, Result},
    job::{Job, JobOptions, registry::Registry},
    store::{self, NewRun},
};

/// Options of one enqueue; each overrides the job type's default.
///
/// ```
/// use std::time::Duration;
/// use scheduler::EnqueueOptions;
///
/// let opts = EnqueueOptions::new()
///     .delay(Duration::from_secs(60))
///     .priority(50)
///     .max_attempts(10)
///     .unique_key("invoice-2026-001");
/// # let _ = opts;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Due at `at` (at once if `at` is in the past).
    #[must_use]
    pub fn at(mut self, at: OffsetDateTime) -> Self {
        self.at = Some(at);
        self
    }

    /// Due after `delay`.
    #[must_use]
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Priority 0 to 100 (higher first).
    #[must_use]
    pub fn priority(mut self, priority: u8) -> Self {
        self.job.priority = Some(priority);
        self
    }

    /// Attempts before the run fails for good (1 to 1000).
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.job.max_attempts = Some(n);
        self
    }

    /// How long one attempt may run.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.job.timeout = Some(timeout);
        self
    }

    /// Base of the exponential backoff between attempts.
    #[must_use]
    pub fn backoff(mut self, backoff: Duration) -> Self {
        self.job.backoff = Some(backoff);
        self
    }

    /// The unique key.
    #[must_use]
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }
}

/// What enqueueing needs to know about the scheduler.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Enqueuer<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) max_payload_bytes: usize,
    pub(crate) allow_foreign: bool,
}

impl Enqueuer<'_> {
    /// The run for a typed job.
    pub(crate) fn prepare<J: Job>(
        &self,
        job: &J,
        opts: &EnqueueOptions,
        now: OffsetDateTime,
    ) -> Result<NewRun> {
        if !self.registry.contains(J::NAME) {
            return Err(Error::UnknownJobType(J::NAME.to_owned()));
        }
        let payload = serde_json::to_string(job).map_err(|e| Error::Payload {
            job_type: J::NAME.to_owned(),
            detail: e.to_string(),
        })?;
        let unique = opts.unique_key.clone().or_else(|| job.unique_key());
        self.build(J::NAME, payload, J::options(), unique, opts, now)
    }

    /// The run for a job type named at run time with a JSON payload (the CLI, other
    /// binaries). The payload must decode into the registered type; a foreign type (when
    /// allowed) only needs valid JSON.
    pub(crate) fn prepare_json(
        &self,
        job_type: &str,
        payload: &str,
        opts: &EnqueueOptions,
        now: OffsetDateTime,
    ) -> Result<NewRun> {
        store::validate_name("job type", job_type)?;
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
        opts.job.validate()?;
        let options = opts.job.or(defaults);
        let scheduled_at = match (opts.at, opts.delay) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid("delay", "give a time or a delay, not both"));
            }
            (Some(at), None) => at,
            (None, Some(delay)) => crate::clock::from_ms(add_ms("delay", to_ms(now), delay)?)?,
            (None, None) => now,
        };
        let mut run = NewRun::new(job_type, payload, scheduled_at);
        run.priority = options.priority.unwrap_or(0);
        run.max_attempts = options.max_attempts.unwrap_or(store::DEFAULT_MAX_ATTEMPTS);
        run.timeout = options.timeout;
        run.backoff = options.backoff.unwrap_or(store::DEFAULT_BACKOFF);
        run.unique_key = unique_key;
        run.validate()?;
        Ok(run)
    }
}

/// Several jobs enqueued in one transaction: all of them or none. Built with
/// [`crate::Scheduler::batch`].
#[derive(Debug)]
pub struct Batch<'s> {
    pub(crate) scheduler: &'s crate::Scheduler,
    pub(crate) runs: Vec<NewRun>,
}

/// A job's place in a [`Batch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BatchRef(pub(crate) usize);

impl Batch<'_> {
    /// Adds a job with its type's default options.
    ///
    /// # Errors
    /// As [`crate::Scheduler::enqueue`]; nothing is added on error.
    pub fn add<J: Job>(&mut self, job: J) -> Result<BatchRef> {
        self.add_with(job, EnqueueOptions::new())
    }

    /// Adds a job with options.
    ///
    /// # Errors
    /// As [`crate::Scheduler::enqueue_with`]; nothing is added on error.
    pub fn add_with<J: Job>(&mut self, job: J, opts: EnqueueOptions) -> Result<BatchRef> {
        let now = self.scheduler.now();
        let run = self.scheduler.enqueuer().prepare(&job, &opts, now)?;
        self.runs.push(run);
        Ok(BatchRef(self.runs.len() - 1))
    }

    /// How many jobs the batch holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// True when the batch holds no job.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Enqueues every job in one transaction.
    ///
    /// # Errors
    /// Database errors; on error nothing was enqueued.
    pub fn submit(self) -> Result<Vec<store::Inserted>> {
        self.scheduler.submit_runs(&self.runs)
    }
}
