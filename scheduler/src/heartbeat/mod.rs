//! The heartbeat thread: on its own short interval, one transaction renews this
//! instance's `workers` row and the lease of every attempt it holds, each named by its
//! run and fencing token, and reads the cancel requests other processes wrote for those
//! runs.
//!
//! It has its own thread so that no slow job, long claim or maintenance batch can delay
//! it: a late heartbeat is how a live instance loses leases it still needs. Only the
//! attempts the instance knows it holds are renewed, so a lease it lost track of runs
//! out and is rescued instead of being kept alive forever. A lease the renewal no
//! longer finds was lost (it expired and was taken back): the job is asked to stop and
//! its result will be discarded, since another worker may run it.

use std::{sync::Arc, time::Instant};

use crossbeam_channel::{Receiver, select};

use crate::{
    clock::HostInstant, dispatch::inflight::Attempt, error::Result, events::Event,
    failing::Failing, scheduler::Shared,
};

pub(crate) fn run(shared: &Arc<Shared>, stop: &Receiver<()>) {
    let interval = shared.config.heartbeat_interval;
    let mut failing = Failing::new("the heartbeat");
    loop {
        select! {
            recv(stop) -> _ => return,
            default(interval) => {}
        }
        match beat(shared) {
            Ok(()) => failing.succeeded(),
            // The next beat is the retry: leases are long enough (at least two
            // intervals) that one failed beat loses nothing.
            Err(e) => {
                failing.failed(&e, "leases are renewed at the next beat");
            }
        }
    }
}

/// One heartbeat.
pub(crate) fn beat(shared: &Shared) -> Result<()> {
    let lease = shared.config.lease_duration;
    let worker = shared.worker_id;
    let asked = shared.inflight.renewal_list();
    let pairs: Vec<_> = asked.iter().map(|a| (a.run, a.token)).collect();
    // What the renewal guarantees is measured from before it: the leases it writes
    // expire a lease duration after a reading taken later than this.
    let started = Instant::now();
    // A renewal that waits longer than an interval for the lock is worth less than the
    // next beat: give up then (and keep the writer free for the others).
    let wait = shared
        .config
        .heartbeat_interval
        .min(shared.store.busy_timeout());
    let result = shared.store.write_until(started + wait, |tx| {
        let now = shared.clock.now();
        let host = HostInstant::now();
        let mut reactivated = false;
        if !tx.heartbeat_worker(worker, now, host)? {
            // Another process found this instance silent past its own limit and marked
            // it offline (a long pause): come back; leases it lost are found below.
            reactivated = tx.reactivate_worker(worker, now, host)?;
        }
        let renewed = tx.renew_leases(worker, &pairs, now, host, lease)?;
        let cancels = tx.cancel_requested_for_worker(worker)?;
        Ok((reactivated, renewed, cancels))
    });
    match result {
        Ok((reactivated, renewed, cancels)) => {
            if reactivated {
                log::warn!(
                    "this scheduler was marked offline by another process after a long pause; it is active again"
                );
            }
            let renewed: Vec<Attempt> = renewed
                .into_iter()
                .map(|(run, token)| Attempt::new(run, token))
                .collect();
            let lost = shared.inflight.renewed(
                &asked,
                &renewed,
                started,
                lease,
                shared.config.maintenance.stale_worker_after,
            );
            report_lost(shared, &lost);
            for run in cancels {
                shared.inflight.request_cancel(run);
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn report_lost(shared: &Shared, lost: &[Attempt]) {
    for a in lost {
        log::warn!(
            "{a}: the lease was lost; its job is asked to stop and its result will be discarded"
        );
        shared.stats.lease_lost.inc();
        shared.events.emit(Event::LeaseLost {
            run: a.run,
            token: a.token,
        });
    }
}
