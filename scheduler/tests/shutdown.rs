//! Shutdown is bounded: it returns within its grace period plus `SHUTDOWN_OVERRUN`
//! whatever the database does (here: another connection holds the write lock through
//! all of it), reports what it could not write, and loses nothing; a second call waits
//! for the first and gets its answer.

mod common;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use common::{
    TestDb, builder,
    jobs::{Gate, attempts_of, open_gate},
    wait_for,
};
use runloom::{
    Error, MaintenanceConfig, RunStatus, SHUTDOWN_OVERRUN, Scheduler, store::WorkerStatus,
};

const WAIT: Duration = Duration::from_secs(20);

fn with_gate(db: &TestDb) -> Scheduler {
    builder(db)
        .worker_threads(1)
        .lease_duration(Duration::from_secs(1))
        .heartbeat_interval(Duration::from_millis(100))
        .register::<Gate>()
        .start()
        .unwrap()
}

#[test]
fn shutdown_is_bounded_while_another_connection_holds_the_write_lock() {
    let db = TestDb::new();
    let s = with_gate(&db);
    let gate = "bounded-shutdown";
    let id = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 60_000,
            cooperative: false,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    // Another program takes the write lock and keeps it through the whole shutdown.
    let holder = db.raw();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let grace = Duration::from_millis(300);
    let started = Instant::now();
    let outcome = s.shutdown(grace);
    let took = started.elapsed();
    // The bound is the promise under test, not a speed: a generous margin for a
    // loaded machine, far below the unbounded wait this replaced.
    assert!(
        took < grace + SHUTDOWN_OVERRUN + Duration::from_secs(2),
        "shutdown({grace:?}) took {took:?}"
    );
    let Err(Error::ShutdownIncomplete { report, reason }) = outcome else {
        panic!("expected an incomplete shutdown, got {outcome:?}");
    };
    assert_eq!(report.unwritten, [id], "{reason}");
    assert!(reason.contains("could not be written"), "{reason}");
    assert!(reason.contains("offline"), "{reason}");
    // A later call gets the same answer.
    assert!(matches!(
        s.shutdown(Duration::ZERO),
        Err(Error::ShutdownIncomplete { report: again, .. }) if again == report
    ));
    holder.execute_batch("ROLLBACK").unwrap();
    open_gate(gate);

    // Nothing was lost: the run is still leased to the stopped instance, whose lease
    // runs out; another scheduler takes it back and runs it again.
    let store = db.open();
    assert_eq!(
        store.read(|tx| tx.get_run(id)).unwrap().status,
        RunStatus::Running
    );
    let other = builder(&db)
        .lease_duration(Duration::from_secs(1))
        .heartbeat_interval(Duration::from_millis(100))
        .maintenance(MaintenanceConfig::default().lease_rescue_interval(Duration::from_millis(20)))
        .retry_policy(runloom::ExponentialBackoff::new(Duration::ZERO))
        .register::<Gate>()
        .start()
        .unwrap();
    assert!(wait_for(WAIT, || other.run(id).unwrap().status
        == RunStatus::Completed));
    assert_eq!(other.run(id).unwrap().attempt, 2);
    other.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_second_shutdown_waits_for_the_first_and_gets_its_answer() {
    let db = TestDb::new();
    let s = Arc::new(with_gate(&db));
    let gate = "second-shutdown";
    let id = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 60_000,
            cooperative: false,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    let first = {
        let s = s.clone();
        std::thread::spawn(move || s.shutdown(Duration::from_millis(500)))
    };
    // The first call is under way once the instance is marked stopping.
    let store = db.open();
    assert!(wait_for(WAIT, || {
        store
            .read(|tx| tx.get_worker(s.worker_id()))
            .unwrap()
            .status
            != WorkerStatus::Active
    }));
    let second = s.shutdown(Duration::ZERO).unwrap();
    let first = first.join().unwrap().unwrap();
    assert_eq!(second, first, "the second call answers what the first did");
    assert_eq!(first.released, [id]);
    assert_eq!(first.stuck.len(), 1, "the job ignored its cancellation");
    assert_eq!(
        store
            .read(|tx| tx.get_worker(s.worker_id()))
            .unwrap()
            .status,
        WorkerStatus::Offline,
        "the second call returned after the first finished"
    );
    open_gate(gate);
}
