//! Every hand-off names its attempt (run id and fencing token): a run taken back and
//! claimed again by the same process runs as a second attempt beside the first, and
//! nothing the first does afterwards (stop on its lost lease, return late) changes the
//! second; a run whose lease ran out while it waited in the local queue is handed back
//! without its code running.

mod common;

use std::time::Duration;

use common::{
    TestDb, builder,
    jobs::{PerAttempt, log_of, open_gate},
    no_delay, wait_for,
};
use runloom::clock::HostInstant;
use runloom::{
    Clock, Event, MaintenanceConfig, RunId, RunStatus, Scheduler, SystemClock,
    store::{AttemptErrorKind, NewRun},
};

const WAIT: Duration = Duration::from_secs(20);

fn scheduler(db: &TestDb, threads: usize, lease: Duration) -> Scheduler {
    builder(db)
        .worker_threads(threads)
        .max_in_flight(threads.max(2))
        .lease_duration(lease)
        .heartbeat_interval(Duration::from_millis(100))
        // The test takes leases back itself, at the moments it chooses.
        .maintenance(MaintenanceConfig::default().enabled(false))
        .register::<PerAttempt>()
        .start()
        .unwrap()
}

fn logged(gate: &str, line: &str) -> bool {
    log_of(gate).iter().any(|l| l == line)
}

/// Takes the run's lease back as the rescue would once it expired (a minute later on
/// the host's monotonic clock), due again at once, and wakes the scheduler to claim it.
fn take_back(s: &Scheduler, id: RunId) {
    let rescued = s
        .store()
        .write(|tx| {
            let later = HostInstant::now().after(Duration::from_secs(60));
            tx.rescue_expired_leases(SystemClock.now(), later, 10, &no_delay())
        })
        .unwrap();
    assert_eq!(rescued.runs.len(), 1);
    assert_eq!(rescued.runs[0].run, id);
    s.notify();
}

fn wait_finished(s: &Scheduler, id: RunId) -> runloom::Run {
    assert!(s.wait(id, WAIT).is_ok());
    s.run(id).unwrap()
}

#[test]
fn an_old_attempt_that_stops_on_its_lost_lease_never_cancels_the_new_one() {
    let db = TestDb::new();
    let s = scheduler(&db, 2, Duration::from_secs(10));
    let events = s.subscribe(256);
    let gate = "old-attempt-stops";
    let id = s
        .enqueue(PerAttempt {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: true,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || logged(gate, "1 started")));
    let first = s.run(id).unwrap().lease_token;
    take_back(&s, id);
    // This same process claims the run again: attempt 2 runs beside attempt 1.
    assert!(wait_for(WAIT, || logged(gate, "2 started")));
    // The heartbeat finds attempt 1's lease gone and tells its job, which stops.
    assert!(wait_for(WAIT, || logged(gate, "1 cancelled: LeaseLost")));
    let lost = common::wait_event(
        &events,
        WAIT,
        |e| matches!(e, Event::LeaseLost { run, .. } if *run == id),
    );
    assert_eq!(
        lost,
        Some(Event::LeaseLost {
            run: id,
            job_type: "per_attempt".into(),
            token: first
        })
    );
    open_gate(&format!("{gate}:2"));
    let run = wait_finished(&s, id);
    assert_eq!(
        (run.status, run.attempt, run.result.as_deref()),
        (RunStatus::Completed, 2, Some(r#""attempt 2""#)),
        "attempt 1's cancellation was applied to attempt 2: {run:?}"
    );
    assert_eq!(run.lease_token, first + 1);
    let kinds: Vec<_> = run.errors.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [AttemptErrorKind::LeaseExpired]);
    assert!(wait_for(WAIT, || s.stats().unwrap().in_flight == 0));
}

#[test]
fn an_old_attempt_that_returns_late_never_completes_the_new_one() {
    let db = TestDb::new();
    let s = scheduler(&db, 2, Duration::from_secs(10));
    let gate = "old-attempt-returns";
    let id = s
        .enqueue(PerAttempt {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: false,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || logged(gate, "1 started")));
    take_back(&s, id);
    assert!(wait_for(WAIT, || logged(gate, "2 started")));
    // Attempt 1 ignores everything and returns a result while attempt 2 runs.
    open_gate(&format!("{gate}:1"));
    assert!(wait_for(WAIT, || logged(gate, "1 returned")));
    // Its slot goes (the thread is free again) and the run is still attempt 2's.
    assert!(wait_for(WAIT, || s.stats().unwrap().in_flight == 1));
    let run = s.run(id).unwrap();
    assert_eq!(
        (run.status, run.attempt),
        (RunStatus::Running, 2),
        "{run:?}"
    );
    open_gate(&format!("{gate}:2"));
    let run = wait_finished(&s, id);
    assert_eq!(
        (run.status, run.result.as_deref()),
        (RunStatus::Completed, Some(r#""attempt 2""#)),
        "attempt 1's late result was written: {run:?}"
    );
}

#[test]
fn a_run_whose_lease_ran_out_in_the_local_queue_is_handed_back_unrun() {
    let db = TestDb::new();
    let store = db.open();
    let now = SystemClock.now();
    let payload = |gate: &str| {
        serde_json::to_string(&PerAttempt {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: false,
        })
        .unwrap()
    };
    let (busy, queued) = ("queue-busy", "queue-waiting");
    let ids: Vec<RunId> = store
        .write(|tx| {
            let runs = [
                NewRun::new("per_attempt", payload(busy), now),
                NewRun::new("per_attempt", payload(queued), now),
            ];
            Ok(tx.insert_runs(&runs, now)?.iter().map(|i| i.id).collect())
        })
        .unwrap();
    // One thread, two slots: the second run waits in the local queue under its lease.
    let lease = Duration::from_millis(300);
    let s = scheduler(&db, 1, lease);
    assert!(wait_for(WAIT, || logged(busy, "1 started")));
    assert!(wait_for(WAIT, || s.run(ids[1]).unwrap().status == RunStatus::Running));
    assert!(log_of(queued).is_empty());

    // Another program holds the write lock: this process can renew nothing, as if it
    // were paused. Once a lease duration has passed, the queued run's lease may have
    // been taken by another process.
    let holder = db.raw();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    std::thread::sleep(lease + Duration::from_millis(100));
    open_gate(&format!("{busy}:1"));
    assert!(wait_for(WAIT, || logged(busy, "1 returned")));
    // The thread is free and takes the queued run: it is handed back, its code never
    // starts.
    assert!(
        !wait_for(Duration::from_millis(300), || !log_of(queued).is_empty()),
        "the job started under a lease that was no longer surely live: {:?}",
        log_of(queued)
    );
    holder.execute_batch("ROLLBACK").unwrap();

    // The hand-back is written (the attempt is given back) and the run runs normally.
    assert!(wait_for(WAIT, || logged(queued, "1 started")));
    open_gate(&format!("{queued}:1"));
    let run = wait_finished(&s, ids[1]);
    assert_eq!((run.status, run.attempt), (RunStatus::Completed, 1));
    assert_eq!(run.errors.len(), 1, "{:?}", run.errors);
    assert_eq!(run.errors[0].kind, AttemptErrorKind::Released);
    assert!(
        run.errors[0].message.contains("handed back unrun"),
        "{}",
        run.errors[0].message
    );
    assert_eq!(
        log_of(queued),
        ["1 started", "1 returned"],
        "executed once, after the hand-back"
    );
    let busy_run = wait_finished(&s, ids[0]);
    assert_eq!(busy_run.status, RunStatus::Completed);
}
