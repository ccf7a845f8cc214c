//! Metrics through the `metrics` facade (feature `metrics`): the host installs any
//! exporter (Prometheus, StatsD, ...) and these appear in it. Counters and histograms
//! are recorded as runs change, from the events of this process; the gauges of runs by
//! status (and unfinished runs by job type) are read from the database by a thread of
//! their own (every 10 s, [`crate::SchedulerBuilder::metrics_interval`]), so they count
//! every process's runs.

use std::{collections::HashSet, sync::Arc, time::Duration};

use crossbeam_channel::Receiver;
use metrics::{counter, gauge, histogram};

use crate::{
    backend::Backend,
    model::{AttemptErrorKind, Event},
};

/// Runs enqueued (label `job_type`).
pub const ENQUEUED: &str = "runloom_runs_enqueued_total";
/// Attempts started (label `job_type`).
pub const STARTED: &str = "runloom_attempts_started_total";
/// Runs completed (label `job_type`).
pub const COMPLETED: &str = "runloom_runs_completed_total";
/// Runs failed for good (labels `job_type`, `kind`).
pub const FAILED: &str = "runloom_runs_failed_total";
/// Attempts failed and retried (labels `job_type`, `kind`).
pub const RETRIED: &str = "runloom_attempts_retried_total";
/// Attempts that snoozed (label `job_type`).
pub const SNOOZED: &str = "runloom_attempts_snoozed_total";
/// Runs cancelled (label `job_type`).
pub const CANCELLED: &str = "runloom_runs_cancelled_total";
/// Leases this process lost (label `job_type`).
pub const LEASE_LOST: &str = "runloom_leases_lost_total";
/// Attempts whose job panicked (label `job_type`).
pub const PANICS: &str = "runloom_panics_total";
/// Seconds from a run's due time to its attempt's start (label `job_type`).
pub const QUEUE_WAIT: &str = "runloom_queue_wait_seconds";
/// Seconds the job code of a completed run ran (label `job_type`).
pub const RUN_DURATION: &str = "runloom_run_duration_seconds";
/// Seconds of one dispatcher transaction (outcomes written, runs claimed), from the
/// wait for the write lock to the commit.
pub const TRANSACTION: &str = "runloom_dispatcher_transaction_seconds";
/// Runs in the database by status (label `status`).
pub const RUNS: &str = "runloom_runs";
/// Unfinished runs in the database by job type and status (labels `job_type`,
/// `status`: blocked, pending, running).
pub const UNFINISHED: &str = "runloom_runs_unfinished";

pub(super) fn event(e: &Event) {
    match e {
        Event::Enqueued {
            job_type,
            created: true,
            ..
        } => counter!(ENQUEUED, "job_type" => job_type.clone()).increment(1),
        Event::Started { job_type, .. } => {
            counter!(STARTED, "job_type" => job_type.clone()).increment(1);
        }
        Event::Completed {
            job_type, duration, ..
        } => {
            counter!(COMPLETED, "job_type" => job_type.clone()).increment(1);
            histogram!(RUN_DURATION, "job_type" => job_type.clone()).record(duration.as_secs_f64());
        }
        Event::Retried { job_type, kind, .. } => {
            counter!(RETRIED, "job_type" => job_type.clone(), "kind" => kind.as_str()).increment(1);
            panicked(job_type, *kind);
        }
        Event::Failed { job_type, kind, .. } => {
            counter!(FAILED, "job_type" => job_type.clone(), "kind" => kind.as_str()).increment(1);
            panicked(job_type, *kind);
        }
        Event::Snoozed { job_type, .. } => {
            counter!(SNOOZED, "job_type" => job_type.clone()).increment(1);
        }
        Event::Cancelled { job_type, .. } => {
            counter!(CANCELLED, "job_type" => job_type.clone()).increment(1);
        }
        Event::LeaseLost { job_type, .. } => {
            counter!(LEASE_LOST, "job_type" => job_type.clone()).increment(1);
        }
        _ => {}
    }
}

fn panicked(job_type: &str, kind: AttemptErrorKind) {
    if kind == AttemptErrorKind::Panic {
        counter!(PANICS, "job_type" => job_type.to_owned()).increment(1);
    }
}

pub(super) fn queue_wait(job_type: &str, wait: Duration) {
    histogram!(QUEUE_WAIT, "job_type" => job_type.to_owned()).record(wait.as_secs_f64());
}

pub(super) fn transaction(took: Duration) {
    histogram!(TRANSACTION).record(took.as_secs_f64());
}

/// Reads the gauges from the database every `interval` until `stop` says so (or its
/// sender is gone): the body of the `runloom-metrics` thread. A failed read is logged
/// and tried again at the next interval.
pub(crate) fn gauges(store: &Arc<dyn Backend>, stop: &Receiver<()>, interval: Duration) {
    let mut shown: HashSet<(String, &'static str)> = HashSet::new();
    loop {
        if let Err(e) = report(store.as_ref(), &mut shown) {
            log::debug!("metrics: could not read the run counts: {}", e.report());
        }
        match stop.recv_timeout(interval) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
    }
}

fn report(store: &dyn Backend, shown: &mut HashSet<(String, &'static str)>) -> crate::Result<()> {
    let (counts, unfinished) =
        store.read(|tx| Ok((tx.count_runs_by_status()?, tx.count_unfinished_by_type()?)))?;
    for (status, n) in [
        ("blocked", counts.blocked),
        ("pending", counts.pending),
        ("running", counts.running),
        ("completed", counts.completed),
        ("failed", counts.failed),
        ("cancelled", counts.cancelled),
    ] {
        gauge!(RUNS, "status" => status).set(u64_to_f64(n));
    }
    let mut now_shown = HashSet::new();
    for (job_type, status, n) in unfinished {
        let status = status.as_str();
        gauge!(UNFINISHED, "job_type" => job_type.clone(), "status" => status).set(u64_to_f64(n));
        now_shown.insert((job_type, status));
    }
    // A type that has no unfinished run any more shows 0, not its last count.
    for (job_type, status) in shown.difference(&now_shown) {
        gauge!(UNFINISHED, "job_type" => job_type.clone(), "status" => *status).set(0.0);
    }
    *shown = now_shown;
    Ok(())
}

#[allow(clippy::cast_precision_loss)]
fn u64_to_f64(n: u64) -> f64 {
    // Exact below 2^53 runs, which is more than any database holds.
    n as f64
}
