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
}

/// What one claim took, and when to look again if it took fewer than asked.
#[derive(Debug, Default)]
pub(crate) struct Claimed {
    pub(crate) runs: Vec<ClaimedRun>,
    /// When the next pending run becomes due, if the claim came back short.
    pub(crate) next_due: Option<OffsetDateTime>,
    /// Claiming is paused (by any process sharing the database).
    pub(crate) paused: bool,
}

impl Claimer {
    /// Claims up to `free` runs in the caller's transaction, with leases from `now` on
    /// the wall clock and `host` on the monotonic clock.
    pub(crate) fn claim(
        &self,
        tx: &dyn Writes,
        free: usize,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<Claimed> {
        if free == 0 {
            return Ok(Claimed::default());
        }
        if tx.is_paused()? {
            return Ok(Claimed {
                paused: true,
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
        })
    }
}
