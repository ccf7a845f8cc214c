//! ③ Claim: take due runs under leases, as many as this instance has free slots for,
//! of the job types it can run, in the dispatcher's write transaction.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{
    backend::{JobTypeFilter, Writes},
    clock::{Clock, HostInstant},
    error::Result,
    model::{ClaimedRun, WorkerId},
};

/// Claims for one scheduler instance.
#[derive(Debug)]
pub(crate) struct Claimer {
    pub(crate) worker: WorkerId,
    pub(crate) lease: Duration,
    pub(crate) job_types: JobTypeFilter,
    /// How often the heartbeat renews the instance's row, and how long a renewal lets
    /// others count it alive (the promise the row records).
    pub(crate) heartbeat_interval: Duration,
    pub(crate) stale_after: Duration,
    /// The queues this instance runs, one per lane, in lane order.
    pub(crate) queues: Vec<String>,
}

/// Whether the instance's `workers` row surely shows it alive while the runs a claim
/// takes now start (the heartbeat keeps it so; after a pause or a cut-off, the
/// dispatcher may get through before the heartbeat does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WorkerRow {
    /// Surely live: claim.
    Live,
    /// Not surely live: renew the row in the claim's transaction first (a run claimed
    /// by an instance others may presume dead would be handed back unrun, and claimed
    /// again, and handed back, until the heartbeat caught up).
    Renew,
}

/// What one claim took, and when to look again if it took fewer than asked.
#[derive(Debug, Default)]
pub(crate) struct Claimed {
    /// The runs taken, each with the lane (queue) it was claimed for.
    pub(crate) runs: Vec<(usize, ClaimedRun)>,
    /// When the next pending run of an unpaused queue becomes due, if a queue's claim
    /// came back short.
    pub(crate) next_due: Option<OffsetDateTime>,
    /// Claiming is paused (by any process sharing the database): globally, or every
    /// queue that had room.
    pub(crate) paused: bool,
    /// Some queue got all it asked for: more may be waiting.
    pub(crate) full: bool,
    /// The transaction renewed the instance's `workers` row ([`WorkerRow::Renew`]).
    pub(crate) worker_renewed: bool,
}

impl Claimer {
    /// Whether a claim starting now must renew the instance's row first: its row is
    /// live less than one more heartbeat interval, which a heartbeat on time never
    /// lets happen (the row lasts at least two intervals).
    pub(crate) fn worker_row(&self, inflight: &crate::inflight::InFlight) -> WorkerRow {
        if inflight.worker_live_at(std::time::Instant::now() + self.heartbeat_interval) {
            WorkerRow::Live
        } else {
            WorkerRow::Renew
        }
    }

    /// Claims into each lane up to its `free` slots (`free[i]` for `queues[i]`) in the
    /// caller's transaction, with leases from `clock`'s time on the wall clock and
    /// `host` on the monotonic clock. A queue paused by an operator is skipped; each
    /// queue's claim is its own index range, so a busy queue never delays another's.
    ///
    /// The time that decides which runs are due is read after the pauses: on
    /// PostgreSQL each statement sees what committed before it, so a time read earlier
    /// in the transaction could predate runs enqueued before a resume the pause read
    /// already sees, and a claim would take a lower-priority run first because the
    /// higher ones looked not yet due.
    pub(crate) fn claim(
        &self,
        tx: &dyn Writes,
        free: &[usize],
        row: WorkerRow,
        clock: &dyn Clock,
        host: HostInstant,
    ) -> Result<Claimed> {
        let now = clock.now();
        if free.iter().all(|f| *f == 0) {
            return Ok(Claimed::default());
        }
        let renewed = row == WorkerRow::Renew;
        if renewed && !tx.heartbeat_worker(self.worker, now, host)? {
            // Marked offline by another process: its leases may be released. The
            // heartbeat brings the instance back (and finds what it lost); claim after.
            return Ok(Claimed::default());
        }
        let (all_paused, paused) = tx.claim_pauses()?;
        if all_paused {
            return Ok(Claimed {
                paused: true,
                worker_renewed: renewed,
                ..Claimed::default()
            });
        }
        let now = clock.now().max(now);
        let mut claimed = Claimed {
            worker_renewed: renewed,
            paused: true,
            ..Claimed::default()
        };
        for (lane, (queue, &want)) in self.queues.iter().zip(free).enumerate() {
            if want == 0 {
                continue;
            }
            if paused.iter().any(|p| p == queue) {
                continue;
            }
            claimed.paused = false;
            let runs = tx.claim_unpaused(
                self.worker,
                queue,
                want,
                (now, host),
                self.lease,
                &self.job_types,
            )?;
            if runs.len() < want {
                if let Some(due) = tx.next_due_unpaused(now, queue, &self.job_types)? {
                    claimed.next_due = Some(claimed.next_due.map_or(due, |n| n.min(due)));
                }
            } else {
                claimed.full = true;
            }
            claimed.runs.extend(runs.into_iter().map(|r| (lane, r)));
        }
        Ok(claimed)
    }
}
