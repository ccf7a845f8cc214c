//! Leases in the running scheduler: a paused worker whose lease was taken cannot
//! complete, the heartbeat tells its job to stop, pause/resume across two schedulers,
//! shutdown with in-flight runs, and a busy database.

mod common;

use std::{sync::Arc, time::Duration};

use common::{
    T0, TestDb, builder,
    jobs::{Gate, Noop, attempts_of, log_of, open_gate},
    no_delay, wait_event, wait_for,
};
use runloom::clock::HostInstant;
use runloom::{
    Clock, EnqueueOptions, Event, MaintenanceConfig, ManualClock, RunId, RunStatus, Scheduler,
    store::{
        AttemptErrorKind, AttemptOutcome, JobTypeFilter, NewWorker, Store, WorkerId, WorkerStatus,
    },
};

const WAIT: Duration = Duration::from_secs(15);

fn wait_status(s: &Scheduler, id: RunId, status: RunStatus) -> bool {
    if status.is_finished() {
        // A finished status is final until someone acts on the run: wait for it.
        return s.wait(id, WAIT).is_ok_and(|r| r.status == status);
    }
    wait_for(WAIT, || {
        s.run(id).map(|r| r.status == status).unwrap_or(false)
    })
}

/// In one transaction of the scheduler's own store (so its heartbeat cannot slip in
/// between): moves the clock past the lease, rescues the run, and claims it for
/// `thief`. Returns the thief's token.
fn steal(store: &Store, clock: &ManualClock, run: RunId, thief: WorkerId) -> i64 {
    store
        .write(|tx| {
            clock.advance(Duration::from_secs(60));
            let now = clock.now();
            // The lease is judged on the host's monotonic clock: a minute later there too.
            let later = HostInstant::now().after(Duration::from_secs(60));
            let rescued = tx.rescue_expired_leases(now, later, 100, &no_delay())?;
            assert_eq!(rescued.requeued(), 1, "the lease had expired");
            let claimed = tx.claim_runs(
                thief,
                1,
                now,
                HostInstant::now(),
                Duration::from_secs(600),
                &JobTypeFilter::any(),
            )?;
            assert_eq!(claimed[0].id, run);
            Ok(claimed[0].token)
        })
        .unwrap()
}

fn scheduler_with_clock(db: &TestDb, clock: &Arc<ManualClock>, heartbeat: Duration) -> Scheduler {
    builder(db)
        .clock(clock.clone())
        .lease_duration(Duration::from_secs(10))
        .heartbeat_interval(heartbeat)
        .maintenance(MaintenanceConfig::default().enabled(false))
        .register::<Gate>()
        .start()
        .unwrap()
}

#[test]
fn a_paused_worker_whose_lease_was_taken_cannot_complete_the_run() {
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new(T0));
    // A long heartbeat: the worker is "paused" as far as the lease is concerned.
    let a = scheduler_with_clock(&db, &clock, Duration::from_secs(4));
    let events = a.subscribe(64);
    let gate = "fencing-paused";
    let id = a
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: false,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    let first_token = a.run(id).unwrap().lease_token;

    let thief = a
        .store()
        .write(|tx| {
            let thief = NewWorker::new("thief", "elsewhere", 1);
            tx.register_worker(&thief, clock.now(), HostInstant::now())
        })
        .unwrap();
    let token = steal(a.store(), &clock, id, thief);
    assert_eq!(token, first_token + 1);

    // The stalled job wakes up and finishes: its completion must be refused.
    open_gate(gate);
    let lost = wait_event(
        &events,
        WAIT,
        |e| matches!(e, Event::LeaseLost { run, .. } if *run == id),
    );
    assert_eq!(
        lost,
        Some(Event::LeaseLost {
            run: id,
            job_type: "gate".into(),
            token: first_token
        })
    );
    let run = a.run(id).unwrap();
    assert_eq!(
        run.status,
        RunStatus::Running,
        "the late completion changed nothing"
    );
    assert_eq!(run.worker_id, Some(thief));
    assert_eq!(run.lease_token, token);
    assert_eq!(run.attempt, 2, "the lost attempt counts");
    assert_eq!(run.errors[0].kind, AttemptErrorKind::LeaseExpired);
    assert_eq!(a.stats().unwrap().lease_lost, 1);

    // The thief, holding the live lease, finishes it.
    a.store()
        .write(|tx| {
            tx.finish_attempt(
                id,
                token,
                &AttemptOutcome::Completed {
                    result: "\"thief\"".into(),
                },
                None,
                clock.now(),
            )
        })
        .unwrap();
    assert_eq!(a.run(id).unwrap().result.as_deref(), Some("\"thief\""));
}

#[test]
fn the_heartbeat_tells_a_job_whose_lease_was_lost_to_stop() {
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new(T0));
    let a = scheduler_with_clock(&db, &clock, Duration::from_millis(100));
    let events = a.subscribe(64);
    let gate = "fencing-heartbeat";
    let id = a
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: true,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    let thief = a
        .store()
        .write(|tx| {
            let thief = NewWorker::new("thief", "elsewhere", 1);
            tx.register_worker(&thief, clock.now(), HostInstant::now())
        })
        .unwrap();
    let token = steal(a.store(), &clock, id, thief);
    assert!(
        wait_event(
            &events,
            WAIT,
            |e| matches!(e, Event::LeaseLost { run, .. } if *run == id)
        )
        .is_some()
    );
    assert!(wait_for(WAIT, || log_of(gate)
        == vec!["cancelled: LeaseLost".to_owned()]));
    // Its cancellation is not written: the thief's lease stands.
    assert!(wait_for(WAIT, || a.stats().unwrap().in_flight == 0));
    let run = a.run(id).unwrap();
    assert_eq!(
        (run.status, run.lease_token, run.worker_id),
        (RunStatus::Running, token, Some(thief))
    );
}

#[test]
fn pause_and_resume_hold_for_every_scheduler_sharing_the_file() {
    let db = TestDb::new();
    let a = builder(&db).register::<Noop>().start().unwrap();
    let b = builder(&db).register::<Noop>().start().unwrap();
    a.pause().unwrap();
    assert!(b.is_paused().unwrap());
    let ids: Vec<RunId> = (0..5).map(|_| b.enqueue(Noop).unwrap().id).collect();
    // Many poll intervals (20 ms) pass: neither claims while paused.
    assert!(!wait_for(Duration::from_millis(300), || {
        ids.iter()
            .any(|id| b.run(*id).unwrap().status != RunStatus::Pending)
    }));
    b.resume().unwrap();
    assert!(!a.is_paused().unwrap());
    for id in &ids {
        assert!(wait_status(&a, *id, RunStatus::Completed));
    }
}

#[test]
fn shutdown_lets_jobs_finish_in_the_grace_period_and_releases_the_rest() {
    let db = TestDb::new();
    let s = builder(&db)
        .worker_threads(1)
        .max_in_flight(3)
        .register::<Gate>()
        .start()
        .unwrap();
    let finishing = "shutdown-finishes";
    let slow = "shutdown-slow";
    // One thread: the first job runs, the others wait in the local queue.
    let running = s
        .enqueue(Gate {
            gate: slow.into(),
            max_ms: 30_000,
            cooperative: true,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{slow}:started")) == 1));
    let queued: Vec<RunId> = (0..2)
        .map(|_| {
            s.enqueue(Gate {
                gate: finishing.into(),
                max_ms: 30_000,
                cooperative: true,
            })
            .unwrap()
            .id
        })
        .collect();
    assert!(wait_for(WAIT, || s.stats().unwrap().in_flight == 3));

    let report = s.shutdown(Duration::from_millis(300)).unwrap();
    let mut released = report.released.clone();
    released.sort();
    let mut expected = vec![running];
    expected.extend(&queued);
    expected.sort();
    assert_eq!(released, expected);
    assert_eq!(report.finished, 0);
    assert!(
        report.stuck.is_empty(),
        "the cooperative job stopped: {:?}",
        report.stuck
    );
    assert_eq!(log_of(slow), vec!["cancelled: Shutdown"]);

    let store = db.open();
    for id in expected {
        let run = store.read(|tx| tx.get_run(id)).unwrap();
        assert_eq!(run.status, RunStatus::Pending, "released runs run again");
        assert_eq!(run.attempt, 0, "a release does not count the attempt");
        assert_eq!(run.errors.last().unwrap().kind, AttemptErrorKind::Released);
    }
    assert!(
        store
            .read(|tx| tx.leases_of_worker(s.worker_id()))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .read(|tx| tx.get_worker(s.worker_id()))
            .unwrap()
            .status,
        WorkerStatus::Offline
    );
    // Shutting down again changes nothing and answers what the shutdown did.
    assert_eq!(s.shutdown(Duration::ZERO).unwrap(), report);
}

#[test]
fn a_job_that_finishes_within_the_grace_period_completes() {
    let db = TestDb::new();
    let s = builder(&db)
        .worker_threads(1)
        .register::<Gate>()
        .start()
        .unwrap();
    let gate = "shutdown-in-grace";
    let id = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: false,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        open_gate(gate);
    });
    let report = s.shutdown(Duration::from_secs(10)).unwrap();
    opener.join().unwrap();
    assert_eq!(report.finished, 1);
    assert!(report.released.is_empty());
    assert_eq!(
        db.open().read(|tx| tx.get_run(id)).unwrap().status,
        RunStatus::Completed
    );
}

#[test]
fn a_job_that_ignores_shutdown_is_released_and_reported_stuck() {
    let db = TestDb::new();
    let s = builder(&db)
        .worker_threads(1)
        .register::<Gate>()
        .start()
        .unwrap();
    let gate = "shutdown-stuck";
    let id = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: false,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    let report = s.shutdown(Duration::from_millis(100)).unwrap();
    assert_eq!(report.released, vec![id]);
    assert_eq!(report.stuck, vec![(id, "gate".to_owned())]);
    let run = db.open().read(|tx| tx.get_run(id)).unwrap();
    assert_eq!((run.status, run.attempt), (RunStatus::Pending, 0));
    open_gate(gate); // let the thread end
}

#[test]
fn a_busy_database_delays_a_completion_but_never_loses_it() {
    let db = TestDb::new();
    let s = builder(&db)
        .busy_timeout(Duration::from_millis(50))
        .register::<Gate>()
        .start()
        .unwrap();
    let gate = "busy";
    let id = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: false,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    // Another connection holds the write lock far longer than the busy timeout while
    // the job finishes.
    let holder = db.raw();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    open_gate(gate);
    assert!(!wait_for(Duration::from_millis(600), || {
        db.raw()
            .query_row(
                "SELECT status FROM task_runs WHERE id = ?",
                [id.get()],
                |r| r.get::<_, String>(0),
            )
            .map(|s| s == "completed")
            .unwrap_or(false)
    }));
    holder.execute_batch("COMMIT").unwrap();
    assert!(wait_status(&s, id, RunStatus::Completed));
    assert_eq!(s.run(id).unwrap().attempt, 1, "the job ran once");
}

#[test]
fn expired_leases_of_a_vanished_worker_are_rescued_by_maintenance() {
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new(T0));
    // A worker row that claimed a run six seconds ago (on both clocks) and then
    // disappeared, as a killed process would.
    let store = db.open();
    let six_seconds_ago = HostInstant::from_millis(HostInstant::now().millis() - 6_000);
    let ghost = store
        .write(|tx| tx.register_worker(&NewWorker::new("ghost", "h", 1), T0, six_seconds_ago))
        .unwrap();
    let id = store
        .write(|tx| tx.insert_run(&runloom::store::NewRun::new("noop", "null", T0), T0))
        .unwrap()
        .id;
    store
        .write(|tx| {
            let lease = Duration::from_secs(5);
            tx.claim_runs(ghost, 1, T0, six_seconds_ago, lease, &JobTypeFilter::any())
        })
        .unwrap();
    clock.advance(Duration::from_secs(6));
    let s = builder(&db)
        .clock(clock.clone())
        .maintenance(MaintenanceConfig::default().lease_rescue_interval(Duration::from_millis(20)))
        .register::<Noop>()
        .start()
        .unwrap();
    // Taken back, and retried after the retry policy's backoff, like any failed attempt
    // (a crash loop would retry at once).
    assert!(wait_status(&s, id, RunStatus::Pending));
    let rescued = s.run(id).unwrap();
    assert_eq!(rescued.errors[0].kind, AttemptErrorKind::LeaseExpired);
    assert!(
        rescued.scheduled_at > clock.now(),
        "the rescued run backs off: due {} at {}",
        rescued.scheduled_at,
        clock.now()
    );
    clock.advance(Duration::from_secs(2));
    s.notify();
    assert!(wait_status(&s, id, RunStatus::Completed));
    let run = s.run(id).unwrap();
    assert_eq!(run.attempt, 2, "the crashed attempt counts");
    assert_eq!(run.errors[0].kind, AttemptErrorKind::LeaseExpired);
    assert_eq!(run.worker_id, Some(s.worker_id()));
    let _ = EnqueueOptions::new();
}
