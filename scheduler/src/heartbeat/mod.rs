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

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, select};

use crate::{
    backend::Backend,
    clock::{Clock, HostInstant},
    error::Result,
    events::{Event, Events},
    failing::Failing,
    inflight::{Attempt, InFlight},
    metrics::Stats,
    model::WorkerId,
};

/// The heartbeat thread's loop, with what it uses and nothing more.
pub(crate) struct Heartbeat {
    pub(crate) store: Arc<dyn Backend>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) inflight: Arc<InFlight>,
    pub(crate) events: Arc<Events>,
    pub(crate) stats: Arc<Stats>,
    /// The instance whose row and leases it renews.
    pub(crate) worker: WorkerId,
    /// How often it beats.
    pub(crate) interval: Duration,
    /// How long each renewed lease lasts.
    pub(crate) lease: Duration,
    /// The silence after which others may presume this instance dead.
    pub(crate) stale_after: Duration,
}

impl Heartbeat {
    /// Beats every interval until `stop` is closed.
    pub(crate) fn run(&self, stop: &Receiver<()>) {
        let mut failing = Failing::new("the heartbeat");
        loop {
            select! {
                recv(stop) -> _ => return,
                default(self.interval) => {}
            }
            match self.beat() {
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
    pub(crate) fn beat(&self) -> Result<()> {
        let (lease, worker) = (self.lease, self.worker);
        let asked = self.inflight.renewal_list();
        let pairs: Vec<_> = asked.iter().map(|a| (a.run, a.token)).collect();
        // What the renewal guarantees is measured from before it: the leases it writes
        // expire a lease duration after a reading taken later than this.
        let started = Instant::now();
        // A renewal that waits longer than an interval for the lock is worth less than
        // the next beat: give up then (and keep the writer free for the others).
        let wait = self.interval.min(self.store.busy_timeout());
        let (reactivated, renewed, cancels) = self.store.write_until(started + wait, |tx| {
            let now = self.clock.now();
            let host = HostInstant::now();
            let mut reactivated = false;
            if !tx.heartbeat_worker(worker, now, host)? {
                // Another process found this instance silent past its own limit and
                // marked it offline (a long pause): come back; leases it lost are found
                // below.
                reactivated = tx.reactivate_worker(worker, now, host)?;
            }
            let renewed = tx.renew_leases(worker, &pairs, now, host, lease)?;
            let cancels = tx.cancel_requested_for_worker(worker)?;
            Ok((reactivated, renewed, cancels))
        })?;
        if reactivated {
            log::warn!(
                "this scheduler was marked offline by another process after a long pause; it is active again"
            );
        }
        let renewed: Vec<Attempt> = renewed
            .into_iter()
            .map(|(run, token)| Attempt::new(run, token))
            .collect();
        let lost = self
            .inflight
            .renewed(&asked, &renewed, started, lease, self.stale_after);
        self.report_lost(&lost);
        for run in cancels {
            self.inflight.request_cancel(run);
        }
        Ok(())
    }

    fn report_lost(&self, lost: &[(Attempt, String)]) {
        for (a, job_type) in lost {
            log::warn!(
                "{a} ({job_type}): the lease was lost; its job is asked to stop and its result \
                 will be discarded"
            );
            self.stats.lease_lost.inc();
            self.events.emit(Event::LeaseLost {
                run: a.run,
                job_type: job_type.clone(),
                token: a.token,
            });
        }
    }
}
