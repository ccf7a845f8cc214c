//! The storage layer's runs and leases: enqueue, claim order, uniqueness, bad input,
//! racing claimers, fenced outcomes, cancel and retry by hand.

mod common;

use std::{collections::HashSet, time::Duration};

use common::{H0, T0, TestDb, at_ms, host_ms, no_delay};
use runloom::clock::HostInstant;
use runloom::{
    Error,
    store::{
        AttemptError, AttemptErrorKind, AttemptOutcome, AttemptTiming, CancelOutcome,
        JobTypeFilter, NewRun, NewWorker, RunFilter, RunId, RunStatus, Store, WorkerId,
    },
};

const TTL: Duration = Duration::from_secs(30);

fn worker(store: &Store, name: &str) -> WorkerId {
    store
        .write(|tx| tx.register_worker(&NewWorker::new(name, "test-host", 4), T0, H0))
        .unwrap()
}

fn enqueue(store: &Store, run: NewRun) -> RunId {
    store.write(|tx| tx.insert_run(&run, T0)).unwrap().id
}

fn run_at(job: &str, priority: u8, due_ms: i64) -> NewRun {
    let mut r = NewRun::new(job, "{}", at_ms(due_ms));
    r.priority = priority;
    r
}

fn completed() -> AttemptOutcome {
    AttemptOutcome::Completed {
        result: "null".into(),
    }
}

#[test]
fn insert_and_read_back_a_run_with_its_defaults() {
    let db = TestDb::new();
    let store = db.open();
    let ins = store
        .write(|tx| tx.insert_run(&NewRun::new("email", r#"{"to":"x@y.z"}"#, at_ms(5)), T0))
        .unwrap();
    assert!(ins.created);
    assert_eq!(ins.status, RunStatus::Pending);
    let run = store.read(|tx| tx.get_run(ins.id)).unwrap();
    assert_eq!(run.job_type, "email");
    assert_eq!(run.payload_json().unwrap()["to"], "x@y.z");
    assert_eq!(run.status, RunStatus::Pending);
    assert_eq!((run.attempt, run.max_attempts, run.priority), (0, 3, 0));
    assert_eq!(run.scheduled_at, at_ms(5));
    assert_eq!(run.created_at, T0);
    assert_eq!(run.lease_token, 0);
    assert!(run.errors.is_empty());
    assert!(matches!(
        store.read(|tx| tx.get_run(RunId::new(999))),
        Err(Error::RunNotFound(id)) if id == RunId::new(999)
    ));
}

#[test]
fn bad_values_are_refused_by_name_and_nothing_is_written() {
    let db = TestDb::new();
    let store = db.open();
    let cases: Vec<(&str, NewRun)> = vec![
        ("priority", {
            let mut r = NewRun::new("t", "{}", T0);
            r.priority = 101;
            r
        }),
        ("max_attempts", {
            let mut r = NewRun::new("t", "{}", T0);
            r.max_attempts = 0;
            r
        }),
        ("max_attempts", {
            let mut r = NewRun::new("t", "{}", T0);
            r.max_attempts = 1001;
            r
        }),
        ("timeout", {
            let mut r = NewRun::new("t", "{}", T0);
            r.timeout = Some(Duration::ZERO);
            r
        }),
        ("timeout", {
            let mut r = NewRun::new("t", "{}", T0);
            r.timeout = Some(Duration::MAX);
            r
        }),
        ("job_type", NewRun::new("", "{}", T0)),
        ("job_type", NewRun::new("x".repeat(201), "{}", T0)),
        ("payload", NewRun::new("t", "{not json", T0)),
        ("unique_key", {
            let mut r = NewRun::new("t", "{}", T0);
            r.unique_key = Some(String::new());
            r
        }),
    ];
    for (field, bad) in cases {
        // In a batch with good runs: the whole batch is refused.
        let batch = vec![NewRun::new("t", "{}", T0), bad];
        let err = store.write(|tx| tx.insert_runs(&batch, T0)).unwrap_err();
        match err {
            Error::InvalidArgument { name, .. } => assert_eq!(name, field),
            other => panic!("{field}: unexpected {other:?}"),
        }
    }
    assert_eq!(
        store.read(|tx| tx.count_runs_by_status()).unwrap().total(),
        0
    );
}

#[test]
fn a_batch_is_inserted_in_one_transaction() {
    let db = TestDb::new();
    let store = db.open();
    let runs: Vec<NewRun> = (0..100).map(|i| run_at("batch", 0, i)).collect();
    let ins = store.write(|tx| tx.insert_runs(&runs, T0)).unwrap();
    assert_eq!(ins.len(), 100);
    let ids: HashSet<RunId> = ins.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 100);
    assert_eq!(
        store.read(|tx| tx.count_runs_by_status()).unwrap().pending,
        100
    );
}

#[test]
fn a_unique_key_names_one_unfinished_run() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "w");
    let mut run = NewRun::new("report", "{}", T0);
    run.unique_key = Some("daily-report".into());
    let first = store.write(|tx| tx.insert_run(&run, T0)).unwrap();
    let second = store.write(|tx| tx.insert_run(&run, T0)).unwrap();
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(second.id, first.id);
    assert_eq!(
        store.read(|tx| tx.count_runs_by_status()).unwrap().total(),
        1
    );

    // Still unique while running.
    let claimed = store
        .write(|tx| tx.claim_runs(w, 1, T0, H0, TTL, &JobTypeFilter::any()))
        .unwrap();
    assert_eq!(
        store.write(|tx| tx.insert_run(&run, T0)).unwrap().id,
        first.id
    );
    // Once finished, the key is free again.
    store
        .write(|tx| tx.finish_attempt(claimed[0].id, claimed[0].token, &completed(), None, T0))
        .unwrap();
    let third = store.write(|tx| tx.insert_run(&run, T0)).unwrap();
    assert!(third.created);
    assert_ne!(third.id, first.id);

    // The database enforces it too, whoever writes.
    let err = db
        .raw()
        .execute(
            "INSERT INTO task_runs (job_type, payload, unique_key, scheduled_at, created_at) \
             VALUES ('report', '{}', 'daily-report', 0, 0)",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}

#[test]
fn claims_take_the_highest_priority_then_the_oldest_and_only_due_runs() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "w");
    let low_old = enqueue(&store, run_at("a", 0, 0));
    let high_new = enqueue(&store, run_at("a", 9, 20));
    let high_old = enqueue(&store, run_at("a", 9, 10));
    let mid = enqueue(&store, run_at("a", 5, 0));
    let high_future = enqueue(&store, run_at("a", 9, 10_000));
    let tie_a = enqueue(&store, run_at("a", 1, 30));
    let tie_b = enqueue(&store, run_at("a", 1, 30));

    let now = at_ms(100);
    let first = store
        .write(|tx| tx.claim_runs(w, 3, now, HostInstant::now(), TTL, &JobTypeFilter::any()))
        .unwrap();
    assert_eq!(
        first.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![high_old, high_new, mid]
    );
    let rest = store
        .write(|tx| tx.claim_runs(w, 10, now, HostInstant::now(), TTL, &JobTypeFilter::any()))
        .unwrap();
    assert_eq!(
        rest.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![tie_a, tie_b, low_old],
        "the run due in the future must not be claimed"
    );
    for c in first.iter().chain(&rest) {
        assert_eq!(c.attempt, 1);
        assert_eq!(c.token, 1);
        assert_eq!(c.lease_expires_at, now + TTL);
        let lease = store.read(|tx| tx.lease_of(c.id)).unwrap().unwrap();
        assert_eq!((lease.worker_id, lease.token), (w, 1));
        assert_eq!(
            store.read(|tx| tx.run_status(c.id)).unwrap(),
            RunStatus::Running
        );
    }
    assert_eq!(
        store
            .read(|tx| tx.next_due_at(now, &JobTypeFilter::any()))
            .unwrap(),
        Some(at_ms(10_000))
    );
    let later = store
        .write(|tx| {
            tx.claim_runs(
                w,
                10,
                at_ms(10_000),
                host_ms(10_000),
                TTL,
                &JobTypeFilter::any(),
            )
        })
        .unwrap();
    assert_eq!(
        later.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![high_future]
    );
    assert!(
        store
            .write(|tx| tx.claim_runs(
                w,
                10,
                at_ms(10_000),
                host_ms(10_000),
                TTL,
                &JobTypeFilter::any()
            ))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn nothing_is_claimed_while_paused() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "w");
    enqueue(&store, run_at("a", 0, 0));
    store.write(|tx| tx.set_paused(true, T0)).unwrap();
    assert!(store.read(|tx| tx.is_paused()).unwrap());
    assert!(
        store
            .write(|tx| tx.claim_runs(w, 5, T0, H0, TTL, &JobTypeFilter::any()))
            .unwrap()
            .is_empty()
    );
    store.write(|tx| tx.set_paused(false, T0)).unwrap();
    assert_eq!(
        store
            .write(|tx| tx.claim_runs(w, 5, T0, H0, TTL, &JobTypeFilter::any()))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn two_connections_racing_to_claim_never_claim_a_run_twice() {
    let db = TestDb::new();
    let setup = db.open();
    let runs: Vec<NewRun> = (0..600).map(|i| run_at("race", (i % 3) as u8, 0)).collect();
    setup.write(|tx| tx.insert_runs(&runs, T0)).unwrap();
    let start = std::sync::Arc::new(std::sync::Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let store = db.open(); // its own writer connection
            let w = worker(&store, &format!("racer-{i}"));
            let start = start.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                start.wait();
                loop {
                    let got = store
                        .write(|tx| tx.claim_runs(w, 7, T0, H0, TTL, &JobTypeFilter::any()))
                        .unwrap();
                    if got.is_empty() {
                        break;
                    }
                    mine.extend(got.into_iter().map(|c| (c.id, w)));
                }
                mine
            })
        })
        .collect();
    let results: Vec<Vec<(RunId, WorkerId)>> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    let all: Vec<RunId> = results.iter().flatten().map(|(id, _)| *id).collect();
    let unique: HashSet<RunId> = all.iter().copied().collect();
    assert_eq!(all.len(), 600, "every run claimed exactly once");
    assert_eq!(unique.len(), 600);
    // SQLite's lock is not fair, so how the runs split is up to the OS scheduler; the
    // property under test is that no run was claimed twice.
    eprintln!(
        "claims per connection: {:?}",
        results.iter().map(Vec::len).collect::<Vec<_>>()
    );
    let leases: i64 = db
        .raw()
        .query_row("SELECT count(DISTINCT run_id) FROM task_locks", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(leases, 600);
}

#[test]
fn a_worker_whose_lease_was_lost_cannot_finish_the_run() {
    let db = TestDb::new();
    let store = db.open();
    let (a, b) = (worker(&store, "a"), worker(&store, "b"));
    let id = enqueue(&store, run_at("job", 0, 0));
    let ttl = Duration::from_secs(1);
    let first = store
        .write(|tx| tx.claim_runs(a, 1, T0, H0, ttl, &JobTypeFilter::any()))
        .unwrap()
        .remove(0);

    // Worker a stalls; its lease expires and maintenance takes the run back.
    let rescue = store
        .write(|tx| tx.rescue_expired_leases(at_ms(1_500), host_ms(1_500), 100, &no_delay()))
        .unwrap();
    assert_eq!(rescue.requeued(), 1);
    let second = store
        .write(|tx| {
            tx.claim_runs(
                b,
                1,
                at_ms(1_600),
                host_ms(1_600),
                ttl,
                &JobTypeFilter::any(),
            )
        })
        .unwrap()
        .remove(0);
    assert_eq!(second.id, id);
    assert_eq!((second.attempt, second.token), (2, 2));

    // The stalled worker wakes up and tries every kind of write: all refused.
    let outcomes = [
        completed(),
        AttemptOutcome::Fail {
            error: AttemptError::new(1, at_ms(1_700), AttemptErrorKind::Error, "late"),
        },
        AttemptOutcome::Retry {
            error: AttemptError::new(1, at_ms(1_700), AttemptErrorKind::Error, "late"),
            retry_at: at_ms(5_000),
        },
        AttemptOutcome::Cancel {
            reason: "late".into(),
        },
        AttemptOutcome::Release {
            reason: "late".into(),
        },
        AttemptOutcome::Snooze {
            until: at_ms(9_000),
        },
    ];
    for outcome in &outcomes {
        let err = store
            .write(|tx| tx.finish_attempt(id, first.token, outcome, None, at_ms(1_700)))
            .unwrap_err();
        assert!(err.is_lease_lost(), "{outcome:?}: {err:?}");
    }
    let run = store.read(|tx| tx.get_run(id)).unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.worker_id, Some(b));
    assert_eq!(run.lease_token, 2);
    assert_eq!(
        store.read(|tx| tx.lease_of(id)).unwrap().unwrap().worker_id,
        b
    );

    // The current holder finishes normally.
    let f = store
        .write(|tx| tx.finish_attempt(id, second.token, &completed(), None, at_ms(1_800)))
        .unwrap();
    assert_eq!(f.status, RunStatus::Completed);
    assert!(store.read(|tx| tx.lease_of(id)).unwrap().is_none());
}

#[test]
fn a_late_completion_before_the_rescue_is_accepted_by_token() {
    let db = TestDb::new();
    let store = db.open();
    let a = worker(&store, "a");
    let id = enqueue(&store, run_at("job", 0, 0));
    let c = store
        .write(|tx| tx.claim_runs(a, 1, T0, H0, Duration::from_secs(1), &JobTypeFilter::any()))
        .unwrap()
        .remove(0);
    // Past expiry, nobody rescued it yet: the holder's token still matches.
    store
        .write(|tx| tx.finish_attempt(id, c.token, &completed(), None, at_ms(5_000)))
        .unwrap();
    // The rescue that comes after must not touch the completed run.
    let rescue = store
        .write(|tx| tx.rescue_expired_leases(at_ms(6_000), host_ms(6_000), 10, &no_delay()))
        .unwrap();
    assert!(rescue.runs.is_empty());
    assert_eq!(
        store.read(|tx| tx.run_status(id)).unwrap(),
        RunStatus::Completed
    );
}

#[test]
fn each_outcome_of_an_attempt_is_recorded() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "w");
    let timing = AttemptTiming::new(at_ms(10), Duration::from_millis(25));

    // Retry: back to pending at the retry time, error kept.
    let id = enqueue(&store, run_at("job", 0, 0));
    let c = store
        .write(|tx| tx.claim_runs(w, 1, at_ms(5), host_ms(5), TTL, &JobTypeFilter::any()))
        .unwrap()
        .remove(0);
    let err = AttemptError::new(1, at_ms(40), AttemptErrorKind::Panic, "boom");
    let f = store
        .write(|tx| {
            tx.finish_attempt(
                id,
                c.token,
                &AttemptOutcome::Retry {
                    error: err.clone(),
                    retry_at: at_ms(2_000),
                },
                Some(timing),
                at_ms(40),
            )
        })
        .unwrap();
    assert_eq!(f.status, RunStatus::Pending);
    let run = store.read(|tx| tx.get_run(id)).unwrap();
    assert_eq!(run.scheduled_at, at_ms(2_000));
    assert_eq!(run.errors, vec![err.clone()]);
    assert_eq!(run.last_error.as_deref(), Some("boom"));
    assert_eq!(run.started_at, Some(at_ms(10)));
    assert_eq!(run.duration, Some(Duration::from_millis(25)));
    assert!(store.read(|tx| tx.lease_of(id)).unwrap().is_none());

    // Release: pending again, the attempt given back, the release in the history.
    let c = store
        .write(|tx| {
            tx.claim_runs(
                w,
                1,
                at_ms(2_000),
                host_ms(2_000),
                TTL,
                &JobTypeFilter::any(),
            )
        })
        .unwrap()
        .remove(0);
    assert_eq!(c.attempt, 2);
    store
        .write(|tx| {
            tx.finish_attempt(
                id,
                c.token,
                &AttemptOutcome::Release {
                    reason: "shutdown".into(),
                },
                None,
                at_ms(2_100),
            )
        })
        .unwrap();
    let run = store.read(|tx| tx.get_run(id)).unwrap();
    assert_eq!((run.status, run.attempt), (RunStatus::Pending, 1));
    assert_eq!(run.errors.last().unwrap().kind, AttemptErrorKind::Released);
    assert_eq!(run.errors.last().unwrap().attempt, 2);

    // Fail: failed for good with the error appended.
    let c = store
        .write(|tx| {
            tx.claim_runs(
                w,
                1,
                at_ms(2_200),
                host_ms(2_200),
                TTL,
                &JobTypeFilter::any(),
            )
        })
        .unwrap()
        .remove(0);
    let last = AttemptError::new(
        2,
        at_ms(2_300),
        AttemptErrorKind::Timeout,
        "timed out after 1s",
    );
    store
        .write(|tx| {
            tx.finish_attempt(
                id,
                c.token,
                &AttemptOutcome::Fail {
                    error: last.clone(),
                },
                None,
                at_ms(2_300),
            )
        })
        .unwrap();
    let run = store.read(|tx| tx.get_run(id)).unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.finished_at, Some(at_ms(2_300)));
    assert_eq!(run.errors.len(), 3);
    assert_eq!(run.errors[2], last);

    // Cancel by the job itself.
    let id2 = enqueue(&store, run_at("job", 0, 0));
    let c = store
        .write(|tx| {
            tx.claim_runs(
                w,
                1,
                at_ms(3_000),
                host_ms(3_000),
                TTL,
                &JobTypeFilter::any(),
            )
        })
        .unwrap()
        .remove(0);
    store
        .write(|tx| {
            tx.finish_attempt(
                id2,
                c.token,
                &AttemptOutcome::Cancel {
                    reason: "not needed".into(),
                },
                None,
                at_ms(3_100),
            )
        })
        .unwrap();
    let run = store.read(|tx| tx.get_run(id2)).unwrap();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(run.cancel_reason.as_deref(), Some("not needed"));

    // Complete with a result.
    let id3 = enqueue(&store, run_at("job", 0, 0));
    let c = store
        .write(|tx| {
            tx.claim_runs(
                w,
                1,
                at_ms(4_000),
                host_ms(4_000),
                TTL,
                &JobTypeFilter::any(),
            )
        })
        .unwrap()
        .remove(0);
    store
        .write(|tx| {
            tx.finish_attempt(
                id3,
                c.token,
                &AttemptOutcome::Completed {
                    result: r#"{"sent":3}"#.into(),
                },
                Some(timing),
                at_ms(4_100),
            )
        })
        .unwrap();
    let run = store.read(|tx| tx.get_run(id3)).unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.result_json().unwrap().unwrap()["sent"], 3);
}

#[test]
fn cancel_and_retry_by_hand() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "w");

    let pending = enqueue(&store, run_at("job", 0, 0));
    assert_eq!(
        store
            .write(|tx| tx.cancel_run(pending, "user", T0))
            .unwrap(),
        CancelOutcome::Cancelled
    );
    let run = store.read(|tx| tx.get_run(pending)).unwrap();
    assert_eq!(
        (run.status, run.cancel_reason.as_deref()),
        (RunStatus::Cancelled, Some("user"))
    );
    assert!(matches!(
        store.write(|tx| tx.cancel_run(pending, "again", T0)),
        Err(Error::InvalidRunState {
            operation: "cancel",
            status: RunStatus::Cancelled,
            ..
        })
    ));
    assert!(matches!(
        store.write(|tx| tx.cancel_run(RunId::new(12345), "x", T0)),
        Err(Error::RunNotFound(_))
    ));

    // A running run is asked to stop; its holder sees the flag; a retry outcome then
    // cancels instead of retrying.
    let running = enqueue(&store, run_at("job", 0, 0));
    let c = store
        .write(|tx| tx.claim_runs(w, 1, T0, H0, TTL, &JobTypeFilter::any()))
        .unwrap()
        .remove(0);
    assert_eq!(
        store
            .write(|tx| tx.cancel_run(running, "user", T0))
            .unwrap(),
        CancelOutcome::Requested
    );
    assert_eq!(
        store.read(|tx| tx.cancel_requested_for_worker(w)).unwrap(),
        vec![running]
    );
    let f = store
        .write(|tx| {
            tx.finish_attempt(
                running,
                c.token,
                &AttemptOutcome::Retry {
                    error: AttemptError::new(1, T0, AttemptErrorKind::Error, "interrupted"),
                    retry_at: at_ms(100),
                },
                None,
                at_ms(50),
            )
        })
        .unwrap();
    assert_eq!(f.status, RunStatus::Cancelled);

    // Retry by hand: only failed or cancelled runs, with one more attempt.
    store.write(|tx| tx.retry_run(running, at_ms(200))).unwrap();
    let run = store.read(|tx| tx.get_run(running)).unwrap();
    assert_eq!(run.status, RunStatus::Pending);
    assert_eq!(run.scheduled_at, at_ms(200));
    assert!(run.max_attempts > run.attempt);
    assert!(!run.cancel_requested);
    assert_eq!(run.errors.len(), 1, "history kept");
    assert!(matches!(
        store.write(|tx| tx.retry_run(running, at_ms(300))),
        Err(Error::InvalidRunState {
            operation: "retry",
            status: RunStatus::Pending,
            ..
        })
    ));
}

#[test]
fn a_retried_run_with_a_taken_unique_key_is_refused() {
    let db = TestDb::new();
    let store = db.open();
    let mut run = NewRun::new("job", "{}", T0);
    run.unique_key = Some("k".into());
    let first = store.write(|tx| tx.insert_run(&run, T0)).unwrap().id;
    store.write(|tx| tx.cancel_run(first, "user", T0)).unwrap();
    let second = store.write(|tx| tx.insert_run(&run, T0)).unwrap().id;
    let err = store.write(|tx| tx.retry_run(first, T0)).unwrap_err();
    assert!(matches!(err, Error::UniqueKeyTaken { holder, .. } if holder == second));
    assert_eq!(
        store.read(|tx| tx.run_status(first)).unwrap(),
        RunStatus::Cancelled
    );
}

#[test]
fn heartbeats_renew_the_named_attempts_and_omit_lost_ones() {
    let db = TestDb::new();
    let store = db.open();
    let (a, b) = (worker(&store, "a"), worker(&store, "b"));
    enqueue(&store, run_at("job", 0, 0));
    enqueue(&store, run_at("job", 0, 1));
    let ttl = Duration::from_secs(1);
    let mine = store
        .write(|tx| tx.claim_runs(a, 2, at_ms(1), host_ms(1), ttl, &JobTypeFilter::any()))
        .unwrap();
    assert_eq!(mine.len(), 2);
    let both: Vec<(RunId, i64)> = mine.iter().map(|c| (c.id, c.token)).collect();
    let held = store
        .write(|tx| tx.renew_leases(a, &both, at_ms(900), host_ms(900), ttl))
        .unwrap();
    assert_eq!(held, both);
    let expiry = |id| {
        store
            .read(|tx| tx.lease_of(id))
            .unwrap()
            .unwrap()
            .expires_at
    };
    assert_eq!(expiry(mine[0].id), at_ms(1_900));
    // A lease the worker does not name is not renewed: it runs out instead of being
    // kept alive by a heartbeat that no longer knows what it holds.
    store
        .write(|tx| tx.renew_leases(a, &both[1..], at_ms(1_000), host_ms(1_000), ttl))
        .unwrap();
    assert_eq!(expiry(mine[0].id), at_ms(1_900));
    assert_eq!(expiry(mine[1].id), at_ms(2_000));
    // A wrong token renews nothing.
    let stale = [(mine[1].id, mine[1].token + 7)];
    assert!(
        store
            .write(|tx| tx.renew_leases(a, &stale, at_ms(1_000), host_ms(1_000), ttl))
            .unwrap()
            .is_empty()
    );
    // The first lease is lost: it expires, is rescued and taken by b.
    let rescued = store
        .write(|tx| tx.rescue_expired_leases(at_ms(1_950), host_ms(1_950), 10, &no_delay()))
        .unwrap();
    assert_eq!(rescued.requeued(), 1);
    store
        .write(|tx| {
            tx.claim_runs(
                b,
                1,
                at_ms(1_960),
                host_ms(1_960),
                ttl,
                &JobTypeFilter::any(),
            )
        })
        .unwrap();
    let held = store
        .write(|tx| tx.renew_leases(a, &both, at_ms(1_970), host_ms(1_970), ttl))
        .unwrap();
    assert_eq!(held, both[1..], "only the lease still held is reported");
    assert!(store.read(|tx| tx.leases_of_worker(b)).unwrap().len() == 1);
}

#[test]
fn list_and_count_runs() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "w");
    for i in 0..5 {
        enqueue(&store, run_at("alpha", 0, i));
    }
    for i in 0..3 {
        enqueue(&store, run_at("beta", 0, i));
    }
    let c = store
        .write(|tx| tx.claim_runs(w, 2, at_ms(10), host_ms(10), TTL, &JobTypeFilter::any()))
        .unwrap();
    store
        .write(|tx| tx.finish_attempt(c[0].id, c[0].token, &completed(), None, at_ms(20)))
        .unwrap();
    let counts = store.read(|tx| tx.count_runs_by_status()).unwrap();
    assert_eq!(
        (counts.pending, counts.running, counts.completed),
        (6, 1, 1)
    );
    assert_eq!(counts.total(), 8);

    let betas = store
        .read(|tx| tx.list_runs(&RunFilter::new().job_type("beta")))
        .unwrap();
    assert_eq!(betas.len(), 3);
    assert!(betas.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let done = store
        .read(|tx| tx.list_runs(&RunFilter::new().status(RunStatus::Completed)))
        .unwrap();
    assert_eq!(done.iter().map(|r| r.id).collect::<Vec<_>>(), vec![c[0].id]);
    let two = store
        .read(|tx| tx.list_runs(&RunFilter::new().limit(2)))
        .unwrap();
    assert_eq!(two.len(), 2);
}
