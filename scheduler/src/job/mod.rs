//! What users define: job types, the work they do, and how that work ends.
//!
//! A job type is a serde-serializable struct. [`Job`] names it and carries its default
//! options (the `#[derive(Job)]` macro implements it); [`Perform`] is the one method that
//! does the work. Registering the type with the scheduler is one line.
//!
//! ```
//! use runloom::{Job, JobContext, JobError, JobOptions, Perform};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct SendEmail {
//!     to: String,
//! }
//!
//! impl Job for SendEmail {
//!     const NAME: &'static str = "send_email";
//!     fn options() -> JobOptions {
//!         JobOptions::new().max_attempts(5).priority(10)
//!     }
//! }
//!
//! impl Perform for SendEmail {
//!     type Output = ();
//!     fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
//!         ctx.check_cancelled()?;
//!         // ... send, using ctx.idempotency_key() with the mail provider ...
//!         Ok(())
//!     }
//! }
//! ```

pub(crate) mod context;
mod outcome;
pub(crate) mod registry;
pub(crate) mod state;

use serde::{Serialize, de::DeserializeOwned};

pub use self::{
    context::{CancelReason, JobContext},
    outcome::{JobError, JobErrorKind},
    state::StateType,
};
pub use crate::model::JobOptions;

/// A job type: its name, its default options and (through serde) its payload encoding.
///
/// Implemented by `#[derive(Job)]`, or by hand. The name is what the database stores; it
/// must stay the same across releases for runs already enqueued to find their type.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The job type's name, 1 to 200 bytes, unique among the types a scheduler
    /// registers.
    const NAME: &'static str;

    /// Default options of runs of this type; options given at enqueue time override
    /// them. Defaults to [`JobOptions::new`].
    #[must_use]
    fn options() -> JobOptions {
        JobOptions::new()
    }

    /// The unique key of this job, if its type derives one: while a run with the same
    /// key is unfinished, enqueueing another returns that run instead. Defaults to
    /// none.
    fn unique_key(&self) -> Option<String> {
        None
    }

    /// The application state [`Perform::perform`] reads with [`JobContext::state`]
    /// (`#[job(state = "Pool, Mailer")]`): [`crate::SchedulerBuilder::start`] refuses
    /// to start a scheduler that registers this type without a value of each
    /// ([`crate::Error::MissingState`]). Defaults to none (nothing checked).
    #[must_use]
    fn required_state() -> Vec<StateType> {
        Vec::new()
    }

    /// What the payload's JSON looks like, for tools that enqueue by name: the CLI
    /// refuses a payload of another shape before anything is written.
    /// `#[derive(Job)]` states it for a plain struct (no `#[serde]` attribute on it or
    /// its fields; a newtype struct states none). Defaults to none (nothing checked).
    #[must_use]
    fn payload_shape() -> Option<crate::PayloadShape> {
        None
    }

    /// The schedule this job type runs on by default (`#[job(cron = "...")]`), used by
    /// [`crate::Scheduler::schedule_default`]. Defaults to none.
    #[must_use]
    fn default_schedule() -> Option<crate::ScheduleSpec> {
        None
    }
}

/// The work of a job type: the one method a user writes.
pub trait Perform: Job {
    /// What a successful run returns; stored as JSON on the run (`()` stores `null`).
    type Output: Serialize;

    /// Does the work of one attempt.
    ///
    /// Return `Err` to fail the attempt: by default it is retried with exponential
    /// backoff until the run's attempts are used up; [`JobError`] also lets the job
    /// cancel itself, fail for good, or ask to be retried after a given delay. Any
    /// error type converts into [`JobError`] with `?`. A panic fails the attempt with
    /// the panic's message and never harms the scheduler.
    ///
    /// # Errors
    /// Whatever the job decides; see [`JobError`].
    fn perform(&self, ctx: &JobContext) -> Result<Self::Output, JobError>;
}
