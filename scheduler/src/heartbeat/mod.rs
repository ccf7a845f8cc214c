//! The heartbeat thread: on its own short interval, one transaction renews this
//! instance's `workers` row and the leases of every run it holds, and reads the cancel
//! requests other processes wrote for those runs.
//!
//! It has its own thread so that no slow job, long claim or maintenance batch can delay
//! it: a late heartbeat is how a live instance loses leases it still needs. A lease the
//! renewal no longer finds was lost (it expired and was taken back): the job is asked
//! to stop and its result will be discarded, since another worker may run it.

use std::sync::Arc;

use crossbeam_channel::{Receiver, select};

use crate::{events::Event, scheduler::Shared, store::RunId};

pub(crate) fn run(shared: &Arc<Shared>, stop: &Receiver<()>) {
    let interval = shared.config.heartbeat_interval;
    loop {
        select! {
            recv(stop) -> _ => return,
            default(interval) => {}
        }
        beat(shared);
    }
}

/// One heartbeat. Errors are logged and the next beat tries again; leases are long
/// enough (at least two intervals) that one failed beat loses nothing.
pub(crate) fn beat(shared: &Shared) {
    let now = shared.clock.now();
    let lease = shared.config.lease_duration;
    let worker = shared.worker_id;
    let result = shared.store.write(|tx| {
        let mut reactivated = false;
        if !tx.heartbeat_worker(worker, now)? {
            // Another process found this instance's heartbeat stale and marked it
            // offline (a long pause): come back; leases it lost are detected below.
            reactivated = tx.reactivate_worker(worker, now)?;
        }
        let held = tx.extend_leases(worker, now, lease)?;
        // Compared inside the transaction: no outcome of the dispatcher can commit
        // between the renewal and the comparison (it marks runs Finishing before its
        // own transaction, and those are not compared).
        let lost = shared.inflight.settle_lost(&held);
        let cancels = tx.cancel_requested_for_worker(worker)?;
        Ok((reactivated, lost, cancels))
    });
    match result {
        Ok((reactivated, lost, cancels)) => {
            if reactivated {
                log::warn!(
                    "this scheduler was marked offline by another process after a long pause; it is active again"
                );
            }
            report_lost(shared, &lost);
            for run in cancels {
                shared.inflight.request_cancel(run);
            }
        }
        Err(e) => log::warn!("heartbeat failed (the next one will retry): {e}"),
    }
}

fn report_lost(shared: &Shared, lost: &[(RunId, i64)]) {
    for (run, token) in lost {
        log::warn!(
            "lease {token} on run {run} was lost: its job is asked to stop and its result will be discarded"
        );
        shared.stats.lease_lost.inc();
        shared.events.emit(Event::LeaseLost {
            run: *run,
            token: *token,
        });
    }
}
