//! Several hosts on one PostgreSQL database whose clocks disagree (point 4 of the
//! PostgreSQL issue): a lease's expiry and a worker's heartbeat are judged on the
//! database's clock, so a host whose clock is 30 s ahead of the holder's, or a holder
//! whose clock is 30 s behind, never takes a live run, however hard it runs the rescue.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{sync::Arc, time::Duration};

use common::{
    jobs::{Gate, open_gate},
    postgres::fresh_db,
    wait_for,
};
use runloom::{
    Admin, Clock, ManualClock, RunStatus, Scheduler, SystemClock, maintenance::MaintenanceConfig,
};

/// A clock `offset_s` seconds from the system's (stopped: what matters is the offset).
fn skewed(offset_s: i64) -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(
        SystemClock.now() + time::Duration::seconds(offset_s),
    ))
}

/// The holder runs a job for several of its 1 s leases while an observer whose clock
/// is `observer_s` away from the holder's (`holder_s` from the system's) runs every
/// maintenance pass back to back; the run must finish in its first attempt with no
/// expiry in its history.
fn live_run_survives(holder_s: i64, observer_s: i64, gate: &str) {
    let Some(db) = fresh_db() else { return };
    let holder_clock: Arc<dyn Clock> = if holder_s == 0 {
        Arc::new(SystemClock)
    } else {
        skewed(holder_s)
    };
    let holder = Scheduler::builder()
        .postgres(&db.url)
        .clock(holder_clock)
        .worker_threads(1)
        .poll_interval(Duration::from_millis(20))
        .lease_duration(Duration::from_secs(1))
        .heartbeat_interval(Duration::from_millis(200))
        .maintenance(MaintenanceConfig::default().enabled(false))
        .register::<Gate>()
        .start()
        .unwrap();
    let id = holder
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: false,
        })
        .unwrap()
        .id;
    assert!(wait_for(Duration::from_secs(10), || {
        holder.run(id).unwrap().status == RunStatus::Running
    }));

    let observer = Admin::builder_postgres(&db.url)
        .clock(skewed(holder_s + observer_s))
        .open()
        .unwrap();
    // Three lease lengths of rescue passes from the skewed host.
    let until = std::time::Instant::now() + Duration::from_secs(3);
    let mut passes = 0;
    while std::time::Instant::now() < until {
        observer.run_maintenance(None).unwrap();
        passes += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        passes > 20,
        "the observer kept running maintenance ({passes} passes)"
    );
    let during = observer.run(id).unwrap();
    assert_eq!(
        (during.status, during.attempt, during.errors.len()),
        (RunStatus::Running, 1, 0),
        "the live run was left to its holder: {:?}",
        during.errors
    );
    let worker = common::backend::worker(&observer, holder.worker_id());
    assert_eq!(
        worker.status,
        runloom::WorkerStatus::Active,
        "the holder is alive"
    );

    open_gate(gate);
    assert!(wait_for(Duration::from_secs(10), || {
        holder.run(id).unwrap().status == RunStatus::Completed
    }));
    let run = holder.run(id).unwrap();
    assert_eq!((run.attempt, run.errors.len()), (1, 0), "{:?}", run.errors);
    holder.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn an_observer_30_s_ahead_never_takes_a_live_run() {
    live_run_survives(0, 30, "ahead");
}

#[test]
fn a_holder_30_s_behind_keeps_its_live_run() {
    live_run_survives(-30, 30, "behind");
}
