//! The end of a scheduler's life: the handle's lifecycle (running, stopping, stopped)
//! and the shutdown, every step bounded by its deadline.

use std::{
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crossbeam_channel::Sender;

use super::Scheduler;
use crate::{
    dispatch::Control,
    error::{Error, Result},
    events::Event,
    model::ShutdownReport,
};

/// How much longer than its grace period [`Scheduler::shutdown`] may take: the time to
/// hand back what is still running, to let threads return, and to mark the instance
/// offline, whatever the database does meanwhile (locked by another process, full,
/// failing).
pub const SHUTDOWN_OVERRUN: Duration = Duration::from_secs(2);

/// The threads of a running scheduler, and the channels that stop them.
pub(super) struct Threads {
    pub(super) dispatcher: JoinHandle<()>,
    pub(super) workers: Vec<JoinHandle<()>>,
    pub(super) background: Vec<JoinHandle<()>>,
    pub(super) stop_background: Sender<()>,
    pub(super) control: Sender<Control>,
}

/// Where the handle is in its life; [`Scheduler::shutdown`] moves it on.
pub(super) enum Lifecycle {
    Running(Threads),
    /// A shutdown is under way and ends by `deadline`.
    Stopping {
        deadline: Instant,
    },
    Stopped(Stopped),
}

/// How a shutdown ended: every later call gets the same answer.
#[derive(Clone)]
pub(super) struct Stopped {
    report: ShutdownReport,
    /// Why it is incomplete, if it is.
    problem: Option<String>,
}

impl Stopped {
    fn result(&self) -> Result<ShutdownReport> {
        match &self.problem {
            None => Ok(self.report.clone()),
            Some(reason) => Err(Error::ShutdownIncomplete {
                report: Box::new(self.report.clone()),
                reason: reason.clone(),
            }),
        }
    }
}

impl Scheduler {
    /// Shuts down: stops claiming, hands queued runs back, lets running jobs finish for
    /// up to `grace`, then asks the rest to stop and hands them back too (without
    /// counting their attempt), stops the heartbeat and maintenance threads, and marks
    /// this instance offline.
    ///
    /// Returns within `grace` plus [`SHUTDOWN_OVERRUN`] (2 s) whatever the database
    /// does: outcomes it could not write by then are named in the report of the error
    /// (their runs are safe: leases run out and fencing refuses late writes). A call
    /// while another is shutting down waits for that one and gets its answer; a call
    /// after it gets the same answer again.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use runloom::Scheduler;
    /// # let dir = tempfile::tempdir()?;
    /// let scheduler = Scheduler::builder().database(dir.path().join("jobs.db")).start()?;
    /// let report = scheduler.shutdown(Duration::from_secs(10))?;
    /// assert!(report.unwritten.is_empty());
    /// assert_eq!(scheduler.shutdown(Duration::ZERO)?, report, "the same answer again");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ShutdownIncomplete`], with the report, when outcomes could not be
    /// written in time or the instance could not be marked offline.
    pub fn shutdown(&self, grace: Duration) -> Result<ShutdownReport> {
        let start = Instant::now();
        let deadline = start + grace + SHUTDOWN_OVERRUN;
        let threads = {
            let mut lifecycle = self.lifecycle.lock();
            match std::mem::replace(&mut *lifecycle, Lifecycle::Stopping { deadline }) {
                Lifecycle::Running(threads) => threads,
                Lifecycle::Stopping { deadline: first } => {
                    *lifecycle = Lifecycle::Stopping { deadline: first };
                    // The first call is bounded by its own deadline.
                    let wait_until = first + Duration::from_millis(500);
                    while matches!(*lifecycle, Lifecycle::Stopping { .. }) {
                        if self
                            .stopped
                            .wait_until(&mut lifecycle, wait_until)
                            .timed_out()
                        {
                            break;
                        }
                    }
                    return match &*lifecycle {
                        Lifecycle::Stopped(stopped) => stopped.result(),
                        _ => Err(Error::ShutdownIncomplete {
                            report: Box::default(),
                            reason: "another shutdown of this scheduler did not finish in \
                                     time"
                                .to_owned(),
                        }),
                    };
                }
                Lifecycle::Stopped(stopped) => {
                    let result = stopped.result();
                    *lifecycle = Lifecycle::Stopped(stopped);
                    return result;
                }
            }
        };
        let stopped = self.stop(threads, start + grace, deadline);
        let result = stopped.result();
        *self.lifecycle.lock() = Lifecycle::Stopped(stopped);
        self.stopped.notify_all();
        result
    }

    /// The shutdown itself, each step bounded by `deadline`.
    fn stop(&self, threads: Threads, grace_until: Instant, deadline: Instant) -> Stopped {
        let worker = self.shared.worker_id;
        // Time kept for the last write (marking the instance offline).
        let final_write = Duration::from_millis(300);
        let steps_until = deadline.checked_sub(final_write).unwrap_or(deadline);
        let now = self.now();
        if let Err(e) = self
            .shared
            .store
            .write_until(grace_until.min(steps_until), |tx| {
                tx.set_worker_stopping(worker, now)
            })
        {
            log::warn!("could not mark this instance stopping: {}", e.report());
        }
        let mut problems = Vec::new();
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        // The dispatcher stops a little before this thread stops waiting for it.
        let dispatcher_until = steps_until
            .checked_sub(Duration::from_millis(200))
            .unwrap_or(steps_until)
            .max(grace_until);
        // A write under way when the shutdown begins must not keep it waiting.
        self.shared.dispatch_cutoff.set(dispatcher_until);
        let asked = threads
            .control
            .send(Control::Shutdown {
                grace_until,
                deadline: dispatcher_until,
                reply: reply_tx,
            })
            .is_ok();
        let report = match asked.then(|| reply_rx.recv_deadline(steps_until)) {
            Some(Ok(report)) => report,
            _ => {
                problems.push("the dispatcher did not stop in time".to_owned());
                ShutdownReport::default()
            }
        };
        if !report.unwritten.is_empty() {
            problems.push(format!(
                "{} outcome(s) could not be written before the deadline",
                report.unwritten.len()
            ));
        }
        drop(threads.stop_background);
        // Threads still running a job that ignored its cancellation, or blocked on the
        // database past the deadline, are left to finish on their own: a thread cannot
        // be killed.
        let mut handles = threads.background;
        handles.push(threads.dispatcher);
        handles.extend(threads.workers);
        join_until(handles, steps_until);
        let now = self.now();
        if let Err(e) = self
            .shared
            .store
            .write_until(deadline, |tx| tx.mark_worker_offline(worker, now))
        {
            problems.push(format!(
                "could not mark this instance offline: {}",
                e.report()
            ));
        }
        self.shared.events.emit(Event::SchedulerStopped { worker });
        log::info!(
            "scheduler {worker} stopped: {} finished, {} released, {} stuck, {} unwritten",
            report.finished,
            report.released.len(),
            report.stuck.len(),
            report.unwritten.len()
        );
        Stopped {
            report,
            problem: (!problems.is_empty()).then(|| problems.join("; ")),
        }
    }
}

/// Joins the threads that end by `deadline`; the others are left to end on their own.
fn join_until(handles: Vec<JoinHandle<()>>, deadline: Instant) {
    let mut left = handles;
    loop {
        let (done, running): (Vec<_>, Vec<_>) = left.into_iter().partition(JoinHandle::is_finished);
        for h in done {
            let _ = h.join();
        }
        if running.is_empty() || Instant::now() >= deadline {
            return;
        }
        left = running;
        std::thread::sleep(Duration::from_millis(2));
    }
}

impl Drop for Scheduler {
    /// Shuts down with the configured grace period (see
    /// [`crate::SchedulerBuilder::shutdown_grace`]) unless a shutdown already ran; errors are
    /// logged.
    fn drop(&mut self) {
        if !matches!(*self.lifecycle.lock(), Lifecycle::Running(_)) {
            return;
        }
        if let Err(e) = self.shutdown(self.shared.config.shutdown_grace) {
            log::error!("shutdown on drop failed: {}", e.report());
        }
    }
}
