//! ④ Dispatch: the dispatcher thread.
//!
//! One loop owns the instance's share of the database's write traffic. Each turn it
//! gathers what happened (finished attempts from the workers, a nudge from an enqueue,
//! a timeout, a shutdown request), then commits **one** IMMEDIATE transaction that writes
//! every pending outcome (fenced by its lease) and claims as many due runs as there are
//! free slots, and finally emits the events of what committed and hands the claimed
//! runs to the workers over the bounded channel. Under load, completions that arrive
//! while a transaction runs are written together in the next one: batching comes from
//! the work itself, never from waiting.
//!
//! When idle it sleeps until the first of: a nudge (an enqueue in this process), the
//! poll interval (work written by other processes), the next due run it knows of, the
//! earliest job deadline, or the shutdown grace period.

pub(crate) mod inflight;
mod prefetch;

use std::{
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender, select};
use time::OffsetDateTime;

use crate::clock::HostInstant;

use crate::{
    claim::{Claimed, Claimer},
    complete::{self, Ending, PendingWrite},
    events::Event,
    schedule,
    scheduler::{Shared, ShutdownReport},
    store::{AttemptOutcome, ClaimedRun, RunStatus},
};

use self::inflight::{Attempt, SlotView};

/// A claimed run on its way to a worker: the attempt is named by the run and the
/// fencing token of its lease.
#[derive(Debug)]
pub(crate) struct Dispatch {
    pub(crate) run: ClaimedRun,
}

impl Dispatch {
    pub(crate) fn attempt(&self) -> Attempt {
        Attempt::new(self.run.id, self.run.token)
    }
}

/// A worker is done with an attempt.
pub(crate) struct Completion {
    /// The attempt's outcome, when the thread still owned it when the job returned;
    /// `None` when it was decided elsewhere (the slot may have been freed: a reason to
    /// claim again).
    pub(crate) outcome: Option<(SlotView, Ending)>,
}

/// Requests to the dispatcher.
#[derive(Debug)]
pub(crate) enum Control {
    /// Stop claiming, let running jobs finish for `grace`, release the rest, then reply.
    Shutdown {
        grace: Duration,
        reply: Sender<ShutdownReport>,
    },
}

/// How long threads asked to stop at the end of a shutdown grace period get to return
/// before they are reported stuck (their runs are already released by then).
const STOP_JOIN_WAIT: Duration = Duration::from_secs(1);

/// How long to wait after a failed write before the next try, growing with each
/// consecutive failure up to a second: the outcomes stay pending, never dropped.
fn write_backoff(failures: u32) -> Duration {
    Duration::from_millis(1u64 << failures.min(10)).min(Duration::from_secs(1))
}

struct Stopping {
    grace_until: Instant,
    reply: Option<Sender<ShutdownReport>>,
    /// Set once running runs were released: until when their threads may return.
    give_up_at: Option<Instant>,
    report: ShutdownReport,
}

pub(crate) struct Dispatcher {
    shared: Arc<Shared>,
    claimer: Claimer,
    to_workers: Option<Sender<Dispatch>>,
    queue: Receiver<Dispatch>,
    completions: Receiver<Completion>,
    wake: Receiver<()>,
    control: Receiver<Control>,
    writes: Vec<PendingWrite>,
    claim_wanted: bool,
    last_claim: Instant,
    next_due: Option<Instant>,
    /// When the next schedule occurrence is to be created (a little before it is due).
    next_schedule: Option<Instant>,
    /// The last materialisation left schedules for another transaction.
    schedules_left: bool,
    /// When schedules were last looked at (another process may have added one).
    last_schedule_check: Instant,
    write_failures: u32,
    stopping: Option<Stopping>,
    prefetch: prefetch::Prefetch,
    /// The last claim found claiming paused: until a resume from this process or the
    /// next poll, wake-ups from enqueues are no reason to try again.
    paused: bool,
}

/// The channels the dispatcher works with.
pub(crate) struct Channels {
    pub(crate) to_workers: Sender<Dispatch>,
    pub(crate) queue: Receiver<Dispatch>,
    pub(crate) completions: Receiver<Completion>,
    pub(crate) wake: Receiver<()>,
    pub(crate) control: Receiver<Control>,
}

impl Dispatcher {
    pub(crate) fn new(shared: Arc<Shared>, claimer: Claimer, channels: Channels) -> Self {
        let prefetch = prefetch::Prefetch::new(
            shared.config.worker_threads,
            shared.config.max_in_flight,
            shared.config.adaptive_in_flight,
        );
        Dispatcher {
            shared,
            claimer,
            to_workers: Some(channels.to_workers),
            queue: channels.queue,
            completions: channels.completions,
            wake: channels.wake,
            control: channels.control,
            writes: Vec::new(),
            claim_wanted: true,
            last_claim: Instant::now(),
            next_due: None,
            next_schedule: None,
            schedules_left: false,
            last_schedule_check: Instant::now(),
            write_failures: 0,
            stopping: None,
            prefetch,
            paused: false,
        }
    }

    pub(crate) fn run(mut self) {
        loop {
            let wait = self.wait_time();
            select! {
                recv(self.completions) -> msg => {
                    if let Ok(c) = msg {
                        self.on_completion(c);
                    }
                }
                recv(self.wake) -> _ => {
                    if !self.paused || self.shared.resumed.swap(false, Ordering::AcqRel) {
                        self.claim_wanted = true;
                    }
                }
                recv(self.control) -> msg => match msg {
                    Ok(Control::Shutdown { grace, reply }) => self.begin_stop(grace, Some(reply)),
                    Err(_) => self.begin_stop(Duration::ZERO, None),
                },
                default(wait) => {}
            }
            while let Ok(c) = self.completions.try_recv() {
                self.on_completion(c);
            }
            self.collect_timeouts();
            self.step_stop();
            self.write_cycle();
            if self.finish_stop() {
                return;
            }
        }
    }

    fn now(&self) -> OffsetDateTime {
        self.shared.clock.now()
    }

    fn policy(&self) -> &dyn crate::retry::RetryPolicy {
        self.shared.config.retry_policy.as_ref()
    }

    fn wait_time(&self) -> Duration {
        let now = Instant::now();
        if !self.writes.is_empty() && self.write_failures == 0 {
            return Duration::ZERO;
        }
        let mut until = now + Duration::from_secs(3600);
        if self.stopping.is_none() {
            // Claim timers only matter when a claim is possible: with every slot busy,
            // the next completion wakes the loop instead.
            let free = self.shared.inflight.len() < self.prefetch.target();
            if free && self.claim_wanted {
                // Slots freed by the last write while a claim is owed (the outcomes
                // that freed them were written with no slot to claim into).
                return Duration::ZERO;
            }
            if free {
                until = until.min(self.last_claim + self.shared.config.poll_interval);
                if let Some(due) = self.next_due {
                    until = until.min(due);
                }
            }
            until = until.min(self.last_schedule_check + self.shared.config.poll_interval);
            if let Some(at) = self.next_schedule {
                until = until.min(at);
            }
        }
        if let Some(deadline) = self.shared.inflight.next_deadline() {
            until = until.min(deadline);
        }
        if self.write_failures > 0 {
            until = until.min(now + write_backoff(self.write_failures));
        }
        if let Some(stop) = &self.stopping {
            until = until.min(stop.give_up_at.unwrap_or(stop.grace_until));
        }
        until.saturating_duration_since(now)
    }

    fn on_completion(&mut self, c: Completion) {
        self.claim_wanted = true;
        let Some((view, ending)) = c.outcome else {
            return;
        };
        let write = complete::decide(&view, ending, self.now(), self.policy());
        if let Some(timing) = write.timing {
            self.prefetch.job_ran(timing.duration);
        }
        self.writes.push(write);
    }

    fn collect_timeouts(&mut self) {
        let now = self.now();
        for (view, ran_for) in self.shared.inflight.take_timed_out(Instant::now()) {
            log::warn!(
                "{} ({}) ran past its timeout after {ran_for:.1?}: its attempt fails; the \
                 thread stays busy until the job returns",
                view.attempt,
                view.job_type
            );
            self.shared.stats.timeouts.inc();
            self.shared.events.emit(Event::ThreadStuck {
                run: view.attempt.run,
                job_type: view.job_type.clone(),
            });
            let write = complete::decide(&view, Ending::TimedOut { ran_for }, now, self.policy());
            self.writes.push(write);
        }
    }

    /// One transaction: every pending outcome, the schedule occurrences now due, then a
    /// claim into the free slots (which can take those occurrences at once).
    fn write_cycle(&mut self) {
        let now_instant = Instant::now();
        let poll_due = now_instant >= self.last_claim + self.shared.config.poll_interval;
        let due_reached = self.next_due.is_some_and(|d| now_instant >= d);
        // The slots of the outcomes written in this transaction are free once it
        // commits: claim into them in the same transaction, so the workers get new
        // runs as soon as the old ones are recorded.
        let held = self
            .shared
            .inflight
            .held_after(self.writes.iter().map(|w| w.attempt));
        let free = self.prefetch.target().saturating_sub(held);
        let claim =
            self.stopping.is_none() && free > 0 && (self.claim_wanted || poll_due || due_reached);
        let schedules = self.stopping.is_none()
            && (self.shared.schedules_changed.swap(false, Ordering::AcqRel)
                || now_instant >= self.last_schedule_check + self.shared.config.poll_interval
                || self.schedules_left
                || self.next_schedule.is_some_and(|t| now_instant >= t));
        if self.writes.is_empty() && !claim && !schedules {
            return;
        }
        let free = if claim { free } else { 0 };
        let threshold = self.shared.config.misfire_threshold;
        let writes = &self.writes;
        let claimer = &self.claimer;
        let clock = &self.shared.clock;
        let started = Instant::now();
        let result = self.shared.store.write(|tx| {
            // Read once the write lock is held: a run enqueued "now" by a transaction
            // that committed before this one is due in this claim. Read before the
            // lock, a high-priority run enqueued meanwhile looked a millisecond early
            // and a lower one went first.
            let now = clock.now();
            let host = HostInstant::now();
            let mut statuses = Vec::with_capacity(writes.len());
            for w in writes {
                match tx.finish_attempt(w.attempt.run, w.attempt.token, &w.outcome, w.timing, now) {
                    Ok(f) => statuses.push(Some(f.status)),
                    Err(e) if e.is_lease_lost() => statuses.push(None),
                    Err(e) => return Err(e),
                }
            }
            let materialized = if schedules {
                Some(schedule::materialize(tx, now, threshold)?)
            } else {
                None
            };
            let claimed = claimer.claim(tx, free, now, host)?;
            Ok((statuses, materialized, claimed, now))
        });
        self.prefetch.cycle_took(started.elapsed());
        match result {
            Ok((statuses, materialized, claimed, now)) => {
                self.write_failures = 0;
                if let Some(m) = materialized {
                    self.after_materialize(m, now, now_instant);
                }
                self.after_commit(statuses, claimed, free, now, started);
            }
            Err(e) => {
                self.write_failures = self.write_failures.saturating_add(1);
                if schedules {
                    // Look again on the next turn.
                    self.schedules_left = true;
                }
                let pending = self.writes.len();
                if e.is_busy() {
                    log::warn!(
                        "database busy: {pending} outcome(s) wait for the next try (attempt {})",
                        self.write_failures
                    );
                } else {
                    log::error!(
                        "writing {pending} outcome(s) failed, retrying (attempt {}): {e}",
                        self.write_failures
                    );
                }
                if claim {
                    self.last_claim = now_instant;
                }
            }
        }
    }

    fn after_materialize(
        &mut self,
        m: schedule::Materialized,
        now: OffsetDateTime,
        now_instant: Instant,
    ) {
        self.last_schedule_check = now_instant;
        self.schedules_left = m.more;
        self.next_schedule = m.next_due.map(|due| {
            let ahead =
                (due - now) - time::Duration::try_from(schedule::HORIZON).unwrap_or_default();
            now_instant + Duration::try_from(ahead).unwrap_or(Duration::ZERO)
        });
        if !m.created.is_empty() {
            self.claim_wanted = true;
            for (run, job_type) in m.created {
                self.shared.events.emit(Event::Enqueued {
                    run,
                    job_type,
                    created: true,
                });
            }
        }
    }

    /// `started`: when the transaction began, by this process's clock; the leases it
    /// wrote are surely live until a lease duration after it.
    fn after_commit(
        &mut self,
        statuses: Vec<Option<RunStatus>>,
        claimed: Claimed,
        asked: usize,
        now: OffsetDateTime,
        started: Instant,
    ) {
        let now_instant = started;
        let writes = std::mem::take(&mut self.writes);
        self.shared
            .inflight
            .written(writes.iter().map(|w| w.attempt));
        for (w, status) in writes.iter().zip(statuses) {
            match status {
                Some(status) => {
                    if matches!(w.outcome, AttemptOutcome::Release { .. }) {
                        self.shared.stats.released.inc();
                    } else {
                        self.shared.stats.record(status);
                    }
                    if let Some(stop) = &mut self.stopping {
                        if matches!(w.outcome, AttemptOutcome::Release { .. }) {
                            stop.report.released.push(w.attempt.run);
                        } else {
                            stop.report.finished += 1;
                        }
                    }
                    self.shared.events.emit(w.event(status));
                }
                None => {
                    self.shared.stats.lease_lost.inc();
                    log::warn!(
                        "{} ({}): the lease was lost before its outcome was written; the \
                         current holder's work stands",
                        w.attempt,
                        w.job_type,
                    );
                    self.shared.events.emit(Event::LeaseLost {
                        run: w.attempt.run,
                        token: w.attempt.token,
                    });
                }
            }
        }
        if asked > 0 {
            self.paused = claimed.paused;
            self.last_claim = now_instant;
            self.claim_wanted = claimed.runs.len() == asked;
            // A due time already past (due runs of job types this process does not
            // run) is no reason to wake before the next poll.
            self.next_due = claimed
                .next_due
                .filter(|due| *due > now)
                .map(|due| now_instant + (due - now).try_into().unwrap_or(Duration::ZERO));
            self.shared
                .inflight
                .claimed(&claimed.runs, started + self.claimer.lease);
            for run in claimed.runs {
                let dispatch = Dispatch { run };
                let attempt = dispatch.attempt();
                let sent = self
                    .to_workers
                    .as_ref()
                    .is_some_and(|tx| tx.send(dispatch).is_ok());
                if !sent {
                    // Cannot happen while running (the channel holds one place per
                    // slot); if it does, the lease expires and the run is rescued.
                    log::error!("{attempt} could not be handed to a worker");
                }
            }
        }
    }

    fn begin_stop(&mut self, grace: Duration, reply: Option<Sender<ShutdownReport>>) {
        if self.stopping.is_some() {
            return;
        }
        self.stopping = Some(Stopping {
            grace_until: Instant::now() + grace,
            reply,
            give_up_at: None,
            report: ShutdownReport::default(),
        });
        // Runs still in the local queue go back at once; running jobs get the grace.
        let now = self.now();
        let mut released = self.shared.inflight.release_queued();
        while let Ok(d) = self.queue.try_recv() {
            released.extend(self.shared.inflight.drained(d.attempt()));
        }
        self.to_workers = None;
        for view in released {
            let write = complete::decide(&view, Ending::Released, now, self.policy());
            self.writes.push(write);
        }
    }

    fn step_stop(&mut self) {
        let now = self.now();
        let policy = self.shared.config.retry_policy.clone();
        let Some(stop) = &mut self.stopping else {
            return;
        };
        if stop.give_up_at.is_some() || Instant::now() < stop.grace_until {
            return;
        }
        stop.give_up_at = Some(Instant::now() + STOP_JOIN_WAIT);
        for view in self.shared.inflight.release_running() {
            log::warn!(
                "{} ({}) still running at the end of the shutdown grace period: released",
                view.attempt,
                view.job_type
            );
            let write = complete::decide(&view, Ending::Released, now, policy.as_ref());
            self.writes.push(write);
        }
    }

    /// True when the dispatcher is done: stopping, nothing left to write, and every slot
    /// either gone or held by a thread that did not return in time.
    fn finish_stop(&mut self) -> bool {
        let Some(stop) = &self.stopping else {
            return false;
        };
        if !self.writes.is_empty() {
            return false;
        }
        let gave_up = stop.give_up_at.is_some_and(|t| Instant::now() >= t);
        if !self.shared.inflight.is_empty() && !gave_up {
            return false;
        }
        let Some(mut stop) = self.stopping.take() else {
            return false;
        };
        stop.report.stuck = self.shared.inflight.busy_threads();
        if let Some(reply) = stop.reply.take() {
            let _ = reply.send(stop.report);
        }
        true
    }
}
