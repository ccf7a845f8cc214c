//! ③ Claim: take due runs under leases, as many as this instance has free slots for,
//! of the job types it can run, in the dispatcher's write transaction.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{
    backend::{JobTypeFilter, Writes},
    clock::HostInstant,
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
    pub(crate) runs: Vec<ClaimedRun>,
    /// When the next pending run becomes due, if the claim came back short.
    pub(crate) next_due: Option<OffsetDateTime>,
    /// Claiming is paused (by any process sharing the database).
    pub(crate) paused: bool,
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

    /// Claims up to `free` runs in the caller's transaction, with leases from `now` on
    /// the wall clock and `host` on the monotonic clock.
    pub(crate) fn claim(
        &self,
        tx: &dyn Writes,
        free: usize,
        row: WorkerRow,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<Claimed> {
        if free == 0 {
            return Ok(Claimed::default());
        }
        let renewed = row == WorkerRow::Renew;
        if renewed && !tx.heartbeat_worker(self.worker, now, host)? {
            // Marked offline by another process: its leases may be released. The
            // heartbeat brings the instance back (and finds what it lost); claim after.
            return Ok(Claimed::default());
        }
        if tx.is_paused()? {
            return Ok(Claimed {
                paused: true,
                worker_renewed: renewed,
                ..Claimed::default()
            });
        }
        let runs =
            tx.claim_unpaused(self.worker, free, (now, host), self.lease, &self.job_types)?;
        let next_due = if runs.len() < free {
            tx.next_due_unpaused(now, &self.job_types)?
        } else {
            None
        };
        Ok(Claimed {
            runs,
            next_due,
            paused: false,
            worker_renewed: renewed,
        })
    }
}
