//! One job's `perform`, inline: the context a test builds, and what the job did.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use serde::Serialize;

use crate::{
    Job, JobError, Perform,
    backend::Backend,
    clock::{Clock, SystemClock},
    config::DEFAULT_MAX_PAYLOAD_BYTES,
    error::{Error, Result},
    events::Events,
    inflight::{Attempt, CancelFlag, CancelReason, InFlight},
    job::{
        JobContext,
        context::{Execution, Inline},
        registry::Registry,
        state::AppState,
    },
    metrics::Stats,
    model::{NewRun, Run, RunId},
    store::{Store, StoreOptions},
};

/// The context of one inline `perform`: which attempt it is, the application state, the
/// upstream runs' results, the database `ctx.transaction` writes to, whether the job is
/// asked to stop.
///
/// ```
/// use runloom::{Job, JobContext, JobError, Perform, testing::TestContext};
/// use serde::{Deserialize, Serialize};
///
/// struct Prices {
///     cents_per_unit: i64,
/// }
///
/// #[derive(Serialize, Deserialize, Job)]
/// #[job(state = "Prices")]
/// struct Invoice {
///     units: i64,
/// }
///
/// #[derive(Serialize, Deserialize, Job, PartialEq, Debug)]
/// struct Notify {
///     cents: i64,
/// }
///
/// impl Perform for Invoice {
///     type Output = i64;
///     fn perform(&self, ctx: &JobContext) -> Result<i64, JobError> {
///         if self.units <= 0 {
///             return Err(JobError::fail("nothing to invoice"));
///         }
///         let cents = self.units * ctx.state::<Prices>()?.cents_per_unit;
///         ctx.enqueue_on_completion(Notify { cents })?;
///         Ok(cents)
///     }
/// }
///
/// let test = TestContext::new().state(Prices { cents_per_unit: 250 });
/// let done = test.perform(&Invoice { units: 4 })?;
/// assert_eq!(done.enqueued::<Notify>()?, [Notify { cents: 1000 }]);
/// assert_eq!(done.result.map_err(JobError::into_boxed)?, 1000);
///
/// let refused = test.perform(&Invoice { units: 0 })?;
/// assert!(refused.enqueued::<Notify>()?.is_empty());
/// let err = refused.result.err().ok_or("it should have failed")?;
/// assert!(err.to_string().contains("nothing to invoice"));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub struct TestContext {
    attempt: u32,
    max_attempts: u32,
    state: AppState,
    upstream: Vec<Run>,
    database: Option<PathBuf>,
    clock: Arc<dyn Clock>,
    cancelled: Option<CancelReason>,
    error: Option<String>,
}

impl std::fmt::Debug for TestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestContext")
            .field("attempt", &self.attempt)
            .field("max_attempts", &self.max_attempts)
            .field("state", &self.state)
            .field("upstream", &self.upstream.len())
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Default for TestContext {
    fn default() -> Self {
        Self::new()
    }
}

impl TestContext {
    /// The first attempt of one, on a private in-memory database, with no state and no
    /// upstream runs.
    #[must_use]
    pub fn new() -> Self {
        TestContext {
            attempt: 1,
            max_attempts: 1,
            state: AppState::default(),
            upstream: Vec::new(),
            database: None,
            clock: Arc::new(SystemClock),
            cancelled: None,
            error: None,
        }
    }

    /// Which attempt this is, of how many (`ctx.attempt()`, `ctx.is_last_attempt()`).
    ///
    /// ```
    /// # use runloom::testing::TestContext;
    /// let third_of_five = TestContext::new().attempt(3, 5);
    /// # let _ = third_of_five;
    /// ```
    #[must_use]
    pub fn attempt(mut self, number: u32, of: u32) -> Self {
        self.attempt = number;
        self.max_attempts = of;
        self
    }

    /// Gives the job a value of the application's, as
    /// [`SchedulerBuilder::state`](crate::SchedulerBuilder::state) does.
    ///
    /// ```
    /// # use runloom::testing::TestContext;
    /// struct ApiUrl(String);
    /// let test = TestContext::new().state(ApiUrl("http://localhost:9999".into()));
    /// # let _ = test;
    /// ```
    #[must_use]
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Adds a completed upstream run of `job` that returned `output`, for
    /// `ctx.upstream_result::<J>()` and its kin.
    ///
    /// ```
    /// use runloom::{Job, JobContext, JobError, Perform, testing::TestContext};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Fetch;
    /// impl Perform for Fetch {
    ///     type Output = Vec<u32>;
    ///     fn perform(&self, _: &JobContext) -> Result<Vec<u32>, JobError> {
    ///         Ok(vec![])
    ///     }
    /// }
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Total;
    /// impl Perform for Total {
    ///     type Output = u32;
    ///     fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
    ///         Ok(ctx.upstream_result::<Fetch>()?.iter().sum())
    ///     }
    /// }
    ///
    /// let test = TestContext::new().upstream(&Fetch, &vec![1, 2, 3]);
    /// assert_eq!(test.perform(&Total)?.result.map_err(JobError::into_boxed)?, 6);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    #[must_use]
    pub fn upstream<J: Perform>(mut self, job: &J, output: &J::Output) -> Self {
        match (serde_json::to_string(job), serde_json::to_string(output)) {
            (Ok(payload), Ok(result)) => {
                let id = RunId::new(i64::try_from(self.upstream.len()).unwrap_or(0) + 1);
                self.upstream.push(Run::completed_inline(
                    id,
                    J::NAME,
                    payload,
                    result,
                    self.clock.now(),
                ));
            }
            (Err(e), _) | (_, Err(e)) => {
                self.error.get_or_insert(format!(
                    "upstream run of {:?} does not serialize: {e}",
                    J::NAME
                ));
            }
        }
        self
    }

    /// The SQLite file `ctx.transaction` writes to (the scheduler's tables are added
    /// beside the application's, as at a scheduler's start): make the application's
    /// tables in it first, read them after. Defaults to a private in-memory database.
    ///
    /// ```
    /// # use runloom::testing::TestContext;
    /// # let dir = tempfile::tempdir()?;
    /// let test = TestContext::new().database(dir.path().join("app.db"));
    /// # let _ = test;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn database(mut self, path: impl Into<PathBuf>) -> Self {
        self.database = Some(path.into());
        self
    }

    /// The clock the job's context reads (`ctx.scheduled_at()`, follow-ups' due times).
    /// Defaults to the system clock.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use runloom::{ManualClock, testing::TestContext};
    /// let clock = Arc::new(ManualClock::new(time::macros::datetime!(2026-01-01 9:00 UTC)));
    /// let test = TestContext::new().clock(clock);
    /// # let _ = test;
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The job is asked to stop from its start (`ctx.is_cancelled()`), for `reason`.
    ///
    /// ```
    /// # use runloom::{CancelReason, testing::TestContext};
    /// let shutting_down = TestContext::new().cancelled(CancelReason::Shutdown);
    /// # let _ = shutting_down;
    /// ```
    #[must_use]
    pub fn cancelled(mut self, reason: CancelReason) -> Self {
        self.cancelled = Some(reason);
        self
    }

    /// Runs `job.perform` on this thread with this context, and reports its result and
    /// the follow-ups it asked for. A panic in the job is not caught: it fails the test
    /// where it happened.
    ///
    /// # Errors
    /// What setting up the context met: an upstream output that does not serialize, a
    /// database that cannot be opened (every refusal of a scheduler's start).
    pub fn perform<J: Perform>(&self, job: &J) -> Result<Performed<J::Output>> {
        if let Some(reason) = &self.error {
            return Err(Error::invalid("upstream", reason.clone()));
        }
        let options = match &self.database {
            Some(path) => StoreOptions::file(path),
            None => StoreOptions::memory(),
        };
        let store: Arc<dyn Backend> = Arc::new(Store::open(options.clock(self.clock.clone()))?);
        let now = self.clock.now();
        let run = RunId::new(i64::try_from(self.upstream.len()).unwrap_or(0) + 1);
        let env = Arc::new(Execution {
            store,
            clock: self.clock.clone(),
            inflight: Arc::new(InFlight::new(Instant::now())),
            events: Arc::new(Events::new(Vec::new())),
            stats: Arc::new(Stats::new()),
            registry: Registry::default(),
            state: self.state.clone(),
            database_id: "test".to_owned(),
            max_payload_bytes: DEFAULT_MAX_PAYLOAD_BYTES,
            allow_foreign: true,
            new_work: Arc::new(|| {}),
        });
        let cancel = Arc::new(CancelFlag::default());
        if let Some(reason) = self.cancelled {
            cancel.cancel(reason);
        }
        let ctx = JobContext {
            attempt: Attempt::new(run, 1),
            job_type: J::NAME.to_owned(),
            number: self.attempt,
            max_attempts: self.max_attempts,
            scheduled_at: now,
            deadline: J::options().timeout.map(|t| Instant::now() + t),
            idempotency_key: format!("test:{run}"),
            cancel,
            started_at: now,
            started: Instant::now(),
            env,
            completed: std::sync::atomic::AtomicBool::new(false),
            follow_ups: parking_lot::Mutex::new(Vec::new()),
            inline: Some(Inline {
                upstream: self.upstream.clone(),
            }),
        };
        let result = job.perform(&ctx);
        // What the job asked for is what its completion would have created.
        let follow_ups = match &result {
            Ok(_) => std::mem::take(&mut *ctx.follow_ups.lock()),
            Err(_) => Vec::new(),
        };
        Ok(Performed { result, follow_ups })
    }
}

/// What one inline `perform` did: its result, and the follow-up runs its completion
/// would have created ([`JobContext::enqueue_on_completion`]; none when it failed).
#[derive(Debug)]
#[non_exhaustive]
pub struct Performed<O> {
    /// What `perform` returned.
    pub result: std::result::Result<O, JobError>,
    follow_ups: Vec<NewRun>,
}

impl<O> Performed<O> {
    /// The follow-ups of job type `T`, decoded, in the order asked for.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Perform, testing::TestContext};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job, PartialEq, Debug)]
    /// struct Ping(u8);
    /// # impl Perform for Ping {
    /// #     type Output = ();
    /// #     fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
    /// #         if self.0 < 2 { ctx.enqueue_on_completion(Ping(self.0 + 1))?; }
    /// #         Ok(())
    /// #     }
    /// # }
    /// let done = TestContext::new().perform(&Ping(0))?;
    /// assert_eq!(done.enqueued::<Ping>()?, [Ping(1)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Payload`] when a payload does not decode into `T`.
    pub fn enqueued<T: Job>(&self) -> Result<Vec<T>> {
        self.follow_ups
            .iter()
            .filter(|r| r.job_type == T::NAME)
            .map(|r| decode::<T>(&r.payload))
            .collect()
    }

    /// Whether a follow-up of `job`'s type with exactly `job`'s payload was asked for.
    ///
    /// # Errors
    /// [`Error::Payload`] when `job` does not serialize.
    pub fn was_enqueued<T: Job>(&self, job: &T) -> Result<bool> {
        let want = to_value(job)?;
        Ok(self.follow_ups.iter().any(|r| {
            r.job_type == T::NAME
                && serde_json::from_str::<serde_json::Value>(&r.payload).is_ok_and(|v| v == want)
        }))
    }

    /// How many follow-ups of any type were asked for.
    #[must_use]
    pub fn enqueued_count(&self) -> usize {
        self.follow_ups.len()
    }

    /// The due time each follow-up asked for, with its job type.
    #[must_use]
    pub fn enqueued_at(&self) -> Vec<(String, time::OffsetDateTime)> {
        self.follow_ups
            .iter()
            .map(|r| (r.job_type.clone(), r.scheduled_at))
            .collect()
    }

    /// The delay of the first follow-up of type `T` after `from` (for a test that
    /// checks a follow-up was delayed).
    #[must_use]
    pub fn delay_of<T: Job>(&self, from: time::OffsetDateTime) -> Option<Duration> {
        self.follow_ups
            .iter()
            .find(|r| r.job_type == T::NAME)
            .and_then(|r| Duration::try_from(r.scheduled_at - from).ok())
    }
}

pub(super) fn decode<T: Job>(payload: &str) -> Result<T> {
    serde_json::from_str(payload).map_err(|e| Error::Payload {
        job_type: T::NAME.to_owned(),
        detail: e.to_string(),
    })
}

pub(super) fn to_value<T: Job + Serialize>(job: &T) -> Result<serde_json::Value> {
    serde_json::to_value(job).map_err(|e| Error::Payload {
        job_type: T::NAME.to_owned(),
        detail: e.to_string(),
    })
}
