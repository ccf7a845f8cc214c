//! Using the scheduler from tokio (feature `tokio`) without blocking the executor.
//!
//! The scheduler is synchronous: an enqueue waits for SQLite's write lock (up to the
//! busy timeout), a wait blocks its thread. Called from an async handler, that would
//! stall a tokio worker thread and every task on it. [`AsyncScheduler`] runs each call
//! on tokio's blocking pool instead and awaits it, and [`AsyncScheduler::call`] does
//! the same for any other call (an `Admin` query, a pause). Job bodies can be async
//! too: an [`AsyncPerform`] job registered with [`AsyncRegister::register_async`] runs
//! on a runtime the host provides, driven from the scheduler's worker thread, so a job
//! awaits its HTTP client or database pool like any other task.
//!
//! ```
//! use std::time::Duration;
//! use runloom::{Job, JobContext, JobError, RunStatus, Scheduler};
//! use runloom::tokio::{AsyncPerform, AsyncRegister, AsyncScheduler};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Job)]
//! struct Fetch {
//!     url: String,
//! }
//!
//! impl AsyncPerform for Fetch {
//!     type Output = usize;
//!     async fn perform(&self, _ctx: &JobContext) -> Result<usize, JobError> {
//!         tokio::time::sleep(Duration::from_millis(5)).await; // the HTTP call
//!         Ok(self.url.len())
//!     }
//! }
//!
//! let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
//! runtime.block_on(async {
//!     let dir = tempfile::tempdir()?;
//!     let scheduler = Scheduler::builder()
//!         .database(dir.path().join("jobs.db"))
//!         .register_async::<Fetch>(tokio::runtime::Handle::current())
//!         .start()?;
//!     let scheduler = AsyncScheduler::new(scheduler);
//!     // In an HTTP handler: neither call blocks the executor.
//!     let id = scheduler.enqueue(Fetch { url: "https://example.com".into() }).await?.id;
//!     let run = scheduler.wait(id, Duration::from_secs(10)).await?;
//!     assert_eq!(run.status, RunStatus::Completed);
//!     assert_eq!(run.result::<usize>()?, 19);
//!     scheduler.shutdown(Duration::from_secs(5)).await?;
//!     Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```

use std::{future::Future, sync::Arc, time::Duration};

/// The runtime handle [`AsyncRegister::register_async`] takes (tokio 1.x, the version
/// this crate links), re-exported so no version has to be matched by hand.
pub use ::tokio::runtime::Handle;
use serde::Serialize;

use crate::{
    CancelOutcome, EnqueueOptions, Error, Inserted, Job, JobContext, JobError, Result, Run, RunId,
    Scheduler, SchedulerBuilder,
    job::registry::{RunResult, Runner, ended},
    model::{JobOptions, ShutdownReport},
};

/// A [`Scheduler`] whose calls are awaited instead of blocking: each runs on tokio's
/// blocking pool. Cheap to clone (clones share the scheduler); must be used inside a
/// tokio runtime.
///
/// ```
/// # use runloom::{Scheduler, tokio::AsyncScheduler};
/// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// # runtime.block_on(async {
/// # let dir = tempfile::tempdir()?;
/// let scheduler = AsyncScheduler::new(Scheduler::builder().database(dir.path().join("jobs.db")).start()?);
/// let paused = scheduler.call(|s| s.is_paused()).await??;
/// assert!(!paused);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Clone, Debug)]
pub struct AsyncScheduler {
    inner: Arc<Scheduler>,
}

impl AsyncScheduler {
    /// Wraps a started scheduler.
    #[must_use]
    pub fn new(scheduler: Scheduler) -> Self {
        AsyncScheduler {
            inner: Arc::new(scheduler),
        }
    }

    /// The scheduler itself, for calls that never wait (`subscribe`, `worker_id`) or
    /// for code that runs on a blocking thread already.
    #[must_use]
    pub fn blocking(&self) -> &Scheduler {
        &self.inner
    }

    /// Runs `f` with the scheduler on tokio's blocking pool and awaits its value: any
    /// call of [`Scheduler`] or its [`Admin`](crate::Admin) (`s.admin().figures()`).
    ///
    /// # Errors
    /// [`Error::ShutDown`] when the runtime is shutting down and the call was dropped
    /// before it ran. A panic in `f` is resumed in the caller.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Scheduler) -> T + Send + 'static,
    {
        let inner = self.inner.clone();
        match ::tokio::task::spawn_blocking(move || f(&inner)).await {
            Ok(v) => Ok(v),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(Error::ShutDown),
        }
    }

    /// [`Scheduler::enqueue`], awaited.
    ///
    /// # Errors
    /// As [`Scheduler::enqueue`].
    pub async fn enqueue<J: Job>(&self, job: J) -> Result<Inserted> {
        self.call(move |s| s.enqueue(job)).await?
    }

    /// [`Scheduler::enqueue_with`], awaited.
    ///
    /// # Errors
    /// As [`Scheduler::enqueue_with`].
    pub async fn enqueue_with<J: Job>(&self, job: J, opts: EnqueueOptions) -> Result<Inserted> {
        self.call(move |s| s.enqueue_with(job, opts)).await?
    }

    /// [`Scheduler::enqueue_many`], awaited (one transaction).
    ///
    /// # Errors
    /// As [`Scheduler::enqueue_many`].
    pub async fn enqueue_many<J: Job>(&self, jobs: Vec<J>) -> Result<Vec<Inserted>> {
        self.call(move |s| s.enqueue_many(jobs)).await?
    }

    /// [`Scheduler::run`], awaited.
    ///
    /// # Errors
    /// As [`Scheduler::run`].
    pub async fn run(&self, id: RunId) -> Result<Run> {
        self.call(move |s| s.run(id)).await?
    }

    /// [`Scheduler::wait`], awaited: the task sleeps, no thread of the executor does.
    ///
    /// # Errors
    /// As [`Scheduler::wait`].
    pub async fn wait(&self, run: RunId, timeout: Duration) -> Result<Run> {
        self.call(move |s| s.wait(run, timeout)).await?
    }

    /// [`Scheduler::wait_all`], awaited.
    ///
    /// # Errors
    /// As [`Scheduler::wait_all`].
    pub async fn wait_all(&self, runs: Vec<RunId>, timeout: Duration) -> Result<Vec<Run>> {
        self.call(move |s| s.wait_all(&runs, timeout)).await?
    }

    /// [`Scheduler::wait_idle`], awaited.
    ///
    /// # Errors
    /// As [`Scheduler::wait_idle`].
    pub async fn wait_idle(&self, timeout: Duration) -> Result<()> {
        self.call(move |s| s.wait_idle(timeout)).await?
    }

    /// [`Scheduler::cancel`], awaited.
    ///
    /// # Errors
    /// As [`Scheduler::cancel`].
    pub async fn cancel(&self, run: RunId) -> Result<CancelOutcome> {
        self.call(move |s| s.cancel(run)).await?
    }

    /// [`Scheduler::shutdown`], awaited. Other clones of this handle keep theirs, and a
    /// shut down scheduler refuses their calls with [`Error::ShutDown`].
    ///
    /// # Errors
    /// As [`Scheduler::shutdown`].
    pub async fn shutdown(&self, grace: Duration) -> Result<ShutdownReport> {
        self.call(move |s| s.shutdown(grace)).await?
    }
}

/// The async body of a job type: [`crate::Perform`] with an `async fn`. Registered with
/// [`AsyncRegister::register_async`], it runs on the runtime handle given there.
pub trait AsyncPerform: Job {
    /// What a successful run returns; stored as JSON on the run.
    type Output: Serialize + Send;

    /// Does the work of one attempt; see [`crate::Perform::perform`]. The scheduler's
    /// worker thread drives the future with the runtime's `block_on`, so the future
    /// may borrow `self` and `ctx`, and everything it spawns runs on the runtime. A
    /// panic fails the attempt, as in a synchronous job.
    ///
    /// # Errors
    /// Whatever the job decides; see [`JobError`].
    fn perform(
        &self,
        ctx: &JobContext,
    ) -> impl Future<Output = std::result::Result<Self::Output, JobError>> + Send;
}

/// Registering async job types on the builder (feature `tokio`).
pub trait AsyncRegister {
    /// Registers an [`AsyncPerform`] job type whose attempts run on `runtime` (usually
    /// `Handle::current()` where the host builds the scheduler). Each attempt holds one
    /// of the scheduler's worker threads while it runs, as a synchronous job does, so
    /// `worker_threads` still bounds how many run at once. Give the handle of a
    /// multi-thread runtime: a current-thread runtime drives its timers and I/O only
    /// inside its own `block_on`, so a job awaiting a timer there would wait for it.
    ///
    /// ```
    /// # use runloom::{Job, JobContext, JobError, Scheduler, tokio::{AsyncPerform, AsyncRegister}};
    /// # use serde::{Deserialize, Serialize};
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Ping;
    /// impl AsyncPerform for Ping {
    ///     type Output = ();
    ///     async fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    ///         Ok(())
    ///     }
    /// }
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// let builder = Scheduler::builder().register_async::<Ping>(runtime.handle().clone());
    /// # let _ = builder;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    fn register_async<J: AsyncPerform>(self, runtime: Handle) -> Self;
}

impl AsyncRegister for SchedulerBuilder {
    fn register_async<J: AsyncPerform>(self, runtime: Handle) -> Self {
        self.register_runner::<J>(Arc::new(AsyncRunner::<J> {
            runtime,
            job: std::marker::PhantomData,
        }))
    }
}

struct AsyncRunner<J> {
    runtime: Handle,
    job: std::marker::PhantomData<fn() -> J>,
}

impl<J: AsyncPerform> Runner for AsyncRunner<J> {
    fn run(&self, payload: &str, ctx: &JobContext) -> RunResult {
        let job: J = match serde_json::from_str(payload) {
            Ok(job) => job,
            Err(e) => return RunResult::BadPayload(e.to_string()),
        };
        let result = self.runtime.block_on(job.perform(ctx));
        ended(ctx, result)
    }

    fn check_payload(&self, payload: &str) -> std::result::Result<(), String> {
        serde_json::from_str::<J>(payload)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn options(&self) -> JobOptions {
        J::options()
    }

    fn required_state(&self) -> Vec<crate::StateType> {
        J::required_state()
    }

    fn payload_shape(&self) -> Option<crate::PayloadShape> {
        J::payload_shape()
    }
}
