//! The attempts this instance holds, shared by the dispatcher, the workers, the
//! heartbeat and the jobs' own transactions.
//!
//! An attempt is named by its lease: the run id **and** the fencing token of the claim
//! ([`Attempt`]). A run whose lease was lost can be claimed again by this same
//! instance while the thread of its old attempt still runs; both attempts are then held
//! side by side, and whatever the old one does (its job returns, its transaction
//! commits, its timeout fires) only ever applies to itself.
//!
//! Each attempt is in exactly one [`State`], and every state says who decides its
//! outcome. Transitions are the methods of [`InFlight`], each one atomic under the
//! registry's lock, so an outcome is decided once whatever the order in which the
//! threads get to it:
//!
//! ```text
//!            begin                job returns             written
//! Queued ───────────> Running ───────────────> Writing ───────────> (gone)
//!   │                  │  ^  │ ctx.transaction     ^ timeout, release    ▲
//!   │ lease lost       │  │  └──> Committing ──┐   │ (thread still busy) │ thread
//!   │ (Settled: queue) │  └─ not committed ────┘   └──> Settled ─────────┘ lets go
//!   └──────────────────┴── lease lost, committed ───────>
//! ```
//!
//! An attempt keeps its slot (and counts against the instance's capacity) until both
//! its outcome is settled and nothing refers to it any more: a thread held by a job
//! that ignored its timeout keeps its slot until the job returns.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

use parking_lot::Mutex;

mod cancel;

pub(crate) use self::cancel::CancelFlag;
pub use self::cancel::CancelReason;
use crate::model::{ClaimedRun, RunId};

/// One attempt of a run: the lease it runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Attempt {
    pub(crate) run: RunId,
    pub(crate) token: i64,
}

impl Attempt {
    pub(crate) fn new(run: RunId, token: i64) -> Self {
        Attempt { run, token }
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {} (lease {})", self.run, self.token)
    }
}

/// What still refers to an attempt whose outcome someone else owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    /// Nothing: the slot goes as soon as the outcome is settled.
    Nobody,
    /// Its dispatch message is still in the local queue (a worker may yet take it).
    Queue,
    /// A worker thread still runs its job.
    Thread,
}

/// Where an attempt is, and who decides its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Claimed; its dispatch waits in the local queue. No outcome yet.
    Queued,
    /// A worker thread runs it; the thread owns the outcome until the job returns.
    Running {
        started: Instant,
        deadline: Option<Instant>,
    },
    /// The job's own transaction ([`crate::sqlite::JobContextExt::transaction`]) is
    /// writing its completion: that transaction owns the outcome.
    Committing {
        started: Instant,
        deadline: Option<Instant>,
    },
    /// The dispatcher owns a decided outcome and is writing it.
    Writing { holder: Holder },
    /// Nothing more will be written (it was written, or the lease was lost); kept while
    /// its holder (a queue message or a thread) still refers to it.
    Settled { holder: Holder },
}

/// One held attempt.
#[derive(Debug)]
struct Slot {
    state: State,
    /// The lane (queue of this instance) it was claimed for.
    lane: usize,
    job_type: String,
    attempt: u32,
    max_attempts: u32,
    snoozes: u32,
    backoff: Duration,
    timeout: Option<Duration>,
    cancel: Arc<CancelFlag>,
    /// Until when the lease is surely live, by this process's monotonic clock: the
    /// start of the transaction that last wrote it, plus its duration.
    lease_until: Instant,
}

/// What a worker learns when it takes an attempt from the queue.
#[derive(Debug)]
pub(crate) enum Begin {
    /// Run the job, until `deadline` if any.
    Run {
        deadline: Option<Instant>,
        cancel: Arc<CancelFlag>,
    },
    /// Do not run it: it was cancelled by request before it started. The thread reports
    /// that as its outcome.
    Cancelled,
    /// Do not run it: its lease may no longer be live (this process was paused, or could
    /// not renew it, while the run waited in the queue), so another worker may hold it.
    /// The thread hands it back (a fenced release: it changes nothing if the lease was
    /// taken).
    HandBack,
    /// Do not run it and report nothing: its outcome is already settled elsewhere.
    Skip,
}

/// A copy of what deciding and writing an attempt's outcome needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SlotView {
    pub(crate) attempt: Attempt,
    /// The lane (queue of this instance) it was claimed for.
    pub(crate) lane: usize,
    pub(crate) job_type: String,
    pub(crate) number: u32,
    pub(crate) max_attempts: u32,
    /// Snoozes of the run before this attempt.
    pub(crate) snoozes: u32,
    pub(crate) backoff: Duration,
}

impl SlotView {
    fn of(attempt: Attempt, slot: &Slot) -> Self {
        SlotView {
            attempt,
            lane: slot.lane,
            job_type: slot.job_type.clone(),
            number: slot.attempt,
            max_attempts: slot.max_attempts,
            snoozes: slot.snoozes,
            backoff: slot.backoff,
        }
    }
}

#[derive(Debug)]
struct Inner {
    slots: HashMap<Attempt, Slot>,
    /// Until when this instance's `workers` row surely shows it alive (by the promise it
    /// recorded: its stale-after limit), from the start of its last heartbeat.
    worker_until: Instant,
}

/// The registry of held attempts.
#[derive(Debug)]
pub(crate) struct InFlight {
    inner: Mutex<Inner>,
}

impl InFlight {
    /// An empty registry for an instance whose `workers` row was written at `alive_until`
    /// minus its stale-after limit.
    pub(crate) fn new(alive_until: Instant) -> Self {
        InFlight {
            inner: Mutex::new(Inner {
                slots: HashMap::new(),
                worker_until: alive_until,
            }),
        }
    }

    /// The instance's `workers` row surely shows it alive at `t`.
    pub(crate) fn worker_live_at(&self, t: Instant) -> bool {
        t < self.inner.lock().worker_until
    }

    /// A transaction that began at `started` renewed the instance's `workers` row
    /// (not its leases): the row is live for another `stale_after`.
    pub(crate) fn worker_renewed(&self, started: Instant, stale_after: Duration) {
        let mut inner = self.inner.lock();
        inner.worker_until = inner.worker_until.max(started + stale_after);
    }

    /// Attempts held (each counts against the capacity).
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().slots.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.inner.lock().slots.is_empty()
    }

    /// The state of an attempt, if held (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn state(&self, a: Attempt) -> Option<State> {
        self.inner.lock().slots.get(&a).map(|s| s.state)
    }

    /// Claimed runs get their slots, once the claim committed: queued, their lease live
    /// until `lease_until`.
    pub(crate) fn claimed(&self, runs: &[(usize, ClaimedRun)], lease_until: Instant) {
        let mut inner = self.inner.lock();
        for (lane, run) in runs {
            inner.slots.insert(
                Attempt::new(run.id, run.token),
                Slot {
                    state: State::Queued,
                    lane: *lane,
                    job_type: run.job_type.clone(),
                    attempt: run.attempt,
                    max_attempts: run.max_attempts,
                    snoozes: run.snoozes,
                    backoff: run.backoff,
                    timeout: run.timeout,
                    cancel: Arc::new(CancelFlag::default()),
                    lease_until,
                },
            );
        }
    }

    /// A worker takes an attempt from the queue at `now`.
    pub(crate) fn begin(&self, a: Attempt, now: Instant) -> Begin {
        let mut inner = self.inner.lock();
        let worker_until = inner.worker_until;
        let Some(slot) = inner.slots.get_mut(&a) else {
            return Begin::Skip;
        };
        match slot.state {
            State::Queued => {
                let running = State::Running {
                    started: now,
                    deadline: None,
                };
                if slot.cancel.reason() == Some(CancelReason::Requested) {
                    slot.state = running;
                    return Begin::Cancelled;
                }
                if now >= slot.lease_until.min(worker_until) {
                    slot.state = running;
                    return Begin::HandBack;
                }
                let deadline = slot.timeout.map(|t| now + t);
                slot.state = State::Running {
                    started: now,
                    deadline,
                };
                Begin::Run {
                    deadline,
                    cancel: slot.cancel.clone(),
                }
            }
            State::Writing {
                holder: Holder::Queue,
            } => {
                slot.state = State::Writing {
                    holder: Holder::Nobody,
                };
                Begin::Skip
            }
            State::Settled {
                holder: Holder::Queue,
            } => {
                inner.slots.remove(&a);
                Begin::Skip
            }
            // Nothing else holds a dispatch message: a second message for one attempt
            // is never sent.
            _ => Begin::Skip,
        }
    }

    /// A worker's thread is done with an attempt. If the thread still owned the outcome
    /// (the job returned while running, or was cancelled or handed back at its start),
    /// the dispatcher owns it now and the view to write it is returned. Otherwise the
    /// outcome was decided elsewhere (a timeout, a release, a lost lease, the job's own
    /// transaction) and what the job returned is discarded.
    pub(crate) fn thread_done(&self, a: Attempt) -> Option<SlotView> {
        let mut inner = self.inner.lock();
        let slot = inner.slots.get_mut(&a)?;
        match slot.state {
            // Committing here means the transaction unwound without its guard having
            // run, which cannot happen; the thread owning the outcome is the safe
            // reading either way.
            State::Running { .. } | State::Committing { .. } => {
                slot.state = State::Writing {
                    holder: Holder::Nobody,
                };
                Some(SlotView::of(a, slot))
            }
            State::Writing {
                holder: Holder::Thread,
            } => {
                slot.state = State::Writing {
                    holder: Holder::Nobody,
                };
                None
            }
            State::Settled {
                holder: Holder::Thread,
            } => {
                inner.slots.remove(&a);
                None
            }
            _ => None,
        }
    }

    /// The job's own transaction starts writing its completion: running → committing,
    /// so that neither a timeout nor a release decides the outcome meanwhile. False
    /// when the attempt's outcome is no longer the job's (it timed out, its lease was
    /// lost, it was released, or a transaction already completed it).
    pub(crate) fn begin_commit(&self, a: Attempt) -> bool {
        let mut inner = self.inner.lock();
        match inner.slots.get_mut(&a) {
            Some(slot) => match slot.state {
                State::Running { started, deadline } => {
                    slot.state = State::Committing { started, deadline };
                    true
                }
                _ => false,
            },
            None => false,
        }
    }

    /// The job's transaction committed its completion, or found the lease lost: either
    /// way nothing more will be written for this attempt.
    pub(crate) fn commit_settled(&self, a: Attempt) {
        if let Some(slot) = self.inner.lock().slots.get_mut(&a) {
            if matches!(slot.state, State::Committing { .. }) {
                slot.state = State::Settled {
                    holder: Holder::Thread,
                };
            }
        }
    }

    /// The job's transaction did not commit (its closure failed or panicked, or the
    /// database refused the write): the job owns its outcome again.
    pub(crate) fn commit_abandoned(&self, a: Attempt) {
        if let Some(slot) = self.inner.lock().slots.get_mut(&a) {
            if let State::Committing { started, deadline } = slot.state {
                slot.state = State::Running { started, deadline };
            }
        }
    }

    /// Attempts whose job passed its deadline while running: the dispatcher owns their
    /// outcome (a timeout) and their jobs are asked to stop.
    pub(crate) fn take_timed_out(&self, now: Instant) -> Vec<(SlotView, Duration)> {
        let mut out = Vec::new();
        for (a, slot) in &mut self.inner.lock().slots {
            if let State::Running {
                started,
                deadline: Some(d),
            } = slot.state
            {
                if d <= now {
                    slot.cancel.cancel(CancelReason::Timeout);
                    slot.state = State::Writing {
                        holder: Holder::Thread,
                    };
                    out.push((SlotView::of(*a, slot), now - started));
                }
            }
        }
        out
    }

    /// The earliest deadline of a running job.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.inner
            .lock()
            .slots
            .values()
            .filter_map(|s| match s.state {
                State::Running { deadline, .. } => deadline,
                _ => None,
            })
            .min()
    }

    /// The attempts whose leases this instance still needs renewed: all but those
    /// already settled.
    pub(crate) fn renewal_list(&self) -> Vec<Attempt> {
        let mut v: Vec<Attempt> = self
            .inner
            .lock()
            .slots
            .iter()
            .filter(|(_, s)| !matches!(s.state, State::Settled { .. }))
            .map(|(a, _)| *a)
            .collect();
        v.sort_unstable();
        v
    }

    /// A heartbeat that started at `started` (by this process's clock) asked to renew
    /// `asked` and renewed `renewed`. The renewed leases are live for another `lease`;
    /// the instance's row for another `stale_after`. An attempt asked but not renewed
    /// was lost (its lease expired and was taken back): a queued or running one settles
    /// (nothing will be written for it) and its job is asked to stop. Attempts whose
    /// outcome is being written or committed are left to their own write, which the
    /// fence refuses. Returns the lost attempts, with their job types.
    pub(crate) fn renewed(
        &self,
        asked: &[Attempt],
        renewed: &[Attempt],
        started: Instant,
        lease: Duration,
        stale_after: Duration,
    ) -> Vec<(Attempt, String)> {
        let renewed: HashSet<Attempt> = renewed.iter().copied().collect();
        let mut inner = self.inner.lock();
        inner.worker_until = inner.worker_until.max(started + stale_after);
        let mut lost = Vec::new();
        for a in asked {
            let Some(slot) = inner.slots.get_mut(a) else {
                continue;
            };
            if renewed.contains(a) {
                slot.lease_until = slot.lease_until.max(started + lease);
                continue;
            }
            let holder = match slot.state {
                State::Queued => Holder::Queue,
                State::Running { .. } => Holder::Thread,
                _ => continue,
            };
            slot.cancel.cancel(CancelReason::LeaseLost);
            slot.state = State::Settled { holder };
            lost.push((*a, slot.job_type.clone()));
        }
        lost
    }

    /// The dispatcher's transaction wrote the outcomes of `written` (or found their
    /// leases lost): their slots go, or stay settled while something still refers to
    /// them.
    pub(crate) fn written(&self, written: impl IntoIterator<Item = Attempt>) {
        let mut inner = self.inner.lock();
        for a in written {
            let Some(slot) = inner.slots.get_mut(&a) else {
                continue;
            };
            match slot.state {
                State::Writing {
                    holder: Holder::Nobody,
                } => {
                    inner.slots.remove(&a);
                }
                State::Writing { holder } => slot.state = State::Settled { holder },
                _ => {}
            }
        }
    }

    /// How many attempts are held once `written` are written: those nothing refers to
    /// any more go when their outcomes commit, so a claim in the same transaction can
    /// already count their slots as free.
    #[cfg(test)]
    pub(crate) fn held_after(&self, written: impl IntoIterator<Item = Attempt>) -> usize {
        self.held_after_by_lane(written, 1).iter().sum()
    }

    /// [`InFlight::held_after`] per lane, for `lanes` lanes (an attempt of a lane past
    /// them counts in the last).
    pub(crate) fn held_after_by_lane(
        &self,
        written: impl IntoIterator<Item = Attempt>,
        lanes: usize,
    ) -> Vec<usize> {
        let inner = self.inner.lock();
        let last = lanes.saturating_sub(1);
        let mut held = vec![0usize; lanes.max(1)];
        for slot in inner.slots.values() {
            held[slot.lane.min(last)] += 1;
        }
        for a in written {
            if let Some(s) = inner.slots.get(&a) {
                if s.state
                    == (State::Writing {
                        holder: Holder::Nobody,
                    })
                {
                    let lane = s.lane.min(last);
                    held[lane] = held[lane].saturating_sub(1);
                }
            }
        }
        held
    }

    /// Attempts held per lane, for `lanes` lanes.
    pub(crate) fn len_by_lane(&self, lanes: usize) -> Vec<usize> {
        self.held_after_by_lane(std::iter::empty(), lanes)
    }

    /// Shutdown: every queued attempt is handed back; the dispatcher owns their
    /// outcome (a release) while their messages may still reach a worker.
    pub(crate) fn release_queued(&self) -> Vec<SlotView> {
        let mut out = Vec::new();
        for (a, slot) in &mut self.inner.lock().slots {
            if slot.state == State::Queued {
                slot.state = State::Writing {
                    holder: Holder::Queue,
                };
                out.push(SlotView::of(*a, slot));
            }
        }
        out
    }

    /// A dispatch message taken back from the local queue: no worker will see it.
    /// Returns the view to write if it was still queued.
    pub(crate) fn drained(&self, a: Attempt) -> Option<SlotView> {
        let mut inner = self.inner.lock();
        let slot = inner.slots.get_mut(&a)?;
        match slot.state {
            State::Queued => {
                slot.state = State::Writing {
                    holder: Holder::Nobody,
                };
                Some(SlotView::of(a, slot))
            }
            State::Writing {
                holder: Holder::Queue,
            } => {
                slot.state = State::Writing {
                    holder: Holder::Nobody,
                };
                None
            }
            State::Settled {
                holder: Holder::Queue,
            } => {
                inner.slots.remove(&a);
                None
            }
            _ => None,
        }
    }

    /// End of a shutdown's grace period: every running job is asked to stop and its
    /// attempt handed back; the dispatcher owns the release while the thread finishes.
    pub(crate) fn release_running(&self) -> Vec<SlotView> {
        let mut out = Vec::new();
        for (a, slot) in &mut self.inner.lock().slots {
            if matches!(slot.state, State::Running { .. }) {
                slot.cancel.cancel(CancelReason::Shutdown);
                slot.state = State::Writing {
                    holder: Holder::Thread,
                };
                out.push(SlotView::of(*a, slot));
            }
        }
        out
    }

    /// Raises the cancellation flag of every held attempt of `run`; true if any is held.
    pub(crate) fn request_cancel(&self, run: RunId) -> bool {
        let mut found = false;
        for (a, slot) in &self.inner.lock().slots {
            if a.run == run {
                slot.cancel.cancel(CancelReason::Requested);
                found = true;
            }
        }
        found
    }

    /// Attempts whose job still runs on a thread (for the shutdown report).
    pub(crate) fn busy_threads(&self) -> Vec<(RunId, String)> {
        let mut v: Vec<(RunId, String)> = self
            .inner
            .lock()
            .slots
            .iter()
            .filter(|(_, s)| {
                matches!(
                    s.state,
                    State::Running { .. }
                        | State::Committing { .. }
                        | State::Writing {
                            holder: Holder::Thread
                        }
                        | State::Settled {
                            holder: Holder::Thread
                        }
                )
            })
            .map(|(a, s)| (a.run, s.job_type.clone()))
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::OffsetDateTime;

    use super::*;

    fn claimed(run: i64, token: i64) -> ClaimedRun {
        ClaimedRun {
            id: RunId::new(run),
            task_id: None,
            job_type: "t".into(),
            payload: "{}".into(),
            attempt: 1,
            max_attempts: 3,
            timeout: Some(Duration::from_millis(50)),
            backoff: Duration::from_secs(1),
            priority: 0,
            scheduled_at: OffsetDateTime::UNIX_EPOCH,
            unique_key: None,
            token,
            lease_expires_at: OffsetDateTime::UNIX_EPOCH,
            snoozes: 0,
            queue: "default".into(),
        }
    }

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn a_reclaimed_run_keeps_two_attempts_apart() {
        let t0 = Instant::now();
        let reg = InFlight::new(t0 + LONG);
        let old = Attempt::new(RunId::new(7), 1);
        let new = Attempt::new(RunId::new(7), 2);
        reg.claimed(&[(0, claimed(7, 1))], t0 + LONG);
        assert!(matches!(reg.begin(old, t0), Begin::Run { .. }));
        // The heartbeat finds the first lease gone; the run is claimed again here.
        assert_eq!(
            reg.renewed(&[old], &[], t0, LONG, LONG),
            vec![(old, "t".to_owned())],
            "the lost lease is reported"
        );
        reg.claimed(&[(0, claimed(7, 2))], t0 + LONG);
        assert_eq!(reg.len(), 2, "both attempts hold a slot");
        // The old job returns: nothing to write, and the new attempt is untouched.
        assert_eq!(reg.thread_done(old), None);
        assert_eq!(reg.state(new), Some(State::Queued));
        assert!(matches!(reg.begin(new, t0), Begin::Run { .. }));
        let view = reg
            .thread_done(new)
            .expect("the new attempt's outcome is written");
        assert_eq!(view.attempt, new);
        reg.written([new]);
        assert!(reg.is_empty());
    }

    #[test]
    fn a_run_whose_lease_ran_out_in_the_queue_is_handed_back() {
        let t0 = Instant::now();
        let reg = InFlight::new(t0 + LONG);
        let a = Attempt::new(RunId::new(1), 1);
        reg.claimed(&[(0, claimed(1, 1))], t0 + Duration::from_millis(100));
        assert!(matches!(
            reg.begin(a, t0 + Duration::from_millis(100)),
            Begin::HandBack
        ));
        assert!(reg.thread_done(a).is_some(), "the hand-back is written");
    }

    #[test]
    fn a_stale_worker_row_makes_every_queued_lease_doubtful() {
        let t0 = Instant::now();
        let reg = InFlight::new(t0 + Duration::from_millis(10));
        let a = Attempt::new(RunId::new(1), 1);
        reg.claimed(&[(0, claimed(1, 1))], t0 + LONG);
        assert!(matches!(
            reg.begin(a, t0 + Duration::from_millis(10)),
            Begin::HandBack
        ));
    }

    #[test]
    fn a_transaction_that_unwinds_gives_the_outcome_back_to_the_job() {
        let t0 = Instant::now();
        let reg = InFlight::new(t0 + LONG);
        let a = Attempt::new(RunId::new(1), 1);
        reg.claimed(&[(0, claimed(1, 1))], t0 + LONG);
        let _ = reg.begin(a, t0);
        assert!(reg.begin_commit(a));
        // Neither a timeout nor a release decides while the transaction writes.
        assert!(reg.take_timed_out(t0 + LONG).is_empty());
        assert!(reg.release_running().is_empty());
        reg.commit_abandoned(a);
        assert!(
            reg.thread_done(a).is_some(),
            "the job's own ending is written"
        );
    }

    /// The events that can happen to the attempts of one run, in any order.
    #[derive(Clone, Debug)]
    enum Ev {
        Claim,
        Begin(usize),
        Return(usize),
        CommitStart(usize),
        CommitOk(usize),
        CommitFail(usize),
        Timeout,
        Heartbeat { keep: Vec<bool> },
        WriteCycle,
        ReleaseQueued,
        Drain(usize),
        ReleaseRunning,
        Cancel,
    }

    fn event() -> impl Strategy<Value = Ev> {
        prop_oneof![
            Just(Ev::Claim),
            (0..4usize).prop_map(Ev::Begin),
            (0..4usize).prop_map(Ev::Return),
            (0..4usize).prop_map(Ev::CommitStart),
            (0..4usize).prop_map(Ev::CommitOk),
            (0..4usize).prop_map(Ev::CommitFail),
            Just(Ev::Timeout),
            proptest::collection::vec(any::<bool>(), 4).prop_map(|keep| Ev::Heartbeat { keep }),
            Just(Ev::WriteCycle),
            Just(Ev::ReleaseQueued),
            (0..4usize).prop_map(Ev::Drain),
            Just(Ev::ReleaseRunning),
            Just(Ev::Cancel),
        ]
    }

    /// What the threads of a real instance know, for the model to act like them.
    #[derive(Default)]
    struct World {
        /// Attempts claimed, by token order.
        attempts: Vec<Attempt>,
        /// Dispatch messages not yet taken by a worker or drained.
        queued: HashSet<Attempt>,
        /// Attempts a thread is executing (took, not yet returned).
        on_thread: HashSet<Attempt>,
        /// Attempts inside their own transaction.
        committing: HashSet<Attempt>,
        /// Outcomes handed to the dispatcher, not yet written.
        to_write: Vec<Attempt>,
        /// How often an outcome of each attempt was decided (written or committed).
        decided: HashMap<Attempt, u32>,
        /// Attempts whose lease the heartbeat found lost.
        lost: HashSet<Attempt>,
    }

    impl World {
        fn pick(&self, set: &HashSet<Attempt>, i: usize) -> Option<Attempt> {
            let mut v: Vec<Attempt> = set.iter().copied().collect();
            v.sort_unstable();
            (!v.is_empty()).then(|| v[i % v.len()])
        }

        fn decide(&mut self, a: Attempt) {
            *self.decided.entry(a).or_default() += 1;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Whatever the order of events, every attempt's outcome is decided at most
        /// once, by the owner its state names; a lost attempt never gets an outcome
        /// written after the loss; a slot goes only when nothing refers to its attempt;
        /// and an attempt no thread or message refers to never stays held once settled.
        #[test]
        fn outcomes_are_decided_once_in_any_order(events in proptest::collection::vec(event(), 1..60)) {
            let t0 = Instant::now();
            let reg = InFlight::new(t0 + LONG);
            let run = RunId::new(1);
            let mut w = World::default();
            let mut clock = t0;
            for ev in events {
                clock += Duration::from_millis(20);
                match ev {
                    Ev::Claim => {
                        let token = i64::try_from(w.attempts.len()).unwrap() + 1;
                        let a = Attempt::new(run, token);
                        reg.claimed(&[(0, claimed(1, token))], clock + LONG);
                        w.attempts.push(a);
                        w.queued.insert(a);
                    }
                    Ev::Begin(i) => {
                        if let Some(a) = w.pick(&w.queued, i) {
                            w.queued.remove(&a);
                            match reg.begin(a, clock) {
                                Begin::Run { .. } | Begin::Cancelled | Begin::HandBack => {
                                    w.on_thread.insert(a);
                                }
                                Begin::Skip => {}
                            }
                        }
                    }
                    Ev::Return(i) => {
                        if let Some(a) = w.pick(&w.on_thread, i) {
                            if w.committing.contains(&a) {
                                continue;
                            }
                            w.on_thread.remove(&a);
                            if let Some(view) = reg.thread_done(a) {
                                prop_assert_eq!(view.attempt, a);
                                prop_assert!(!w.lost.contains(&a), "{a} lost, yet its job's outcome is written");
                                w.to_write.push(a);
                            }
                        }
                    }
                    Ev::CommitStart(i) => {
                        if let Some(a) = w.pick(&w.on_thread, i) {
                            if !w.committing.contains(&a) && reg.begin_commit(a) {
                                prop_assert!(!w.lost.contains(&a));
                                w.committing.insert(a);
                            }
                        }
                    }
                    Ev::CommitOk(i) => {
                        if let Some(a) = w.pick(&w.committing, i) {
                            w.committing.remove(&a);
                            reg.commit_settled(a);
                            w.decide(a);
                        }
                    }
                    Ev::CommitFail(i) => {
                        if let Some(a) = w.pick(&w.committing, i) {
                            w.committing.remove(&a);
                            reg.commit_abandoned(a);
                        }
                    }
                    Ev::Timeout => {
                        for (view, _) in reg.take_timed_out(clock + Duration::from_secs(1)) {
                            prop_assert!(w.on_thread.contains(&view.attempt));
                            prop_assert!(!w.committing.contains(&view.attempt));
                            prop_assert!(!w.lost.contains(&view.attempt));
                            w.to_write.push(view.attempt);
                        }
                    }
                    Ev::Heartbeat { keep } => {
                        let asked = reg.renewal_list();
                        let renewed: Vec<Attempt> = asked
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| keep[i % keep.len()])
                            .map(|(_, a)| *a)
                            .collect();
                        for (a, _) in reg.renewed(&asked, &renewed, clock, LONG, LONG) {
                            prop_assert!(!w.to_write.contains(&a), "{a} lost while its outcome waits to be written");
                            prop_assert!(!w.committing.contains(&a));
                            w.lost.insert(a);
                        }
                    }
                    Ev::WriteCycle => {
                        let writes = std::mem::take(&mut w.to_write);
                        let before = reg.len();
                        let after = reg.held_after(writes.iter().copied());
                        for a in &writes {
                            w.decide(*a);
                        }
                        reg.written(writes);
                        prop_assert_eq!(reg.len(), after, "held_after foresaw the slots freed (was {})", before);
                    }
                    Ev::ReleaseQueued => {
                        for view in reg.release_queued() {
                            prop_assert!(w.queued.contains(&view.attempt));
                            prop_assert!(!w.lost.contains(&view.attempt));
                            w.to_write.push(view.attempt);
                        }
                    }
                    Ev::Drain(i) => {
                        if let Some(a) = w.pick(&w.queued, i) {
                            w.queued.remove(&a);
                            if let Some(view) = reg.drained(a) {
                                w.to_write.push(view.attempt);
                            }
                        }
                    }
                    Ev::ReleaseRunning => {
                        for view in reg.release_running() {
                            prop_assert!(w.on_thread.contains(&view.attempt));
                            prop_assert!(!w.lost.contains(&view.attempt));
                            w.to_write.push(view.attempt);
                        }
                    }
                    Ev::Cancel => {
                        reg.request_cancel(run);
                    }
                }
                for (a, n) in &w.decided {
                    prop_assert!(*n <= 1, "{a} decided {n} times");
                }
                // Every attempt something still refers to keeps its slot.
                for a in w.queued.iter().chain(&w.on_thread).chain(&w.to_write) {
                    prop_assert!(reg.state(*a).is_some(), "{a} lost its slot while referred to");
                }
                // An attempt nothing refers to and that nobody will write is gone.
                for a in &w.attempts {
                    let referred = w.queued.contains(a) || w.on_thread.contains(a) || w.to_write.contains(a);
                    if !referred {
                        prop_assert!(reg.state(*a).is_none(), "{a} kept a slot for nothing: {:?}", reg.state(*a));
                    }
                }
            }
        }
    }
}
