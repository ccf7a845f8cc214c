//! Leadership: when several processes share the database, one of them runs maintenance
//! at a time. The leader holds a lease in `system_state` (as long as the run lease
//! unless set), renews it three times per lease and hands it over when it stops; another
//! process takes over once it runs out. Losing the lead in between is safe: every
//! maintenance statement is guarded by the rows' current state, so two overlapping
//! passes change nothing twice.

use std::time::Duration;

use crate::{backend::Backend, clock::Clock, error::Result, model::WorkerId};

/// The leadership lease's `system_state` key.
pub(crate) const LEADER_KEY: &str = "maintenance.leader";

/// This instance's claim on the lead.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Leader {
    /// The instance that leads.
    pub(crate) worker: WorkerId,
    /// How long a lead lasts without renewal.
    pub(crate) lease: Duration,
}

impl Leader {
    /// Takes or renews the lead; true while this instance leads.
    pub(crate) fn lead(&self, store: &dyn Backend, clock: &dyn Clock) -> Result<bool> {
        let now = clock.now();
        store.write(|tx| tx.try_lead(LEADER_KEY, self.worker, now, self.lease))
    }

    /// Hands the lead over at shutdown, so another process need not wait for it to run
    /// out.
    pub(crate) fn release(&self, store: &dyn Backend, clock: &dyn Clock) -> Result<()> {
        let now = clock.now();
        store.write(|tx| tx.release_lead(LEADER_KEY, self.worker, now))
    }
}
