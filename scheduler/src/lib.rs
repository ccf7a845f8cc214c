//! An embedded, synchronous job scheduler on one SQLite file.
//!
//! Jobs, schedules, leases, workers and history live in one SQLite database that the
//! host binary opens itself: no server to run. Several threads, and several processes
//! sharing the file, cooperate through row leases with fencing tokens.
//!
//! # Quick start
//!
//! ```
//! use std::time::Duration;
//! use runloom::{Job, JobContext, JobError, Perform, Scheduler};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Greet {
//!     name: String,
//! }
//!
//! impl Job for Greet {
//!     const NAME: &'static str = "greet";
//! }
//!
//! impl Perform for Greet {
//!     type Output = String;
//!     fn perform(&self, _ctx: &JobContext) -> Result<String, JobError> {
//!         Ok(format!("hello, {}", self.name))
//!     }
//! }
//!
//! # let dir = tempfile::tempdir()?;
//! let scheduler = Scheduler::builder()
//!     .database(dir.path().join("jobs.db")) // default: ./scheduler.db
//!     .register::<Greet>()
//!     .start()?;
//! let run = scheduler.enqueue(Greet { name: "world".into() })?;
//! // Blocks until the run finished (woken by the scheduler's own events), at most 10 s.
//! let done = scheduler.wait(run.id, Duration::from_secs(10))?;
//! assert_eq!(done.result::<String>()?, "hello, world");
//! scheduler.shutdown(Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Jobs with `#[derive(Job)]`
//!
//! The derive (feature `derive`, on by default) writes the [`Job`](trait@Job) impl from
//! `#[job(...)]` attributes, all checked at compile time: the name (by default the
//! type's name in snake_case), default options, a unique key from some fields or the
//! whole payload, and a default cron schedule for [`Scheduler::schedule_default`]. The
//! keys are listed on [`macro@Job`]; `Perform` is still written by hand.
//!
//! ```
//! # #[cfg(feature = "derive")]
//! # fn main() {
//! use std::time::Duration;
//! use runloom::{Job, JobContext, JobError, JobOptions, Perform, ScheduleSpec};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Job)]
//! #[job(priority = 10, max_attempts = 5, timeout = "30s", backoff = "5s")]
//! #[job(unique = "to", cron = "0 8 * * Mon")]
//! struct SendDigest {
//!     to: String,
//! }
//!
//! impl Perform for SendDigest {
//!     type Output = ();
//!     fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
//!         Ok(())
//!     }
//! }
//!
//! assert_eq!(SendDigest::NAME, "send_digest");
//! assert_eq!(
//!     SendDigest::options(),
//!     JobOptions::new()
//!         .priority(10)
//!         .max_attempts(5)
//!         .timeout(Duration::from_secs(30))
//!         .backoff(Duration::from_secs(5))
//! );
//! let job = SendDigest { to: "ops@example.com".into() };
//! assert_eq!(job.unique_key().as_deref(), Some(r#"send_digest:"ops@example.com""#));
//! assert_eq!(SendDigest::default_schedule(), Some(ScheduleSpec::cron("0 8 * * Mon")));
//! # }
//! # #[cfg(not(feature = "derive"))]
//! # fn main() {}
//! ```
//!
//! # How a run flows
//!
//! ```text
//! enqueue ──> store ──> claim (lease) ──> dispatch ──> worker executes ──> complete
//!  ①           ②          ③                  ④             ⑤                  ⑥
//! ```
//!
//! * ① [`enqueue`]: a job becomes a `pending` run (checked, all or nothing).
//! * ② store: the only code that talks to SQLite (private; the API never names it);
//!   every statement is a file in `sql/`.
//! * ③ claim: the dispatcher claims due runs, highest priority first, under leases with
//!   fencing tokens, as many as it has free slots for.
//! * ④ dispatch: one dispatcher thread commits outcomes and claims in one transaction
//!   and hands runs to the workers over a bounded channel.
//! * ⑤ worker: a fixed pool of named threads runs each job under `catch_unwind`.
//! * ⑥ complete: the outcome (completed, retry with backoff, failed, cancelled) is
//!   written fenced by the lease; a worker that lost its lease changes nothing.
//!
//! Beside the flow, a heartbeat thread renews this instance's leases and `workers` row,
//! and a maintenance thread takes back runs whose lease expired (their process died).
//!
//! # Operating a database
//!
//! [`Admin`] opens a scheduler database without starting threads, beside running hosts
//! or with none: runs (list, details, cancel, retry one or many), pause and resume,
//! schedules, workers, figures, maintenance passes and migrations. The `runloom` CLI is
//! built on it alone, and [`Scheduler::admin`] gives the same handle from a host.
//!
//! # In a real service
//!
//! - The scheduler's tables go beside the application's in its own SQLite file (only a
//!   table of one of the scheduler's names is refused, [`Error::NameClash`]), so a
//!   job's writes to the application's tables commit with its completion
//!   (`ctx.transaction`, [`sqlite::JobContextExt`]).
//! - Pools, clients and configuration reach jobs as typed state:
//!   [`SchedulerBuilder::state`] and [`JobContext::state`], checked at start when the
//!   job type declares them (`#[job(state = "Mailer")]`).
//! - `?` works on `anyhow::Error`, `Box<dyn Error + Send + Sync>` and any
//!   `Error + Send + Sync` inside `perform` ([`JobError`]).
//! - A step reads its upstream runs' outputs typed ([`JobContext::upstream_result`])
//!   and hands on work with its completion ([`JobContext::enqueue_on_completion`]).
//! - [`Scheduler::wait`], [`Scheduler::wait_all`] and [`Scheduler::wait_idle`] block
//!   with a deadline instead of a polling loop; [`Run::result`] decodes the output.
//! - Every foreign type of the API is re-exported ([`time`], [`crossbeam_channel`],
//!   [`serde_json`], and each database driver under [`sqlite`] and `runloom::postgres`).
//!
//! # Testing your jobs
//!
//! [`testing`] has what Oban.Testing and River's `rivertest` give: run one job's
//! `perform` inline with a context you build ([`testing::TestContext`]: attempt, state,
//! upstream results, the database of `ctx.transaction`), and a real scheduler that runs
//! nothing until you drain it, on a manual clock ([`testing::TestScheduler`]), with
//! assertions on what was enqueued. No sleeps, no polling.
//!
//! ```
//! use std::time::Duration;
//! use runloom::{Job, JobContext, JobError, Perform, Scheduler, testing::{TestContext, TestScheduler}};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Job, PartialEq, Debug)]
//! struct Welcome {
//!     user: u64,
//! }
//! impl Perform for Welcome {
//!     type Output = String;
//!     fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
//!         if ctx.attempt() < 2 {
//!             return Err(JobError::retry_after(Duration::from_secs(30), "mail server busy"));
//!         }
//!         Ok(format!("welcomed {}", self.user))
//!     }
//! }
//!
//! // One perform, inline: the second attempt succeeds.
//! let done = TestContext::new().attempt(2, 3).perform(&Welcome { user: 7 })?;
//! assert_eq!(done.result.ok().as_deref(), Some("welcomed 7"));
//!
//! // The whole path: enqueue, drain, move the clock past the retry, drain again.
//! let test = TestScheduler::start(Scheduler::builder().register::<Welcome>())?;
//! test.enqueue(Welcome { user: 7 })?;
//! assert!(test.is_enqueued(&Welcome { user: 7 })?);
//! assert_eq!(test.drain()?.retried, 1);
//! test.advance(Duration::from_secs(30));
//! assert_eq!(test.drain()?.completed, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Logging, tracing and metrics
//!
//! Log lines go through the `log` facade: at `info` a service sees start and stop,
//! migrations, cancellations and warnings (a run failed for good, a panic, a lost
//! lease); one line per run and per retry is at `debug`. With the `tracing` feature
//! every attempt runs in a `runloom.attempt` span (`run_id`, `job_type`, `attempt`);
//! with `metrics`, counters, histograms and gauges go through the `metrics` facade
//! (names in [`observe`]). Events ([`SchedulerBuilder::on_event`],
//! [`Scheduler::subscribe`]) carry the run, its job type and, where it applies, the due
//! time, the error kind and the cancel reason.
//!
//! # Async hosts
//!
//! Every call blocks its thread (the core is synchronous). From tokio, the `tokio`
//! feature's `runloom::tokio::AsyncScheduler` awaits each call on tokio's blocking pool
//! instead, so an enqueue behind a busy writer never stalls the executor, and
//! `AsyncPerform` job bodies run on a runtime handle the host gives
//! (`builder.register_async::<J>(handle)`). `examples/service.rs` is an axum service
//! built this way.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `derive` | yes | `#[derive(Job)]` |
//! | `postgres` | no | the PostgreSQL backend (`builder().postgres(url)`, `runloom::postgres`) |
//! | `tokio` | no | `runloom::tokio`: awaited calls and async job bodies |
//! | `tracing` | no | a `tracing` span around each attempt |
//! | `metrics` | no | counters, histograms and gauges through the `metrics` facade |
//! | `cli` | no | the `runloom` operator binary |
//!
//! # Minimum Rust version
//!
//! Rust 1.85 (edition 2024), checked by `rust-version` in the manifest; raising it is a
//! minor release.
//!
//! # Nouns
//!
//! A **job** is the user's type; a **run** is one persisted execution of it with its
//! attempts; a **lease** is a worker's claim on a run, with a fencing token; a **worker**
//! (a row of `workers`) is one scheduler instance (process) that holds leases; its
//! **threads** execute the jobs.
#![warn(clippy::unwrap_used, clippy::expect_used)]
// Every type a public signature names must be nameable by users: the storage layer is
// private, and a type of it in the API would be one they cannot write down.
#![warn(unnameable_types)]

mod admin;
mod backend;
mod claim;
pub mod clock;
mod complete;
mod config;
mod dispatch;
pub mod enqueue;
pub mod error;
mod events;
mod failing;
mod heartbeat;
mod inflight;
pub mod job;
pub mod maintenance;
mod metrics;
mod model;
pub mod observe;
mod retry;
pub mod schedule;
mod scheduler;
pub mod sqlite;
// The storage layer is not part of the API. The `internals` feature exposes it, hidden
// from the documentation, for this workspace's own tests and benches only: it changes
// without notice in any release.
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod store;
#[cfg(not(feature = "internals"))]
#[allow(unreachable_pub, dead_code, unused_imports)]
mod store;
pub mod testing;
#[cfg(feature = "tokio")]
pub mod tokio;
mod worker;

pub use crate::{
    admin::{
        Admin, AdminBuilder, CopyReport, Dependency, Figures, RetryReport, RunDetails, WorkerInfo,
    },
    clock::{Clock, ManualClock, SystemClock},
    config::{
        DEFAULT_DATABASE, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_IN_FLIGHT_PER_THREAD,
        DEFAULT_LEASE_DURATION, DEFAULT_MAX_BACKOFF, DEFAULT_MAX_PAYLOAD_BYTES,
        DEFAULT_MAX_SNOOZES, DEFAULT_POLL_INTERVAL, DEFAULT_SHUTDOWN_GRACE, SchedulerBuilder,
    },
    enqueue::{Batch, BatchRef, EnqueueOptions, Upstream},
    error::{Error, Result},
    events::{Event, EventHook},
    job::{CancelReason, Job, JobContext, JobError, JobErrorKind, JobOptions, Perform, StateType},
    maintenance::{MaintenanceConfig, MaintenanceReport, PassReport, Service},
    metrics::SchedulerStats,
    model::{
        AttemptError, AttemptErrorKind, CancelOutcome, DEFAULT_QUEUE, DependencyEdge,
        DependencyLimits, Direction, Health, Inserted, LastHour, Lease, MAX_ATTEMPTS,
        MAX_JSON_DEPTH, MAX_PRIORITY, MAX_QUEUE_NAME_LEN, MAX_UNIQUE_KEY_LEN, MigrationState,
        MigrationStatus, MigrationStep, MinuteThroughput, MisfirePolicy, NewDependency,
        OnUpstreamFailure, PayloadShape, QueueInfo, Run, RunFilter, RunId, RunStatus,
        SCHEDULE_CHANGED, SCHEDULE_DISABLED, SCHEDULE_REMOVED, Schedule, ShutdownReport,
        StatusCounts, Task, TaskId, TaskStats, UPSTREAM_FAILED, UnknownValue, ValueError, Worker,
        WorkerId, WorkerStatus, validate_queue,
    },
    retry::{ExponentialBackoff, FailedAttempt, RetryPolicy},
    schedule::ScheduleSpec,
    scheduler::{SHUTDOWN_OVERRUN, Scheduler},
};

pub use crate::store::Synchronous;

/// The `time` crate, whose [`time::OffsetDateTime`] every timestamp of the API is: name
/// it as `runloom::time` instead of adding a matching version of your own.
///
/// ```
/// use runloom::{Clock, SystemClock, time::OffsetDateTime};
///
/// let now: OffsetDateTime = SystemClock.now();
/// assert!(now.year() >= 2024);
/// ```
pub use time;

/// The channel crate of [`Scheduler::subscribe`]'s receiver (`crossbeam_channel::Receiver`),
/// for `select!` over it and your own channels without matching versions by hand.
pub use crossbeam_channel;

/// The JSON crate of [`Run::payload_json`] and [`Run::result_json`]
/// (`serde_json::Value`): name it as `runloom::serde_json` instead of adding a matching
/// version of your own.
///
/// ```
/// let v: runloom::serde_json::Value = runloom::serde_json::json!({ "invoice": 7 });
/// assert_eq!(v["invoice"], 7);
/// ```
pub use serde_json;

/// The derive macro of the [`Job`](trait@crate::Job) trait (feature `derive`, on by
/// default); an example is in [Jobs with `#[derive(Job)]`](crate#jobs-with-derivejob).
#[cfg(feature = "derive")]
pub use runloom_macros::Job;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// The README's Rust snippets, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
