//! Follow-up runs a job asks for ([`JobContext::enqueue_on_completion`]): checked as any
//! enqueue when asked for, created by the transaction that completes the job's run
//! (`job/context.rs`), so they exist if and only if it completed.

use super::{EnqueueOptions, Enqueuer};
use crate::job::{Job, JobContext, JobError};

impl JobContext {
    /// Creates a run of `job` in the same transaction that records this run as
    /// completed: the follow-up exists if and only if this run completed, so a step of
    /// a pipeline hands on its work exactly once, even when it executes twice. If the
    /// attempt fails, nothing is created (the next attempt asks again). Called inside
    /// [`crate::sqlite::JobContextExt::transaction`], the follow-ups commit with the
    /// job's own writes too. A unique key already held returns the unfinished run that
    /// holds it, as any enqueue does.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{Job, JobContext, JobError, Perform, RunFilter, Scheduler};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Fetch {
    ///     url: String,
    /// }
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Parse {
    ///     body: String,
    /// }
    ///
    /// impl Perform for Fetch {
    ///     type Output = ();
    ///     fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
    ///         let body = format!("<html>{}</html>", self.url); // the download
    ///         ctx.enqueue_on_completion(Parse { body })
    ///     }
    /// }
    /// impl Perform for Parse {
    ///     type Output = usize;
    ///     fn perform(&self, _: &JobContext) -> Result<usize, JobError> {
    ///         Ok(self.body.len())
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .register::<Fetch>()
    ///     .register::<Parse>()
    ///     .start()?;
    /// scheduler.enqueue(Fetch { url: "a".into() })?;
    /// scheduler.wait_idle(Duration::from_secs(10))?;
    /// let parsed = scheduler.runs(&RunFilter::new().job_type("parse"))?;
    /// assert_eq!(parsed[0].result::<usize>()?, "<html>a</html>".len());
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// A permanent failure for what an enqueue refuses (a job type this process does
    /// not register, a payload that does not serialize or is too large, bad options).
    pub fn enqueue_on_completion<J: Job>(&self, job: J) -> Result<(), JobError> {
        self.enqueue_on_completion_with(job, EnqueueOptions::new())
    }

    /// [`JobContext::enqueue_on_completion`] with options (a delay, a priority, a
    /// unique key …).
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use runloom::{EnqueueOptions, Job, JobContext, JobError, ManualClock, Perform};
    /// use runloom::{testing::TestContext, time::macros::datetime};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct SignUp {
    ///     user: u64,
    /// }
    /// #[derive(Serialize, Deserialize, Job, PartialEq, Debug)]
    /// struct Nudge {
    ///     user: u64,
    /// }
    /// impl Perform for SignUp {
    ///     type Output = ();
    ///     fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
    ///         let tomorrow = EnqueueOptions::new().delay(Duration::from_secs(24 * 3600));
    ///         ctx.enqueue_on_completion_with(Nudge { user: self.user }, tomorrow)
    ///     }
    /// }
    ///
    /// let now = datetime!(2026-01-01 9:00 UTC);
    /// let test = TestContext::new().clock(Arc::new(ManualClock::new(now)));
    /// let done = test.perform(&SignUp { user: 7 })?;
    /// assert_eq!(done.enqueued::<Nudge>()?, [Nudge { user: 7 }]);
    /// assert_eq!(done.delay_of::<Nudge>(now), Some(Duration::from_secs(24 * 3600)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`JobContext::enqueue_on_completion`].
    pub fn enqueue_on_completion_with<J: Job>(
        &self,
        job: J,
        opts: EnqueueOptions,
    ) -> Result<(), JobError> {
        let enqueuer = Enqueuer {
            registry: &self.env.registry,
            max_payload_bytes: self.env.max_payload_bytes,
            allow_foreign: self.env.allow_foreign,
        };
        let now = self.env.clock.now();
        // A test context checks everything but that this binary registers the type.
        let run = if self.inline.is_some() {
            enqueuer.run_for_any(&job, &opts, now)
        } else {
            enqueuer.run_for(&job, &opts, now)
        }
        .map_err(|e| JobError::fail(format!("cannot enqueue a follow-up: {e}")))?;
        self.follow_ups.lock().push(run);
        Ok(())
    }
}
