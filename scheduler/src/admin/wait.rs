//! Waiting for runs to finish and for the queue to go idle, with a deadline, instead of
//! a polling loop in every host, test and example.
//!
//! What is waited for is always read from the database, so a run finished by another
//! process counts as much as one finished here. A scheduler's own admin is woken by
//! its events the moment a run of this process changes; changes made elsewhere are
//! seen by re-reading on a backoff (from 2 ms up to [`RECHECK_MAX`]). A read that
//! finds the database busy is retried on the same backoff until the deadline.

use std::time::{Duration, Instant};

use super::Admin;
use crate::{
    error::{Error, Result},
    model::{Run, RunId},
};

/// The first re-read comes this soon after the first look.
const RECHECK_FIRST: Duration = Duration::from_millis(2);
/// The longest gap between two reads: how late a change made by another process (which
/// emits no event here) can be seen.
pub(crate) const RECHECK_MAX: Duration = Duration::from_millis(100);
/// However many events arrive, reads are at least this far apart.
const RECHECK_MIN: Duration = Duration::from_millis(1);

impl Admin {
    /// Waits until the run has finished (completed, failed or cancelled) and returns
    /// it, or gives up after `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{Job, JobContext, JobError, Perform, RunStatus, Scheduler};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Add {
    ///     a: i64,
    ///     b: i64,
    /// }
    /// impl Perform for Add {
    ///     type Output = i64;
    ///     fn perform(&self, _: &JobContext) -> Result<i64, JobError> {
    ///         Ok(self.a + self.b)
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .register::<Add>()
    ///     .start()?;
    /// let id = scheduler.enqueue(Add { a: 2, b: 3 })?.id;
    /// let run = scheduler.admin().wait(id, Duration::from_secs(10))?;
    /// assert_eq!(run.status, RunStatus::Completed);
    /// assert_eq!(run.result::<i64>()?, 5);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::WaitTimeout`] when the run is still unfinished after `timeout`;
    /// [`Error::RunNotFound`]; database errors other than a busy database.
    pub fn wait(&self, run: RunId, timeout: Duration) -> Result<Run> {
        let mut runs = self.wait_all(&[run], timeout)?;
        runs.pop().ok_or(Error::RunNotFound(run))
    }

    /// Waits until every run of `runs` has finished and returns them in the order
    /// given, or gives up after `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Square(i64);
    /// impl Perform for Square {
    ///     type Output = i64;
    ///     fn perform(&self, _: &JobContext) -> Result<i64, JobError> {
    ///         Ok(self.0 * self.0)
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .register::<Square>()
    ///     .start()?;
    /// let ids: Vec<_> = scheduler
    ///     .enqueue_many((1..=4).map(Square))?
    ///     .iter()
    ///     .map(|r| r.id)
    ///     .collect();
    /// let runs = scheduler.wait_all(&ids, Duration::from_secs(10))?;
    /// let squares: Vec<i64> = runs.iter().map(|r| r.result()).collect::<Result<_, _>>()?;
    /// assert_eq!(squares, [1, 4, 9, 16]);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::WaitTimeout`] naming the runs still unfinished; [`Error::RunNotFound`]
    /// for an id that names no run; database errors other than a busy database.
    pub fn wait_all(&self, runs: &[RunId], timeout: Duration) -> Result<Vec<Run>> {
        let mut done: Vec<Option<Run>> = vec![None; runs.len()];
        let outcome = self.wait_until(timeout, || {
            let mut unfinished = Vec::new();
            for (slot, id) in done.iter_mut().zip(runs) {
                if slot.is_some() {
                    continue;
                }
                let run = self.store.read(|tx| tx.get_run(*id))?;
                if run.status.is_finished() {
                    *slot = Some(run);
                } else {
                    unfinished.push(*id);
                }
            }
            Ok(unfinished.is_empty().then_some(()).ok_or(unfinished))
        })?;
        match outcome {
            Ok(()) => Ok(done.into_iter().flatten().collect()),
            Err((waited, unfinished)) => Err(Error::WaitTimeout { waited, unfinished }),
        }
    }

    /// Waits until nothing is to be done now: no run running, no pending run due, no
    /// finished run whose dependents are still to be released, no schedule whose next
    /// occurrence is due to be created. Runs due later (a retry waiting for its backoff,
    /// a delayed enqueue, a schedule's later occurrences) do not count. It is the whole
    /// database's queue, whichever process runs it. "Now" is this handle's clock (a
    /// scheduler's [`ManualClock`](crate::ManualClock), in tests).
    /// While claiming is paused, or when due runs are of job types no live process
    /// runs, the queue never goes idle and the wait times out.
    ///
    /// ```
    /// use std::time::Duration;
    /// use runloom::{Job, JobContext, JobError, Perform, Scheduler};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Job)]
    /// struct Tick;
    /// impl Perform for Tick {
    ///     type Output = ();
    ///     fn perform(&self, _: &JobContext) -> Result<(), JobError> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder()
    ///     .database(dir.path().join("jobs.db"))
    ///     .register::<Tick>()
    ///     .start()?;
    /// scheduler.enqueue_many((0..100).map(|_| Tick))?;
    /// scheduler.wait_idle(Duration::from_secs(30))?;
    /// assert_eq!(scheduler.admin().counts()?.completed, 100);
    /// # scheduler.shutdown(Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::WaitTimeout`] (with no run named) when the queue is still busy after
    /// `timeout`; database errors other than a busy database.
    pub fn wait_idle(&self, timeout: Duration) -> Result<()> {
        let outcome = self.wait_until(timeout, || {
            let now = self.clock.now();
            let idle = self.store.read(|tx| tx.is_idle(now))?;
            Ok(idle.then_some(()).ok_or(Vec::new()))
        })?;
        outcome.map_err(|(waited, unfinished)| Error::WaitTimeout { waited, unfinished })
    }

    /// Calls `check` until it gives `Ok(Ok(_))` or `timeout` passes: woken by this
    /// process's events when there are any, re-reading on a backoff otherwise. On
    /// timeout, gives how long it waited and the last `Err` of `check`; a database that
    /// stays busy to the deadline gives its busy error.
    fn wait_until<T, E>(
        &self,
        timeout: Duration,
        mut check: impl FnMut() -> Result<std::result::Result<T, E>>,
    ) -> Result<std::result::Result<T, (Duration, E)>> {
        let started = Instant::now();
        let deadline = started.checked_add(timeout).unwrap_or_else(far_future);
        let watching = self.changes.as_ref().map(|c| (c, c.watch()));
        let mut pace = RECHECK_FIRST;
        loop {
            // Read the generation before looking, so an event between the look and the
            // sleep ends the sleep at once.
            let seen = watching.as_ref().map(|(c, _)| c.generation());
            let looked = Instant::now();
            let missing = match check() {
                Ok(Ok(v)) => return Ok(Ok(v)),
                Ok(Err(missing)) => missing,
                // A busy database is a reason to look again later, not to give up; at
                // the deadline it is what the caller gets.
                Err(e) if e.is_busy() && Instant::now() < deadline => {
                    sleep_until(deadline.min(Instant::now() + pace));
                    pace = (pace * 2).min(RECHECK_MAX);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let now = Instant::now();
            if now >= deadline {
                return Ok(Err((now - started, missing)));
            }
            let until = deadline.min(now + pace);
            match (&watching, seen) {
                (Some((changes, watch)), Some(seen)) => changes.wait_past(watch, seen, until),
                _ => sleep_until(until),
            }
            pace = (pace * 2).min(RECHECK_MAX);
            // However many events arrive, reads stay apart.
            sleep_until(deadline.min(looked + RECHECK_MIN));
        }
    }
}

fn sleep_until(until: Instant) {
    if let Some(left) = until.checked_duration_since(Instant::now()) {
        std::thread::sleep(left);
    }
}

/// A deadline for a timeout too long to add to now (`Duration::MAX`): a year on.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(365 * 24 * 3600)
}
