//! Leadership: when several processes share the database, one of them runs maintenance
//! at a time. The leader holds a lease in `system_state` (as long as the run lease
//! unless set), renews it three times per lease and hands it over when it stops; another
//! process takes over once it runs out. Losing the lead in between is safe: every
//! maintenance statement is guarded by the rows' current state, so two overlapping
//! passes change nothing twice.

use std::time::Duration;

use crate::{error::Result, scheduler::Shared};

/// The leadership lease's `system_state` key.
pub(crate) const LEADER_KEY: &str = "maintenance.leader";

/// How long a lead lasts without renewal.
pub(crate) fn leader_lease(shared: &Shared) -> Duration {
    shared
        .config
        .maintenance
        .leader_lease
        .unwrap_or(shared.config.lease_duration)
}

/// Takes or renews the lead; true while this instance leads.
pub(crate) fn lead(shared: &Shared) -> Result<bool> {
    let now = shared.clock.now();
    let lease = leader_lease(shared);
    shared
        .store
        .write(|tx| tx.try_lead(LEADER_KEY, shared.worker_id, now, lease))
}

/// Hands the lead over at shutdown, so another process need not wait for it to run out.
pub(crate) fn release(shared: &Shared) -> Result<()> {
    let now = shared.clock.now();
    shared
        .store
        .write(|tx| tx.release_lead(LEADER_KEY, shared.worker_id, now))
}
