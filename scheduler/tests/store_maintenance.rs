//! Workers, tokens and system state, and every statement of `sql/maintenance/` on real
//! rows: lease rescue (including the race with a completion), token purge, archiving and
//! deletion in bounded batches, stale workers.

mod common;

use std::time::Duration;

use common::{H0, T0, TestDb, at_ms, host_at, host_ms, no_delay};
use runloom::{
    Error,
    store::{
        ArchiveMode, AttemptErrorKind, AttemptOutcome, DependencyLimits, JobTypeFilter,
        NewDependency, NewRun, NewWorker, RunStatus, Store, WorkerId, WorkerStatus,
    },
};

fn worker(store: &Store, name: &str, at: time::OffsetDateTime) -> WorkerId {
    store
        .write(|tx| tx.register_worker(&NewWorker::new(name, "host-1", 2), at, host_at(at)))
        .unwrap()
}

fn enqueue_n(store: &Store, n: usize, max_attempts: u32) {
    let runs: Vec<NewRun> = (0..n)
        .map(|_| {
            let mut r = NewRun::new("job", "{}", T0);
            r.max_attempts = max_attempts;
            r
        })
        .collect();
    store.write(|tx| tx.insert_runs(&runs, T0)).unwrap();
}

#[test]
fn workers_register_heartbeat_and_go_offline() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "alpha", T0);
    let row = store.read(|tx| tx.get_worker(w)).unwrap();
    assert_eq!(row.status, WorkerStatus::Active);
    assert_eq!((row.pid, row.threads), (std::process::id(), 2));
    assert!(
        store
            .write(|tx| tx.heartbeat_worker(w, at_ms(1_000), host_ms(1_000)))
            .unwrap()
    );
    assert_eq!(
        store.read(|tx| tx.get_worker(w)).unwrap().last_heartbeat,
        at_ms(1_000)
    );
    // A clock that went backwards does not move the heartbeat back.
    assert!(
        store
            .write(|tx| tx.heartbeat_worker(w, at_ms(500), host_ms(500)))
            .unwrap()
    );
    assert_eq!(
        store.read(|tx| tx.get_worker(w)).unwrap().last_heartbeat,
        at_ms(1_000)
    );
    store
        .write(|tx| tx.set_worker_stopping(w, at_ms(2_000)))
        .unwrap();
    assert_eq!(
        store.read(|tx| tx.get_worker(w)).unwrap().status,
        WorkerStatus::Stopping
    );
    store
        .write(|tx| tx.mark_worker_offline(w, at_ms(3_000)))
        .unwrap();
    let row = store.read(|tx| tx.get_worker(w)).unwrap();
    assert_eq!(
        (row.status, row.stopped_at),
        (WorkerStatus::Offline, Some(at_ms(3_000)))
    );
    assert!(
        !store
            .write(|tx| tx.heartbeat_worker(w, at_ms(4_000), host_ms(4_000)))
            .unwrap()
    );
    assert!(store.read(|tx| tx.list_workers(false)).unwrap().is_empty());
    assert_eq!(store.read(|tx| tx.list_workers(true)).unwrap().len(), 1);
    assert!(
        store
            .write(|tx| tx.reactivate_worker(w, at_ms(5_000), host_ms(5_000)))
            .unwrap()
    );
    assert_eq!(
        store.read(|tx| tx.get_worker(w)).unwrap().status,
        WorkerStatus::Active
    );
    assert!(matches!(
        store.write(|tx| tx.register_worker(&NewWorker::new("", "h", 1), T0, H0)),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn token_blacklist_answers_at_and_after_expiry_until_purged() {
    let db = TestDb::new();
    let store = db.open();
    store
        .write(|tx| tx.revoke_token("jti-1", at_ms(10_000), Some("logout"), T0))
        .unwrap();
    store
        .write(|tx| tx.revoke_token("jti-2", at_ms(50_000), None, T0))
        .unwrap();
    // Revoking again keeps the later expiry.
    store
        .write(|tx| tx.revoke_token("jti-1", at_ms(5_000), None, T0))
        .unwrap();
    assert!(store.read(|tx| tx.is_token_revoked("jti-1")).unwrap());
    assert!(!store.read(|tx| tx.is_token_revoked("jti-unknown")).unwrap());
    assert!(matches!(
        store.read(|tx| tx.is_token_revoked("")),
        Err(Error::InvalidArgument {
            name: "token_id",
            ..
        })
    ));

    // At expiry nothing is purged (purge takes strictly older than now minus leeway).
    let leeway = time::Duration::seconds(2);
    let purged = store
        .write(|tx| tx.purge_expired_tokens(at_ms(10_000) - leeway, 100))
        .unwrap();
    assert_eq!(purged, 0);
    assert!(store.read(|tx| tx.is_token_revoked("jti-1")).unwrap());
    // Past expiry plus leeway it is purged; the other stays.
    let purged = store
        .write(|tx| tx.purge_expired_tokens(at_ms(12_001) - leeway, 100))
        .unwrap();
    assert_eq!(purged, 1);
    assert!(!store.read(|tx| tx.is_token_revoked("jti-1")).unwrap());
    assert!(store.read(|tx| tx.is_token_revoked("jti-2")).unwrap());
}

#[test]
fn purge_works_in_bounded_batches() {
    let db = TestDb::new();
    let store = db.open();
    store
        .write(|tx| {
            for i in 0..25 {
                tx.revoke_token(&format!("t{i}"), at_ms(i), None, T0)?;
            }
            Ok(())
        })
        .unwrap();
    let mut batches = Vec::new();
    loop {
        let n = store
            .write(|tx| tx.purge_expired_tokens(at_ms(1_000), 10))
            .unwrap();
        batches.push(n);
        if n < 10 {
            break;
        }
    }
    assert_eq!(batches, vec![10, 10, 5]);
}

#[test]
fn system_state_get_set_and_pause() {
    let db = TestDb::new();
    let store = db.open();
    assert_eq!(
        store.read(|tx| tx.get_state("paused")).unwrap().as_deref(),
        Some("0")
    );
    assert_eq!(store.read(|tx| tx.get_state("nope")).unwrap(), None);
    store.write(|tx| tx.set_state("custom", "42", T0)).unwrap();
    store
        .write(|tx| tx.set_state("custom", "43", at_ms(1)))
        .unwrap();
    assert_eq!(
        store.read(|tx| tx.get_state("custom")).unwrap().as_deref(),
        Some("43")
    );
    store.write(|tx| tx.set_paused(true, T0)).unwrap();
    assert!(store.read(|tx| tx.is_paused()).unwrap());
}

#[test]
fn rescue_requeues_with_the_attempt_counted_or_fails_when_exhausted() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "dead", T0);
    enqueue_n(&store, 3, 3); // attempts left
    enqueue_n(&store, 2, 1); // last attempt
    let claimed = store
        .write(|tx| {
            tx.claim_runs(
                w,
                10,
                T0,
                H0,
                Duration::from_secs(10),
                &JobTypeFilter::any(),
            )
        })
        .unwrap();
    assert_eq!(claimed.len(), 5);

    // Not expired yet: nothing to do.
    let r = store
        .write(|tx| tx.rescue_expired_leases(at_ms(9_999), host_ms(9_999), 100, &no_delay()))
        .unwrap();
    assert!(r.runs.is_empty());

    let r = store
        .write(|tx| tx.rescue_expired_leases(at_ms(10_000), host_ms(10_000), 100, &no_delay()))
        .unwrap();
    assert_eq!((r.requeued(), r.failed(), r.leases_dropped), (3, 2, 5));
    for c in &claimed {
        let run = store.read(|tx| tx.get_run(c.id)).unwrap();
        let expected = if run.max_attempts == 1 {
            RunStatus::Failed
        } else {
            RunStatus::Pending
        };
        assert_eq!(run.status, expected);
        assert_eq!(run.attempt, 1, "the crashed attempt counts");
        assert_eq!(run.errors.len(), 1);
        assert_eq!(run.errors[0].kind, AttemptErrorKind::LeaseExpired);
        assert_eq!(run.errors[0].at, at_ms(10_000));
        assert!(store.read(|tx| tx.lease_of(c.id)).unwrap().is_none());
    }
}

#[test]
fn rescue_works_in_bounded_batches() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "dead", T0);
    enqueue_n(&store, 25, 3);
    store
        .write(|tx| tx.claim_runs(w, 25, T0, H0, Duration::from_secs(1), &JobTypeFilter::any()))
        .unwrap();
    let mut sizes = Vec::new();
    loop {
        let r = store
            .write(|tx| tx.rescue_expired_leases(at_ms(5_000), host_ms(5_000), 10, &no_delay()))
            .unwrap();
        sizes.push(r.runs.len());
        if r.runs.len() < 10 {
            break;
        }
    }
    assert_eq!(sizes, vec![10, 10, 5]);
    assert_eq!(
        store.read(|tx| tx.count_runs_by_status()).unwrap().pending,
        25
    );
}

#[test]
fn rescue_never_overwrites_a_run_that_completed_just_as_its_lease_expired() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "w", T0);
    enqueue_n(&store, 2, 3);
    let c = store
        .write(|tx| tx.claim_runs(w, 2, T0, H0, Duration::from_secs(1), &JobTypeFilter::any()))
        .unwrap();
    // Both leases expired. The holder of the first completes before the rescue runs;
    // the rescue then runs in the next transaction.
    store
        .write(|tx| {
            tx.finish_attempt(
                c[0].id,
                c[0].token,
                &AttemptOutcome::Completed { result: "1".into() },
                None,
                at_ms(1_500),
            )
        })
        .unwrap();
    let r = store
        .write(|tx| tx.rescue_expired_leases(at_ms(1_500), host_ms(1_500), 100, &no_delay()))
        .unwrap();
    assert_eq!(r.runs.len(), 1);
    assert_eq!(r.runs[0].run, c[1].id);
    assert_eq!(
        store.read(|tx| tx.run_status(c[0].id)).unwrap(),
        RunStatus::Completed
    );
    assert_eq!(
        store
            .read(|tx| tx.get_run(c[0].id))
            .unwrap()
            .result
            .as_deref(),
        Some("1")
    );

    // And the other order: once rescued, the late completion is refused.
    let late = store
        .write(|tx| {
            tx.finish_attempt(
                c[1].id,
                c[1].token,
                &AttemptOutcome::Completed { result: "2".into() },
                None,
                at_ms(1_600),
            )
        })
        .unwrap_err();
    assert!(late.is_lease_lost());
    assert_eq!(
        store.read(|tx| tx.run_status(c[1].id)).unwrap(),
        RunStatus::Pending
    );
}

#[test]
fn a_rescued_run_that_fails_for_good_cancels_its_dependents() {
    let db = TestDb::new();
    let store = db.open();
    let w = worker(&store, "w", T0);
    enqueue_n(&store, 2, 1);
    let ids: Vec<_> = store
        .read(|tx| tx.list_runs(&Default::default()))
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let (down, up) = (ids[0], ids[1]);
    store
        .write(|tx| {
            tx.add_dependencies(
                &[NewDependency::new(down, up)],
                &DependencyLimits::default(),
                T0,
            )
        })
        .unwrap();
    store
        .write(|tx| tx.claim_runs(w, 1, T0, H0, Duration::from_secs(1), &JobTypeFilter::any()))
        .unwrap();
    let r = store
        .write(|tx| tx.rescue_expired_leases(at_ms(2_000), host_ms(2_000), 10, &no_delay()))
        .unwrap();
    assert_eq!(r.failed(), 1);
    let d = store.read(|tx| tx.get_run(down)).unwrap();
    assert_eq!(
        (d.status, d.cancel_reason.as_deref()),
        (RunStatus::Cancelled, Some("upstream_failed"))
    );
}

fn finished_runs(store: &Store, n: usize, status: RunStatus, finished_ms: i64) {
    let w = worker(store, "w", T0);
    enqueue_n(store, n, 1);
    let c = store
        .write(|tx| tx.claim_runs(w, n, T0, H0, Duration::from_secs(60), &JobTypeFilter::any()))
        .unwrap();
    for run in c {
        let outcome = match status {
            RunStatus::Completed => AttemptOutcome::Completed {
                result: "null".into(),
            },
            RunStatus::Cancelled => AttemptOutcome::Cancel { reason: "x".into() },
            _ => AttemptOutcome::Fail {
                error: runloom::store::AttemptError::new(1, T0, AttemptErrorKind::Error, "e"),
            },
        };
        store
            .write(|tx| tx.finish_attempt(run.id, run.token, &outcome, None, at_ms(finished_ms)))
            .unwrap();
    }
}

#[test]
fn archiving_moves_old_finished_runs_of_one_status_in_batches() {
    let db = TestDb::new();
    let store = db.open();
    finished_runs(&store, 12, RunStatus::Completed, 1_000);
    finished_runs(&store, 3, RunStatus::Completed, 50_000); // too recent
    finished_runs(&store, 4, RunStatus::Failed, 1_000); // other status
    let mut sizes = Vec::new();
    loop {
        let n = store
            .write(|tx| {
                tx.remove_finished_runs(
                    RunStatus::Completed,
                    at_ms(10_000),
                    5,
                    ArchiveMode::Archive,
                    at_ms(60_000),
                )
            })
            .unwrap();
        sizes.push(n);
        if n < 5 {
            break;
        }
    }
    assert_eq!(sizes, vec![5, 5, 2]);
    let counts = store.read(|tx| tx.count_runs_by_status()).unwrap();
    assert_eq!((counts.completed, counts.failed), (3, 4));
    let conn = db.raw();
    let (archived, at): (i64, i64) = conn
        .query_row(
            "SELECT count(*), max(archived_at) FROM task_runs_archive",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(archived, 12);
    assert_eq!(at, common::at_ms(60_000).unix_timestamp() * 1000);
    // The archive holds the same rows: same ids, same status.
    let statuses: Vec<String> = conn
        .prepare("SELECT DISTINCT status FROM task_runs_archive")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(statuses, vec!["completed"]);
}

#[test]
fn delete_mode_drops_old_runs_without_archiving() {
    let db = TestDb::new();
    let store = db.open();
    finished_runs(&store, 4, RunStatus::Failed, 1_000);
    let n = store
        .write(|tx| {
            tx.remove_finished_runs(
                RunStatus::Failed,
                at_ms(2_000),
                100,
                ArchiveMode::Delete,
                at_ms(3_000),
            )
        })
        .unwrap();
    // The newest run is kept so its id is never handed out again.
    assert_eq!(n, 3);
    let left: Vec<i64> = db
        .raw()
        .prepare("SELECT id FROM task_runs")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let newest: i64 = db
        .raw()
        .query_row("SELECT max(id) FROM task_runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, vec![newest]);
    let archived: i64 = db
        .raw()
        .query_row("SELECT count(*) FROM task_runs_archive", [], |r| r.get(0))
        .unwrap();
    assert_eq!(archived, 0);
    assert!(matches!(
        store.write(|tx| tx.remove_finished_runs(
            RunStatus::Pending,
            at_ms(1),
            10,
            ArchiveMode::Delete,
            at_ms(1)
        )),
        Err(Error::InvalidArgument { name: "status", .. })
    ));
    assert!(matches!(
        store.write(|tx| tx.remove_finished_runs(
            RunStatus::Failed,
            at_ms(1),
            0,
            ArchiveMode::Delete,
            at_ms(1)
        )),
        Err(Error::InvalidArgument { name: "batch", .. })
    ));
}

#[test]
fn stale_workers_go_offline_and_their_runs_are_rescued() {
    let db = TestDb::new();
    let store = db.open();
    let dead = worker(&store, "dead", T0);
    let alive = worker(&store, "alive", T0);
    enqueue_n(&store, 4, 3);
    store
        .write(|tx| {
            tx.claim_runs(
                dead,
                2,
                T0,
                H0,
                Duration::from_secs(600),
                &JobTypeFilter::any(),
            )
        })
        .unwrap();
    store
        .write(|tx| {
            tx.claim_runs(
                alive,
                2,
                T0,
                H0,
                Duration::from_secs(600),
                &JobTypeFilter::any(),
            )
        })
        .unwrap();
    store
        .write(|tx| tx.heartbeat_worker(alive, at_ms(55_000), host_ms(55_000)))
        .unwrap();

    let stale = store
        .write(|tx| tx.mark_stale_workers_offline(at_ms(60_000), host_ms(60_000), 100))
        .unwrap();
    assert_eq!(stale, vec![dead]);
    assert_eq!(
        store.read(|tx| tx.get_worker(dead)).unwrap().status,
        WorkerStatus::Offline
    );
    assert_eq!(
        store.read(|tx| tx.get_worker(alive)).unwrap().status,
        WorkerStatus::Active
    );
    // Its leases were expired at once (not after their 10 minutes): the same pass's
    // rescue takes its runs back, and only its runs.
    let r = store
        .write(|tx| tx.rescue_expired_leases(at_ms(60_000), host_ms(60_000), 100, &no_delay()))
        .unwrap();
    assert_eq!(r.requeued(), 2);
    assert_eq!(
        store.read(|tx| tx.leases_of_worker(alive)).unwrap().len(),
        2
    );
    assert!(
        store
            .read(|tx| tx.leases_of_worker(dead))
            .unwrap()
            .is_empty()
    );
}
