//! Options of a run: defaults per job type, overridable per enqueue.

use std::{borrow::Cow, time::Duration};

use super::{MAX_ATTEMPTS, MAX_PRIORITY, ValueError};

/// Options of runs: priority, attempts, timeout, backoff and queue. Each field left
/// `None` falls back to the next level: enqueue options, then the job type's
/// [`crate::Job::options`], then the scheduler's defaults (priority 0, 3 attempts, no
/// timeout, 1 s backoff base, the [`crate::DEFAULT_QUEUE`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobOptions {
    /// 0 to 100; higher runs first.
    pub priority: Option<u8>,
    /// 1 to 1000 attempts before the run fails for good.
    pub max_attempts: Option<u32>,
    /// How long one attempt may run before it fails as a timeout.
    pub timeout: Option<Duration>,
    /// Base of the exponential backoff: attempt `n` waits about `backoff × 2^(n-1)`.
    pub backoff: Option<Duration>,
    /// The queue runs wait in (see [`crate::SchedulerBuilder::queue`]).
    pub queue: Option<Cow<'static, str>>,
}

impl JobOptions {
    /// No option set: everything falls back to the defaults.
    ///
    /// ```
    /// use runloom::JobOptions;
    ///
    /// const DEFAULTS: JobOptions = JobOptions::new(); // usable in constants
    /// assert_eq!(DEFAULTS, JobOptions::default());
    /// assert!(DEFAULTS.priority.is_none() && DEFAULTS.max_attempts.is_none());
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        JobOptions {
            priority: None,
            max_attempts: None,
            timeout: None,
            backoff: None,
            queue: None,
        }
    }

    /// Sets the priority (0 to 100, higher first).
    ///
    /// ```
    /// use runloom::{Job, JobOptions};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Alert;
    /// impl Job for Alert {
    ///     const NAME: &'static str = "alert";
    ///     fn options() -> JobOptions {
    ///         JobOptions::new().priority(90)
    ///     }
    /// }
    /// assert_eq!(Alert::options().priority, Some(90));
    /// ```
    #[must_use]
    pub const fn priority(mut self, priority: u8) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Sets the attempts (1 to 1000).
    ///
    /// ```
    /// use runloom::JobOptions;
    ///
    /// let opts = JobOptions::new().max_attempts(10);
    /// assert_eq!(opts.max_attempts, Some(10));
    /// assert!(JobOptions::new().max_attempts(0).validate().is_err(), "at least one");
    /// ```
    #[must_use]
    pub const fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Sets the timeout of one attempt.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::JobOptions;
    ///
    /// let opts = JobOptions::new().timeout(Duration::from_secs(30));
    /// assert_eq!(opts.timeout, Some(Duration::from_secs(30)));
    /// assert!(JobOptions::new().timeout(Duration::ZERO).validate().is_err());
    /// ```
    #[must_use]
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the backoff base.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::JobOptions;
    ///
    /// let opts = JobOptions::new().backoff(Duration::from_secs(5)); // then ~10 s, ~20 s ...
    /// assert_eq!(opts.backoff, Some(Duration::from_secs(5)));
    /// ```
    #[must_use]
    pub const fn backoff(mut self, backoff: Duration) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Sets the queue runs wait in: a process runs only the queues it lists
    /// ([`crate::SchedulerBuilder::queue`]).
    ///
    /// ```
    /// use runloom::JobOptions;
    ///
    /// let opts = JobOptions::new().queue("mail");
    /// assert_eq!(opts.queue.as_deref(), Some("mail"));
    /// assert!(JobOptions::new().queue("no spaces").validate().is_err());
    /// ```
    #[must_use]
    pub fn queue(mut self, queue: impl Into<Cow<'static, str>>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// These options, with unset fields taken from `fallback`.
    ///
    /// ```
    /// use runloom::JobOptions;
    ///
    /// let defaults = JobOptions::new().priority(10).max_attempts(5);
    /// let chosen = JobOptions::new().priority(90).or(defaults);
    /// assert_eq!(chosen.priority, Some(90), "set here");
    /// assert_eq!(chosen.max_attempts, Some(5), "from the fallback");
    /// assert_eq!(chosen.timeout, None, "set nowhere");
    /// ```
    #[must_use]
    pub fn or(self, fallback: JobOptions) -> JobOptions {
        JobOptions {
            priority: self.priority.or(fallback.priority),
            max_attempts: self.max_attempts.or(fallback.max_attempts),
            timeout: self.timeout.or(fallback.timeout),
            backoff: self.backoff.or(fallback.backoff),
            queue: self.queue.or(fallback.queue),
        }
    }

    /// Checks the values that are set, naming the first bad one.
    ///
    /// ```
    /// use runloom::{JobOptions, ValueError};
    ///
    /// assert!(JobOptions::new().priority(100).max_attempts(1000).validate().is_ok());
    /// let err = JobOptions::new().priority(101).validate();
    /// assert!(matches!(err, Err(ValueError::Invalid { name: "priority", .. })));
    /// ```
    ///
    /// # Errors
    /// [`ValueError::Invalid`] for a priority above 100, attempts outside
    /// 1 to 1000, a zero timeout, or a duration too large to store.
    pub fn validate(&self) -> Result<(), ValueError> {
        if let Some(p) = self.priority {
            super::validate_priority(p)?;
        }
        if let Some(n) = self.max_attempts {
            super::validate_attempts(n)?;
        }
        super::validate_timeout(self.timeout)?;
        if let Some(b) = self.backoff {
            super::time::duration_ms("backoff", b)?;
        }
        if let Some(q) = &self.queue {
            super::validate_queue(q)?;
        }
        Ok(())
    }

    /// The most attempts a run may have.
    pub const MAX_ATTEMPTS: u32 = MAX_ATTEMPTS;
    /// The highest priority.
    pub const MAX_PRIORITY: u8 = MAX_PRIORITY;

    /// Every option with a value: unset ones take the scheduler's defaults (priority 0,
    /// [`super::DEFAULT_MAX_ATTEMPTS`] attempts, no timeout,
    /// [`super::DEFAULT_BACKOFF`]). The one place the defaults are filled in, for runs
    /// and task definitions alike.
    pub(crate) fn settled(self) -> Settled {
        Settled {
            priority: self.priority.unwrap_or(0),
            max_attempts: self.max_attempts.unwrap_or(super::DEFAULT_MAX_ATTEMPTS),
            timeout: self.timeout,
            backoff: self.backoff.unwrap_or(super::DEFAULT_BACKOFF),
            queue: self
                .queue
                .map_or_else(|| super::DEFAULT_QUEUE.to_owned(), Cow::into_owned),
        }
    }
}

/// [`JobOptions`] with every default filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Settled {
    pub(crate) priority: u8,
    pub(crate) max_attempts: u32,
    pub(crate) timeout: Option<Duration>,
    pub(crate) backoff: Duration,
    pub(crate) queue: String,
}

/// The four job option setters of a type that holds [`JobOptions`] in its `job` field
/// ([`crate::EnqueueOptions`], [`crate::ScheduleSpec`]), written once: each sets the
/// option in `job` as [`JobOptions`]'s own setter does. (The types are `#[must_use]`,
/// so a setter whose result is dropped is flagged.)
macro_rules! job_option_setters {
    ($ty:ty) => {
        impl $ty {
            /// Priority 0 to 100 (higher runs first); overrides the job type's.
            ///
            /// ```
            /// use runloom::{EnqueueOptions, ScheduleSpec};
            ///
            /// let opts = EnqueueOptions::new().priority(90);
            /// assert_eq!(opts.job.priority, Some(90));
            /// let spec = ScheduleSpec::cron("0 * * * *").priority(90);
            /// assert_eq!(spec.job.priority, Some(90));
            /// ```
            pub fn priority(mut self, priority: u8) -> Self {
                self.job = self.job.priority(priority);
                self
            }

            /// Attempts before a run fails for good (1 to 1000); overrides the job
            /// type's.
            ///
            /// ```
            /// use runloom::{EnqueueOptions, ScheduleSpec};
            ///
            /// let opts = EnqueueOptions::new().max_attempts(10);
            /// assert_eq!(opts.job.max_attempts, Some(10));
            /// let spec = ScheduleSpec::cron("0 * * * *").max_attempts(10);
            /// assert_eq!(spec.job.max_attempts, Some(10));
            /// ```
            pub fn max_attempts(mut self, attempts: u32) -> Self {
                self.job = self.job.max_attempts(attempts);
                self
            }

            /// How long one attempt may run before it fails as a timeout; overrides the
            /// job type's.
            ///
            /// ```
            /// use std::time::Duration;
            /// use runloom::{EnqueueOptions, ScheduleSpec};
            ///
            /// let opts = EnqueueOptions::new().timeout(Duration::from_secs(30));
            /// assert_eq!(opts.job.timeout, Some(Duration::from_secs(30)));
            /// let spec = ScheduleSpec::cron("0 * * * *").timeout(Duration::from_secs(30));
            /// assert_eq!(spec.job.timeout, Some(Duration::from_secs(30)));
            /// ```
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.job = self.job.timeout(timeout);
                self
            }

            /// Base of the exponential backoff between attempts; overrides the job
            /// type's.
            ///
            /// ```
            /// use std::time::Duration;
            /// use runloom::{EnqueueOptions, ScheduleSpec};
            ///
            /// let opts = EnqueueOptions::new().backoff(Duration::from_secs(5));
            /// assert_eq!(opts.job.backoff, Some(Duration::from_secs(5)));
            /// let spec = ScheduleSpec::cron("0 * * * *").backoff(Duration::from_secs(5));
            /// assert_eq!(spec.job.backoff, Some(Duration::from_secs(5)));
            /// ```
            pub fn backoff(mut self, backoff: std::time::Duration) -> Self {
                self.job = self.job.backoff(backoff);
                self
            }

            /// The queue the runs wait in; overrides the job type's.
            ///
            /// ```
            /// use runloom::{EnqueueOptions, ScheduleSpec};
            ///
            /// let opts = EnqueueOptions::new().queue("reports");
            /// assert_eq!(opts.job.queue.as_deref(), Some("reports"));
            /// let spec = ScheduleSpec::cron("0 * * * *").queue("reports");
            /// assert_eq!(spec.job.queue.as_deref(), Some("reports"));
            /// ```
            pub fn queue(mut self, queue: impl Into<String>) -> Self {
                self.job = self.job.queue(queue.into());
                self
            }
        }
    };
}
pub(crate) use job_option_setters;
