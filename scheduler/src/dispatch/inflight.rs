//! The runs this instance holds, shared by the dispatcher, the workers and the heartbeat.
//!
//! Every claimed run has a slot from the moment its claim commits until both its
//! outcome is written and no thread will touch it again. The number of slots is the
//! instance's load: the dispatcher claims only into free slots, so a thread held by a
//! job that ignored its timeout keeps its slot (and the capacity honest) until the job
//! returns.
//!
//! ```text
//! Queued ──worker begins──> Running ──job returns──> Finishing ──write commits──> Settled
//!   │                          │                        ^                            │
//!   │ (lease lost, released)   └─deadline passed────────┘                            │
//!   └──────────────────────────────────────────────> Settled    removed once the thread
//!                                                                is done with it too
//! ```

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use parking_lot::Mutex;

use crate::{
    job::{CancelReason, context::CancelFlag},
    store::RunId,
};

/// Where a held run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Claimed, waiting in the local queue for a thread.
    Queued,
    /// A thread runs its job.
    Running {
        started: Instant,
        deadline: Option<Instant>,
    },
    /// Its outcome is being written by the dispatcher.
    Finishing,
    /// Its outcome is written (or it was lost); nothing more will be written for it.
    Settled,
}

/// One held run.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) token: i64,
    pub(crate) job_type: String,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    pub(crate) backoff: Duration,
    pub(crate) timeout: Option<Duration>,
    pub(crate) cancel: Arc<CancelFlag>,
    pub(crate) phase: Phase,
    /// No thread will touch the run again (its job returned, or it never reached one).
    pub(crate) thread_done: bool,
    /// The running phase a job's own transaction left, to return to if it fails.
    pub(crate) finishing_from: Option<Phase>,
}

impl Slot {
    pub(crate) fn queued(
        token: i64,
        job_type: String,
        attempt: u32,
        max_attempts: u32,
        backoff: Duration,
        timeout: Option<Duration>,
    ) -> Self {
        Slot {
            token,
            job_type,
            attempt,
            max_attempts,
            backoff,
            timeout,
            cancel: Arc::new(CancelFlag::default()),
            phase: Phase::Queued,
            thread_done: false,
            finishing_from: None,
        }
    }
}

/// What a worker learns when it takes a run from the queue.
pub(crate) enum Begin {
    /// Run the job, until `deadline` if any.
    Run {
        deadline: Option<Instant>,
        cancel: Arc<CancelFlag>,
    },
    /// Do not run it: it was cancelled (by request) before it started; the dispatcher
    /// records the cancellation when told.
    Cancelled,
    /// Do not run it: its outcome is already decided (lease lost, released).
    Skip,
}

/// A copy of what the dispatcher needs of a slot to write its outcome.
#[derive(Clone, Debug)]
pub(crate) struct SlotView {
    pub(crate) run: RunId,
    pub(crate) token: i64,
    pub(crate) job_type: String,
    pub(crate) attempt: u32,
    pub(crate) max_attempts: u32,
    pub(crate) backoff: Duration,
}

impl SlotView {
    fn of(run: RunId, slot: &Slot) -> Self {
        SlotView {
            run,
            token: slot.token,
            job_type: slot.job_type.clone(),
            attempt: slot.attempt,
            max_attempts: slot.max_attempts,
            backoff: slot.backoff,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct InFlight {
    slots: Mutex<HashMap<RunId, Slot>>,
}

impl InFlight {
    pub(crate) fn len(&self) -> usize {
        self.slots.lock().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.slots.lock().is_empty()
    }

    pub(crate) fn insert(&self, run: RunId, slot: Slot) {
        self.slots.lock().insert(run, slot);
    }

    /// A worker takes a run: queued → running, with its deadline.
    pub(crate) fn begin(&self, run: RunId, now: Instant) -> Begin {
        let mut slots = self.slots.lock();
        let Some(slot) = slots.get_mut(&run) else {
            return Begin::Skip;
        };
        if slot.phase != Phase::Queued {
            return Begin::Skip;
        }
        match slot.cancel.reason() {
            Some(CancelReason::Requested) => {
                slot.phase = Phase::Finishing;
                return Begin::Cancelled;
            }
            Some(_) => return Begin::Skip,
            None => {}
        }
        let deadline = slot.timeout.map(|t| now + t);
        slot.phase = Phase::Running {
            started: now,
            deadline,
        };
        Begin::Run {
            deadline,
            cancel: slot.cancel.clone(),
        }
    }

    /// A worker is done with a run. If the job ran to its end while its outcome was
    /// still open, the run moves to `Finishing` and its view is returned for the
    /// dispatcher to write. A `Cancelled` begin is returned too. Otherwise the outcome
    /// was decided elsewhere and the slot goes once settled.
    pub(crate) fn thread_done(&self, run: RunId, cancelled_before_start: bool) -> Option<SlotView> {
        let mut slots = self.slots.lock();
        let slot = slots.get_mut(&run)?;
        slot.thread_done = true;
        let view = match slot.phase {
            Phase::Running { .. } => {
                slot.phase = Phase::Finishing;
                Some(SlotView::of(run, slot))
            }
            Phase::Finishing if cancelled_before_start => Some(SlotView::of(run, slot)),
            _ => None,
        };
        if slot.phase == Phase::Settled {
            slots.remove(&run);
        }
        view
    }

    /// A job's own transaction is about to complete its run: running → finishing, so
    /// neither the heartbeat nor a timeout acts on it meanwhile. False when the run is
    /// no longer running here (its lease was lost, it timed out, it was released).
    pub(crate) fn begin_finishing(&self, run: RunId) -> bool {
        let mut slots = self.slots.lock();
        match slots.get_mut(&run) {
            Some(slot) if matches!(slot.phase, Phase::Running { .. }) => {
                slot.finishing_from = Some(slot.phase);
                slot.phase = Phase::Finishing;
                true
            }
            _ => false,
        }
    }

    /// The job's transaction did not commit: back to running, as before it.
    pub(crate) fn resume_running(&self, run: RunId) {
        if let Some(slot) = self.slots.lock().get_mut(&run) {
            if let Some(phase) = slot.finishing_from.take() {
                slot.phase = phase;
            }
        }
    }

    /// How many runs are held once `written` are: the slots of those no thread holds
    /// any more go when their outcomes commit, so a claim in the same transaction can
    /// already count them as free.
    pub(crate) fn held_after(&self, written: impl IntoIterator<Item = RunId>) -> usize {
        let slots = self.slots.lock();
        let freed = written
            .into_iter()
            .filter(|id| slots.get(id).is_some_and(|s| s.thread_done))
            .count();
        slots.len().saturating_sub(freed)
    }

    /// The runs were written: settled, and gone if no thread holds them.
    pub(crate) fn settle(&self, runs: impl IntoIterator<Item = RunId>) {
        let mut slots = self.slots.lock();
        for id in runs {
            let done = match slots.get_mut(&id) {
                Some(slot) => {
                    slot.phase = Phase::Settled;
                    slot.thread_done
                }
                None => false,
            };
            if done {
                slots.remove(&id);
            }
        }
    }

    /// A queued run taken back from the local queue: no thread will see it.
    pub(crate) fn drained(&self, run: RunId) {
        if let Some(slot) = self.slots.lock().get_mut(&run) {
            slot.thread_done = true;
        }
    }

    /// Runs whose job passed its deadline while running: they become `Finishing` and
    /// their jobs are asked to stop; the caller writes their timeout.
    pub(crate) fn take_timed_out(&self, now: Instant) -> Vec<(SlotView, Duration)> {
        let mut out = Vec::new();
        for (id, slot) in self.slots.lock().iter_mut() {
            if let Phase::Running {
                started,
                deadline: Some(d),
            } = slot.phase
            {
                if d <= now {
                    slot.cancel.cancel(CancelReason::Timeout);
                    slot.phase = Phase::Finishing;
                    out.push((SlotView::of(*id, slot), now - started));
                }
            }
        }
        out
    }

    /// The earliest deadline of a running job.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .lock()
            .values()
            .filter_map(|s| match s.phase {
                Phase::Running { deadline, .. } => deadline,
                _ => None,
            })
            .min()
    }

    /// Compares the leases a heartbeat renewed with the runs held: a queued or running
    /// run whose lease was not renewed was lost. Its job is asked to stop and its slot
    /// settles (nothing more will be written for it). Returns the lost runs and tokens.
    pub(crate) fn settle_lost(&self, held: &[(RunId, i64)]) -> Vec<(RunId, i64)> {
        let held: HashMap<RunId, i64> = held.iter().copied().collect();
        let mut lost = Vec::new();
        for (id, slot) in self.slots.lock().iter_mut() {
            if !matches!(slot.phase, Phase::Queued | Phase::Running { .. }) {
                continue;
            }
            if held.get(id) != Some(&slot.token) {
                slot.cancel.cancel(CancelReason::LeaseLost);
                slot.phase = Phase::Settled;
                lost.push((*id, slot.token));
            }
        }
        lost
    }

    /// Raises the cancellation flag of a held run; true if it is held here.
    pub(crate) fn request_cancel(&self, run: RunId) -> bool {
        match self.slots.lock().get(&run) {
            Some(slot) => {
                slot.cancel.cancel(CancelReason::Requested);
                true
            }
            None => false,
        }
    }

    /// Queued runs (and, unless `queued_only`, running ones, whose jobs are asked to
    /// stop) marked `Finishing` for a release at shutdown.
    pub(crate) fn take_for_release(&self, queued_only: bool) -> Vec<SlotView> {
        let mut out = Vec::new();
        for (id, slot) in self.slots.lock().iter_mut() {
            let take = match slot.phase {
                Phase::Queued => true,
                Phase::Running { .. } => !queued_only,
                _ => false,
            };
            if take {
                if matches!(slot.phase, Phase::Running { .. }) {
                    slot.cancel.cancel(CancelReason::Shutdown);
                }
                slot.phase = Phase::Finishing;
                out.push(SlotView::of(*id, slot));
            }
        }
        out
    }

    /// Runs whose job still runs (for the shutdown report).
    pub(crate) fn busy_threads(&self) -> Vec<(RunId, String)> {
        let mut v: Vec<(RunId, String)> = self
            .slots
            .lock()
            .iter()
            .filter(|(_, s)| !s.thread_done && !matches!(s.phase, Phase::Queued))
            .map(|(id, s)| (*id, s.job_type.clone()))
            .collect();
        v.sort();
        v
    }
}
