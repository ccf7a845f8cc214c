//! ④ Dispatch: the dispatcher thread.
//!
//! One loop owns the instance's share of the database's write traffic. Each turn it
//! gathers what happened (finished attempts from the workers, the reasons given on its
//! wake-up channel, `wake.rs`: work, schedules changed, resumed; a timeout, a shutdown
//! request), then commits **one** IMMEDIATE transaction that writes
//! every pending outcome (fenced by its lease) and claims as many due runs as there are
//! free slots, and finally emits the events of what committed and hands the claimed
//! runs to the workers over the bounded channel. Under load, completions that arrive
//! while a transaction runs are written together in the next one: batching comes from
//! the work itself, never from waiting.
//!
//! When idle it sleeps until the first of: a wake-up (an enqueue in this process), the
//! poll interval (work written by other processes), the next due run it knows of, the
//! earliest job deadline, or the shutdown's next step.
//!
//! **Failures.** A transaction that fails for a reason that may pass (the disk is full,
//! another process holds the lock, an I/O error) is retried with a growing pause, up to
//! a second, and claims wait with it; outcomes stay in memory meanwhile, never dropped.
//! The log gets one line when writing starts failing and one when it recovers. On a
//! full disk the write-ahead log is also checkpointed and truncated before the next
//! try, so space freed on the disk goes to the backlog instead of to the log. An
//! outcome the database refuses for good (a result it rejects, say) is found by writing
//! each outcome on its own, and only that attempt fails, with the refusal as its error;
//! the rest are written.
//!
//! **Shutdown** has a deadline: whatever cannot be written by then is reported (its
//! leases expire and other workers take the runs; fencing keeps late writes out).

mod prefetch;
pub(crate) mod wake;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender, select};
use time::OffsetDateTime;

use self::wake::{Wake, Wakeups};
use crate::{
    backend::{Backend, Cutoff, Writes},
    claim::{Claimed, Claimer},
    clock::{Clock, HostInstant},
    complete::{self, Ending, PendingWrite},
    error::{Error, Result},
    events::{Event, Events},
    failing::Failing,
    inflight::{Attempt, InFlight, SlotView},
    metrics::Stats,
    model::{AttemptOutcome, ClaimedRun, RunStatus, ShutdownReport},
    retry::RetryPolicy,
    schedule,
};

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
    /// Stop claiming, let running jobs finish until `grace_until`, release the rest,
    /// write what can be written by `deadline`, then reply.
    Shutdown {
        grace_until: Instant,
        deadline: Instant,
        reply: Sender<ShutdownReport>,
    },
}

/// How long threads asked to stop at the end of a shutdown grace period get to return
/// before they are reported stuck (their runs are already released by then).
const STOP_JOIN_WAIT: Duration = Duration::from_secs(1);

struct Stopping {
    grace_until: Instant,
    /// Past it, outcomes still unwritten are given up (and reported).
    deadline: Instant,
    reply: Option<Sender<ShutdownReport>>,
    /// Set once running runs were released: until when their threads may return.
    give_up_at: Option<Instant>,
    report: ShutdownReport,
}

/// How the last write transaction ended, for the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriteMode {
    /// All outcomes in one go: the hot path.
    Batch,
    /// One savepoint per outcome, after a transaction failed on something the database
    /// refuses for good: that outcome is replaced, the others are written.
    OneByOne,
}

pub(crate) struct Dispatcher {
    store: Arc<dyn Backend>,
    clock: Arc<dyn Clock>,
    inflight: Arc<InFlight>,
    events: Arc<Events>,
    stats: Arc<Stats>,
    /// Brought forward by a shutdown: waits for the write lock end then.
    cutoff: Arc<Cutoff>,
    retry: Arc<dyn RetryPolicy>,
    max_snoozes: u32,
    poll_interval: Duration,
    misfire_threshold: Duration,
    claimer: Claimer,
    /// Per lane (queue of this instance): the channel to its worker threads (`None`
    /// once stopping) and its receiving end, drained at shutdown.
    to_workers: Vec<Option<Sender<Dispatch>>>,
    queues: Vec<Receiver<Dispatch>>,
    completions: Receiver<Completion>,
    wake: Wakeups,
    control: Receiver<Control>,
    writes: Vec<PendingWrite>,
    /// A schedule changed since schedules were last looked at.
    schedules_changed: bool,
    claim_wanted: bool,
    last_claim: Instant,
    next_due: Option<Instant>,
    /// When the next schedule occurrence is to be created (a little before it is due).
    next_schedule: Option<Instant>,
    /// The last materialisation left schedules for another transaction.
    schedules_left: bool,
    /// When schedules were last looked at (another process may have added one).
    last_schedule_check: Instant,
    /// The write transaction's failures, and the pause they impose.
    failing: Failing,
    /// No write transaction is tried before this (set after a failure).
    retry_at: Option<Instant>,
    mode: WriteMode,
    /// Occurrences the database refused to create: schedules wait until this.
    schedules_retry_at: Option<Instant>,
    schedule_failures: Failing,
    stopping: Option<Stopping>,
    /// Per lane: how many runs to hold.
    prefetch: Vec<prefetch::Prefetch>,
    /// The last claim found claiming paused: until a resume from this process or the
    /// next poll, wake-ups from enqueues are no reason to try again.
    paused: bool,
    /// The settle queue was not empty after the last transaction.
    settling: bool,
    /// Schedules are materialised in a savepoint (after the database refused one).
    schedules_guarded: bool,
    /// Set by a transaction whose materialisation the database refused for good.
    schedules_refused: std::cell::Cell<bool>,
}

/// What the dispatcher works with, and nothing more (built in the wiring).
pub(crate) struct Deps {
    pub(crate) store: Arc<dyn Backend>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) inflight: Arc<InFlight>,
    pub(crate) events: Arc<Events>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) cutoff: Arc<Cutoff>,
    /// The retry policy of failed attempts.
    pub(crate) retry: Arc<dyn RetryPolicy>,
    /// Snoozes a run may take before one counts as a failed attempt.
    pub(crate) max_snoozes: u32,
    pub(crate) poll_interval: Duration,
    pub(crate) misfire_threshold: Duration,
    /// Per lane (queue of this instance): its worker threads and the most runs it
    /// holds.
    pub(crate) lanes: Vec<(usize, usize)>,
    pub(crate) adaptive_in_flight: bool,
}

/// The channels the dispatcher works with.
pub(crate) struct Channels {
    /// Per lane, the channel to its worker threads and its receiving end.
    pub(crate) to_workers: Vec<Sender<Dispatch>>,
    pub(crate) queues: Vec<Receiver<Dispatch>>,
    pub(crate) completions: Receiver<Completion>,
    pub(crate) wake: Wakeups,
    pub(crate) control: Receiver<Control>,
}

/// What one write transaction did.
struct Committed {
    /// Per pending write (same order): the run's new status, `None` when the lease
    /// was lost, and the write that was finally stored (an outcome the database refused
    /// is replaced).
    written: Vec<(PendingWrite, Ended)>,
    /// Occurrences created, or the database's refusal to create them (the rest of the
    /// transaction committed without them).
    materialized: Option<Result<schedule::Materialized>>,
    /// Runs are left in the settle queue: go on in the next transaction.
    settling: bool,
    claimed: Claimed,
    now: OffsetDateTime,
}

impl Dispatcher {
    pub(crate) fn new(deps: Deps, claimer: Claimer, channels: Channels) -> Self {
        let prefetch = deps
            .lanes
            .iter()
            .map(|&(threads, max)| prefetch::Prefetch::new(threads, max, deps.adaptive_in_flight))
            .collect();
        Dispatcher {
            store: deps.store,
            clock: deps.clock,
            inflight: deps.inflight,
            events: deps.events,
            stats: deps.stats,
            cutoff: deps.cutoff,
            retry: deps.retry,
            max_snoozes: deps.max_snoozes,
            poll_interval: deps.poll_interval,
            misfire_threshold: deps.misfire_threshold,
            claimer,
            to_workers: channels.to_workers.into_iter().map(Some).collect(),
            queues: channels.queues,
            completions: channels.completions,
            wake: channels.wake,
            control: channels.control,
            writes: Vec::new(),
            schedules_changed: false,
            claim_wanted: true,
            last_claim: Instant::now(),
            next_due: None,
            next_schedule: None,
            schedules_left: false,
            last_schedule_check: Instant::now(),
            failing: Failing::new("writing outcomes and claims"),
            retry_at: None,
            mode: WriteMode::Batch,
            schedules_retry_at: None,
            schedule_failures: Failing::new("creating schedule occurrences"),
            stopping: None,
            prefetch,
            paused: false,
            settling: false,
            schedules_guarded: false,
            schedules_refused: std::cell::Cell::new(false),
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
                recv(self.wake.signal()) -> _ => {}
                recv(self.control) -> msg => match msg {
                    Ok(Control::Shutdown { grace_until, deadline, reply }) => {
                        self.begin_stop(grace_until, deadline, Some(reply));
                    }
                    Err(_) => {
                        let now = Instant::now();
                        self.begin_stop(now, now + STOP_JOIN_WAIT, None);
                    }
                },
                default(wait) => {}
            }
            // Taken at every turn, not only after a signal: a reason given while the
            // loop was busy is acted on now (its signal then wakes an idle turn).
            let why = self.wake.take();
            if why.contains(Wake::Schedules) {
                self.schedules_changed = true;
            }
            if why.contains(Wake::Resumed) || (why.contains(Wake::Work) && !self.paused) {
                self.claim_wanted = true;
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
        self.clock.now()
    }

    /// Some lane holds fewer runs than its target.
    fn has_room(&self) -> bool {
        let held = self.inflight.len_by_lane(self.prefetch.len());
        self.prefetch
            .iter()
            .zip(held)
            .any(|(p, held)| held < p.target())
    }

    fn rules(&self) -> complete::Rules<'_> {
        complete::Rules {
            policy: self.retry.as_ref(),
            max_snoozes: self.max_snoozes,
        }
    }

    /// True while a failed transaction's pause runs.
    fn backing_off(&self, now: Instant) -> bool {
        self.retry_at.is_some_and(|t| now < t)
    }

    fn wait_time(&self) -> Duration {
        let now = Instant::now();
        let mut until = now + Duration::from_secs(3600);
        if let Some(retry) = self.retry_at.filter(|t| now < *t) {
            // Nothing is written or claimed before the pause ends, however much is
            // waiting: only deadlines (to record timeouts) and the shutdown come first.
            until = retry;
        } else {
            if !self.writes.is_empty() || self.settling {
                return Duration::ZERO;
            }
            if self.stopping.is_none() {
                // Claim timers only matter when a claim is possible: with every slot
                // busy, the next completion wakes the loop instead.
                let free = self.has_room();
                if free && self.claim_wanted {
                    // Slots freed by the last write while a claim is owed (the outcomes
                    // that freed them were written with no slot to claim into).
                    return Duration::ZERO;
                }
                if free {
                    until = until.min(self.last_claim + self.poll_interval);
                    if let Some(due) = self.next_due {
                        until = until.min(due);
                    }
                }
                until = until.min(self.last_schedule_check + self.poll_interval);
                if let Some(at) = self.next_schedule {
                    until = until.min(at);
                }
            }
        }
        if let Some(deadline) = self.inflight.next_deadline() {
            until = until.min(deadline);
        }
        if let Some(stop) = &self.stopping {
            until = until
                .min(stop.give_up_at.unwrap_or(stop.grace_until))
                .min(stop.deadline);
        }
        until.saturating_duration_since(now)
    }

    fn on_completion(&mut self, c: Completion) {
        self.claim_wanted = true;
        let Some((view, ending)) = c.outcome else {
            return;
        };
        let write = complete::decide(&view, ending, self.now(), self.rules());
        if let Some(timing) = write.timing {
            if let Some(p) = self.prefetch.get_mut(view.lane) {
                p.job_ran(timing.duration);
            }
        }
        self.writes.push(write);
    }

    fn collect_timeouts(&mut self) {
        let now = self.now();
        for (view, ran_for) in self.inflight.take_timed_out(Instant::now()) {
            log::warn!(
                "{} ({}) ran past its timeout after {ran_for:.1?}: its attempt fails; the \
                 thread stays busy until the job returns",
                view.attempt,
                view.job_type
            );
            self.stats.timeouts.inc();
            self.events.emit(Event::ThreadStuck {
                run: view.attempt.run,
                job_type: view.job_type.clone(),
            });
            let write = complete::decide(&view, Ending::TimedOut { ran_for }, now, self.rules());
            self.writes.push(write);
        }
    }

    /// One transaction: every pending outcome, the schedule occurrences now due, then a
    /// claim into the free slots (which can take those occurrences at once).
    fn write_cycle(&mut self) {
        let now_instant = Instant::now();
        if self.backing_off(now_instant) {
            return;
        }
        let poll_due = now_instant >= self.last_claim + self.poll_interval;
        let due_reached = self.next_due.is_some_and(|d| now_instant >= d);
        // The slots of the outcomes written in this transaction are free once it
        // commits: claim into them in the same transaction, so the workers get new
        // runs as soon as the old ones are recorded.
        let held = self.inflight.held_after_by_lane(
            self.writes.iter().map(PendingWrite::attempt),
            self.prefetch.len(),
        );
        let mut free: Vec<usize> = self
            .prefetch
            .iter()
            .zip(&held)
            .map(|(p, held)| p.target().saturating_sub(*held))
            .collect();
        let room = free.iter().any(|f| *f > 0);
        let claim =
            self.stopping.is_none() && room && (self.claim_wanted || poll_due || due_reached);
        let schedules = self.stopping.is_none()
            && self.schedules_retry_at.is_none_or(|t| now_instant >= t)
            && (std::mem::take(&mut self.schedules_changed)
                || now_instant >= self.last_schedule_check + self.poll_interval
                || self.schedules_left
                || self.next_schedule.is_some_and(|t| now_instant >= t));
        if self.writes.is_empty() && !claim && !schedules && !self.settling {
            return;
        }
        if !claim {
            free.iter_mut().for_each(|f| *f = 0);
        }
        // Every write waits for the lock as long as the busy timeout allows, and never
        // past the end of a shutdown.
        let mut deadline = now_instant + self.store.busy_timeout();
        if let Some(stop) = &self.stopping {
            deadline = deadline.min(stop.deadline);
        }
        let started = Instant::now();
        let mode = self.mode;
        self.schedules_refused.set(false);
        let cutoff = &self.cutoff;
        let result = self.store.write_cut(deadline, Some(cutoff), |tx| {
            self.transaction(tx, mode, schedules, &free)
        });
        let took = started.elapsed();
        for p in &mut self.prefetch {
            p.cycle_took(took);
        }
        crate::observe::dispatcher_transaction(took);
        match result {
            Ok(committed) => {
                self.failing.succeeded();
                self.retry_at = None;
                self.mode = WriteMode::Batch;
                if claim {
                    self.last_claim = now_instant;
                }
                self.after_commit(committed, &free, started, now_instant);
            }
            Err(_) if self.schedules_refused.get() => {
                // Again at once, the schedules in a savepoint of their own.
                self.schedules_guarded = true;
                self.schedules_left = true;
            }
            Err(e) if mode == WriteMode::Batch && refused_for_good(&e) => {
                // Something in this transaction will never be accepted: write each
                // outcome on its own next time, at once, to find it.
                log::warn!(
                    "a write transaction was refused ({}); writing its {} outcome(s) one \
                     by one to isolate the refusal",
                    e.report(),
                    self.writes.len()
                );
                self.mode = WriteMode::OneByOne;
            }
            Err(e) => self.write_failed(&e, schedules, claim, now_instant),
        }
    }

    /// The body of one write transaction; `Err` rolls all of it back.
    fn transaction(
        &self,
        tx: &dyn Writes,
        mode: WriteMode,
        schedules: bool,
        free: &[usize],
    ) -> Result<Committed> {
        // Read once the write lock is held: a run enqueued "now" by a transaction that
        // committed before this one is due in this claim. Read before the lock, a
        // high-priority run enqueued meanwhile looked a millisecond early and a lower
        // one went first.
        let now = self.clock.now();
        let host = HostInstant::now();
        let mut written = Vec::with_capacity(self.writes.len());
        for w in &self.writes {
            let status = match mode {
                WriteMode::Batch => finish(tx, w, now)?,
                WriteMode::OneByOne => {
                    let (stored, status) = self.finish_alone(tx, w, now)?;
                    written.push((stored, status));
                    continue;
                }
            };
            written.push((w.clone(), status));
        }
        // Dependents left by large cascades (of this process or any other) settle with
        // what this transaction's budget has left.
        let settling = tx.settle_queued(now)?;
        let materialized = if schedules {
            let threshold = self.misfire_threshold;
            if self.schedules_guarded {
                // In a savepoint, after a refusal: a schedule the database refuses must
                // not keep the outcomes and claims of this transaction from committing.
                match tx.step(|tx| schedule::materialize(tx, now, threshold)) {
                    Ok(m) => Some(Ok(m)),
                    Err(e) if refused_for_good(&e) => Some(Err(e)),
                    Err(e) => return Err(e),
                }
            } else {
                // No savepoint on the usual path: SQLite journals every page a savepoint
                // touches (a third of materialisation's time).
                match schedule::materialize(tx, now, threshold) {
                    Ok(m) => Some(Ok(m)),
                    Err(e) => {
                        self.schedules_refused.set(refused_for_good(&e));
                        return Err(e);
                    }
                }
            }
        } else {
            None
        };
        let row = self.claimer.worker_row(&self.inflight);
        let claimed = self
            .claimer
            .claim(tx, free, row, self.clock.as_ref(), host)?;
        Ok(Committed {
            written,
            materialized,
            settling,
            claimed,
            now,
        })
    }

    /// One outcome in its own savepoint. Refused for good, it is replaced by a failed
    /// attempt carrying the refusal; if even that is refused, by a release (the attempt
    /// given back); if that too, nothing is written for it and its lease runs out.
    fn finish_alone(
        &self,
        tx: &dyn Writes,
        w: &PendingWrite,
        now: OffsetDateTime,
    ) -> Result<(PendingWrite, Ended)> {
        let refusal = match tx.step(|tx| finish(tx, w, now)) {
            Ok(status) => return Ok((w.clone(), status)),
            Err(e) if refused_for_good(&e) => e,
            Err(e) => return Err(e),
        };
        log::error!(
            "{} ({}): the database refused its outcome for good; the attempt fails with \
             the refusal: {refusal}",
            w.view.attempt,
            w.view.job_type
        );
        let failed = complete::unstorable(w, &refusal, now, self.rules());
        match tx.step(|tx| finish(tx, &failed, now)) {
            Ok(status) => return Ok((failed, status)),
            Err(e) if refused_for_good(&e) => {}
            Err(e) => return Err(e),
        }
        let released = PendingWrite {
            view: w.view.clone(),
            outcome: AttemptOutcome::Release {
                reason: format!("its outcome could not be stored: {refusal}"),
            },
            timing: None,
        };
        match tx.step(|tx| finish(tx, &released, now)) {
            Ok(status) => Ok((released, status)),
            Err(e) if refused_for_good(&e) => {
                log::error!(
                    "{}: nothing could be written for it ({}); its lease will run out and \
                     the run be taken back",
                    w.view.attempt,
                    e.report()
                );
                Ok((released, None))
            }
            Err(e) => Err(e),
        }
    }

    fn write_failed(&mut self, e: &Error, schedules: bool, claim: bool, now: Instant) {
        if schedules {
            // Look again on the next turn.
            self.schedules_left = true;
        }
        if claim {
            self.last_claim = now;
        }
        let pending = self.writes.len();
        let pause = self.failing.failed(
            e,
            &format!("{pending} outcome(s) wait in memory, none is lost"),
        );
        self.retry_at = Some(Instant::now() + pause);
        if e.is_disk_full() {
            // The write-ahead log may be what filled the disk, and it keeps its size
            // until it is checkpointed in full and truncated: the checkpoint thread
            // gives the space back as soon as it can.
            self.store.reclaim_space();
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
            for (run, job_type, scheduled_at) in m.created {
                self.events.emit(Event::Enqueued {
                    run,
                    job_type,
                    created: true,
                    scheduled_at,
                });
            }
        }
    }

    /// `started`: when the transaction began, by this process's clock; the leases it
    /// wrote are surely live until a lease duration after it.
    fn after_commit(
        &mut self,
        committed: Committed,
        asked: &[usize],
        started: Instant,
        now_instant: Instant,
    ) {
        let Committed {
            written,
            materialized,
            settling,
            claimed,
            now,
        } = committed;
        self.settling = settling;
        self.writes.clear();
        self.inflight
            .written(written.iter().map(|(w, _)| w.attempt()));
        for (w, ended) in written {
            self.record(&w, ended);
        }
        match materialized {
            Some(Ok(m)) => {
                self.schedule_failures.succeeded();
                self.schedules_retry_at = None;
                self.schedules_guarded = false;
                self.after_materialize(m, now, now_instant);
            }
            Some(Err(e)) => {
                // Outcomes and claims went through; schedules wait, backing off.
                self.last_schedule_check = now_instant;
                let pause = self
                    .schedule_failures
                    .failed(&e, "schedules wait; runs and outcomes go on");
                self.schedules_retry_at = Some(now_instant + pause);
            }
            None => {}
        }
        if claimed.worker_renewed {
            self.inflight
                .worker_renewed(started, self.claimer.stale_after);
        }
        if asked.iter().any(|a| *a > 0) {
            self.paused = claimed.paused;
            self.claim_wanted = claimed.full;
            // A due time already past (due runs of job types this process does not
            // run) is no reason to wake before the next poll.
            self.next_due = claimed
                .next_due
                .filter(|due| *due > now)
                .map(|due| now_instant + (due - now).try_into().unwrap_or(Duration::ZERO));
            self.inflight
                .claimed(&claimed.runs, started + self.claimer.lease);
            for (lane, run) in claimed.runs {
                let dispatch = Dispatch { run };
                let attempt = dispatch.attempt();
                let sent = self
                    .to_workers
                    .get(lane)
                    .and_then(Option::as_ref)
                    .is_some_and(|tx| tx.send(dispatch).is_ok());
                if !sent {
                    // Cannot happen while running (the channel holds one place per
                    // slot); if it does, the lease expires and the run is rescued.
                    log::error!("{attempt} could not be handed to a worker");
                }
            }
        }
    }

    /// Statistics, the shutdown report and the event of one written outcome.
    fn record(&mut self, w: &PendingWrite, ended: Ended) {
        let released = matches!(w.outcome, AttemptOutcome::Release { .. });
        let Some((status, cancel_reason)) = ended else {
            self.stats.lease_lost.inc();
            log::warn!(
                "{} ({}): the lease was lost before its outcome was written; the current \
                 holder's work stands",
                w.view.attempt,
                w.view.job_type,
            );
            self.events.emit(Event::LeaseLost {
                run: w.view.attempt.run,
                job_type: w.view.job_type.clone(),
                token: w.view.attempt.token,
            });
            return;
        };
        if released {
            self.stats.released.inc();
        } else if status == RunStatus::Pending && matches!(w.outcome, AttemptOutcome::Snooze { .. })
        {
            self.stats.snoozed.inc();
        } else {
            self.stats.record(status);
        }
        if let Some(stop) = &mut self.stopping {
            if released {
                stop.report.released.push(w.view.attempt.run);
            } else {
                stop.report.finished += 1;
            }
        }
        self.events.emit(w.event(status, cancel_reason));
    }

    fn begin_stop(
        &mut self,
        grace_until: Instant,
        deadline: Instant,
        reply: Option<Sender<ShutdownReport>>,
    ) {
        if self.stopping.is_some() {
            return;
        }
        self.stopping = Some(Stopping {
            grace_until,
            deadline,
            reply,
            give_up_at: None,
            report: ShutdownReport::default(),
        });
        // Runs still in the local queue go back at once; running jobs get the grace.
        let now = self.now();
        let mut released = self.inflight.release_queued();
        for queue in &self.queues {
            while let Ok(d) = queue.try_recv() {
                released.extend(self.inflight.drained(d.attempt()));
            }
        }
        self.to_workers.iter_mut().for_each(|tx| *tx = None);
        for view in released {
            let write = complete::decide(&view, Ending::Released, now, self.rules());
            self.writes.push(write);
        }
        // A shutdown is worth one prompt try even after failures.
        self.retry_at = None;
    }

    fn step_stop(&mut self) {
        let now = self.now();
        let policy = self.retry.clone();
        let rules = complete::Rules {
            policy: policy.as_ref(),
            max_snoozes: self.max_snoozes,
        };
        let Some(stop) = &mut self.stopping else {
            return;
        };
        if stop.give_up_at.is_some() || Instant::now() < stop.grace_until {
            return;
        }
        stop.give_up_at = Some((Instant::now() + STOP_JOIN_WAIT).min(stop.deadline));
        for view in self.inflight.release_running() {
            log::warn!(
                "{} ({}) still running at the end of the shutdown grace period: released",
                view.attempt,
                view.job_type
            );
            let write = complete::decide(&view, Ending::Released, now, rules);
            self.writes.push(write);
        }
    }

    /// True when the dispatcher is done: stopping, and either nothing left to write
    /// with every slot gone (or held by a thread that did not return in time), or the
    /// shutdown's deadline reached (what is left unwritten is reported).
    fn finish_stop(&mut self) -> bool {
        let Some(stop) = &self.stopping else {
            return false;
        };
        let now = Instant::now();
        let out_of_time = now >= stop.deadline;
        if !self.writes.is_empty() && !out_of_time {
            return false;
        }
        let gave_up = stop.give_up_at.is_some_and(|t| now >= t);
        if !self.inflight.is_empty() && !gave_up && !out_of_time {
            return false;
        }
        let Some(mut stop) = self.stopping.take() else {
            return false;
        };
        stop.report.stuck = self.inflight.busy_threads();
        stop.report.unwritten = self.writes.drain(..).map(|w| w.view.attempt.run).collect();
        if !stop.report.unwritten.is_empty() {
            log::error!(
                "shutdown reached its deadline with {} outcome(s) unwritten: their leases \
                 will run out and other workers take the runs",
                stop.report.unwritten.len()
            );
        }
        if let Some(reply) = stop.reply.take() {
            let _ = reply.send(stop.report);
        }
        true
    }
}

/// Writes one outcome; `None` when the lease was lost (nothing written).
/// How a written outcome left its run: its status and the cancel reason it records;
/// `None` when the lease was lost.
type Ended = Option<(RunStatus, Option<String>)>;

fn finish(tx: &dyn Writes, w: &PendingWrite, now: OffsetDateTime) -> Result<Ended> {
    let a = w.view.attempt;
    match tx.finish_attempt(a.run, a.token, &w.outcome, w.timing, now) {
        Ok(f) => Ok(Some((f.status, f.cancel_reason))),
        Err(e) if e.is_lease_lost() => Ok(None),
        Err(e) => Err(e),
    }
}

/// True for an error that trying again cannot cure: the database refused this data
/// (a constraint, a value too big or of the wrong type) or the data could not even be
/// encoded. Busy, full, I/O and other errors of the database itself may pass.
pub(crate) fn refused_for_good(e: &Error) -> bool {
    match e {
        Error::Database(e) => e.kind() == crate::error::DatabaseErrorKind::Refused,
        Error::InvalidArgument { .. } | Error::CorruptValue { .. } | Error::Payload { .. } => true,
        _ => false,
    }
}
