//! Dependency edges in the storage layer: refusals (self, cycle, unknown, started,
//! limits) with nothing written, read-back, unblocking and the upstream_failed cascade.

mod common;

use std::time::Duration;

use common::{H0, T0, TestDb, at_ms, host_ms};
use runloom::{
    Error,
    store::{
        AttemptError, AttemptErrorKind, AttemptOutcome, DependencyLimits, JobTypeFilter,
        NewDependency, NewRun, NewWorker, OnUpstreamFailure, RunId, RunStatus, Store,
        UPSTREAM_FAILED, WorkerId,
    },
};

fn runs(store: &Store, n: usize) -> Vec<RunId> {
    let batch: Vec<NewRun> = (0..n).map(|_| NewRun::new("step", "{}", T0)).collect();
    store
        .write(|tx| tx.insert_runs(&batch, T0))
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect()
}

fn dep(down: RunId, up: RunId) -> NewDependency {
    NewDependency::new(down, up)
}

fn add(store: &Store, edges: &[NewDependency]) -> Result<usize, Error> {
    store.write(|tx| tx.add_dependencies(edges, &DependencyLimits::default(), T0))
}

fn status(store: &Store, id: RunId) -> RunStatus {
    store.read(|tx| tx.run_status(id)).unwrap()
}

/// Claims `id` (it must be the only due run) and finishes it with `outcome`.
fn finish(store: &Store, w: WorkerId, id: RunId, outcome: AttemptOutcome) -> RunStatus {
    let c = store
        .write(|tx| {
            tx.claim_runs(
                w,
                1,
                at_ms(1),
                host_ms(1),
                Duration::from_secs(30),
                &JobTypeFilter::any(),
            )
        })
        .unwrap();
    assert_eq!(c.len(), 1, "expected exactly {id} to be claimable");
    assert_eq!(c[0].id, id);
    store
        .write(|tx| tx.finish_attempt(id, c[0].token, &outcome, None, at_ms(2)))
        .unwrap()
        .status
}

fn fail() -> AttemptOutcome {
    AttemptOutcome::Fail {
        error: AttemptError::new(1, at_ms(2), AttemptErrorKind::Error, "broken"),
    }
}

fn complete() -> AttemptOutcome {
    AttemptOutcome::Completed {
        result: "null".into(),
    }
}

#[test]
fn refusals_write_nothing() {
    let db = TestDb::new();
    let store = db.open();
    let r = runs(&store, 3);
    // A chain r0 <- r1 <- r2 (r1 waits for r0, r2 waits for r1).
    add(&store, &[dep(r[1], r[0]), dep(r[2], r[1])]).unwrap();
    let before = store.read(|tx| tx.dependency_graph(r[0])).unwrap();

    assert!(
        matches!(add(&store, &[dep(r[0], r[0])]), Err(Error::SelfDependency(id)) if id == r[0])
    );
    // r0 waiting for r2 would close r0 <- r1 <- r2 <- r0.
    assert!(matches!(
        add(&store, &[dep(r[0], r[2])]),
        Err(Error::DependencyCycle { downstream, upstream }) if downstream == r[0] && upstream == r[2]
    ));
    // A cycle inside one call, after a valid edge in the same call: the valid edge is
    // not kept either.
    let fresh = runs(&store, 2);
    assert!(matches!(
        add(&store, &[dep(fresh[0], fresh[1]), dep(fresh[1], fresh[0])]),
        Err(Error::DependencyCycle { .. })
    ));
    assert!(matches!(
        add(&store, &[dep(r[0], RunId::new(9999))]),
        Err(Error::UnknownDependency(id)) if id == RunId::new(9999)
    ));
    assert!(matches!(
        add(&store, &[dep(RunId::new(9998), r[0])]),
        Err(Error::UnknownDependency(_))
    ));
    let limits = DependencyLimits::default().max_fan_in(1);
    let err = store
        .write(|tx| tx.add_dependencies(&[dep(fresh[0], r[0]), dep(fresh[0], r[1])], &limits, T0))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::DependencyLimit {
            limit: "fan-in",
            max: 1,
            actual: 2
        }
    ));
    let limits = DependencyLimits::default().max_graph_size(1);
    let err = store
        .write(|tx| tx.add_dependencies(&[dep(fresh[0], r[0]), dep(fresh[1], r[0])], &limits, T0))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::DependencyLimit {
            limit: "graph size",
            ..
        }
    ));

    assert_eq!(store.read(|tx| tx.dependency_graph(r[0])).unwrap(), before);
    assert!(
        store
            .read(|tx| tx.upstream_of(fresh[0]))
            .unwrap()
            .is_empty()
    );
    assert_eq!(status(&store, fresh[0]), RunStatus::Pending);
    assert_eq!(status(&store, fresh[1]), RunStatus::Pending);
}

#[test]
fn a_run_that_started_cannot_be_made_to_wait() {
    let db = TestDb::new();
    let store = db.open();
    let w = store
        .write(|tx| tx.register_worker(&NewWorker::new("w", "h", 1), T0, H0))
        .unwrap();
    let r = runs(&store, 2);
    store
        .write(|tx| tx.claim_runs(w, 1, T0, H0, Duration::from_secs(30), &JobTypeFilter::any()))
        .unwrap();
    let err = add(&store, &[dep(r[0], r[1])]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DependencyNotAllowed {
                status: RunStatus::Running,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_graph_reads_back_in_both_directions() {
    let db = TestDb::new();
    let store = db.open();
    let r = runs(&store, 4);
    // Diamond: r1 and r2 wait for r0; r3 waits for r1 and r2.
    add(
        &store,
        &[
            dep(r[1], r[0]),
            dep(r[2], r[0]).on_failure(OnUpstreamFailure::Run),
            dep(r[3], r[1]),
            dep(r[3], r[2]),
        ],
    )
    .unwrap();
    let up = store.read(|tx| tx.upstream_of(r[3])).unwrap();
    assert_eq!(
        up.iter().map(|e| e.upstream).collect::<Vec<_>>(),
        vec![r[1], r[2]]
    );
    let down = store.read(|tx| tx.downstream_of(r[0])).unwrap();
    assert_eq!(
        down.iter().map(|e| e.downstream).collect::<Vec<_>>(),
        vec![r[1], r[2]]
    );
    assert_eq!(down[1].on_failure, OnUpstreamFailure::Run);
    assert!(
        down.iter()
            .all(|e| !e.resolved && e.upstream_status == RunStatus::Pending)
    );
    // The graph of a run is its lineage: the root sees all four edges, r1 sees only the
    // edge into it and the edge out of it (its sibling r2 is not its ancestor or
    // descendant).
    assert_eq!(store.read(|tx| tx.dependency_graph(r[0])).unwrap().len(), 4);
    let lineage: Vec<(RunId, RunId)> = store
        .read(|tx| tx.dependency_graph(r[1]))
        .unwrap()
        .iter()
        .map(|e| (e.downstream, e.upstream))
        .collect();
    assert_eq!(lineage, vec![(r[1], r[0]), (r[3], r[1])]);
    let run3 = store.read(|tx| tx.get_run(r[3])).unwrap();
    assert_eq!((run3.status, run3.blocked_on), (RunStatus::Blocked, 2));
    // Adding an existing edge again changes nothing.
    assert_eq!(add(&store, &[dep(r[3], r[1])]).unwrap(), 0);
    assert_eq!(store.read(|tx| tx.get_run(r[3])).unwrap().blocked_on, 2);
}

#[test]
fn completion_unblocks_dependents_only_when_all_upstreams_completed() {
    let db = TestDb::new();
    let store = db.open();
    let w = store
        .write(|tx| tx.register_worker(&NewWorker::new("w", "h", 1), T0, H0))
        .unwrap();
    let r = runs(&store, 4);
    add(
        &store,
        &[
            dep(r[1], r[0]),
            dep(r[2], r[0]),
            dep(r[3], r[1]),
            dep(r[3], r[2]),
        ],
    )
    .unwrap();
    assert_eq!(finish(&store, w, r[0], complete()), RunStatus::Completed);
    assert_eq!(status(&store, r[1]), RunStatus::Pending);
    assert_eq!(status(&store, r[2]), RunStatus::Pending);
    assert_eq!(status(&store, r[3]), RunStatus::Blocked);
    let c = store
        .write(|tx| {
            tx.claim_runs(
                w,
                10,
                at_ms(1),
                host_ms(1),
                Duration::from_secs(30),
                &JobTypeFilter::any(),
            )
        })
        .unwrap();
    assert_eq!(c.iter().map(|c| c.id).collect::<Vec<_>>(), vec![r[1], r[2]]);
    store
        .write(|tx| tx.finish_attempt(r[1], c[0].token, &complete(), None, at_ms(3)))
        .unwrap();
    assert_eq!(store.read(|tx| tx.get_run(r[3])).unwrap().blocked_on, 1);
    let f = store
        .write(|tx| tx.finish_attempt(r[2], c[1].token, &complete(), None, at_ms(3)))
        .unwrap();
    assert_eq!(f.unblocked, 1);
    assert_eq!(status(&store, r[3]), RunStatus::Pending);
    assert!(
        store
            .read(|tx| tx.upstream_of(r[3]))
            .unwrap()
            .iter()
            .all(|e| e.resolved)
    );
}

#[test]
fn a_failure_cancels_dependents_transitively_unless_the_edge_says_run() {
    let db = TestDb::new();
    let store = db.open();
    let w = store
        .write(|tx| tx.register_worker(&NewWorker::new("w", "h", 1), T0, H0))
        .unwrap();
    let r = runs(&store, 5);
    // r1 waits for r0 (cancel), r2 waits for r1 (cancel), r3 waits for r0 (run anyway),
    // r4 waits for r3 (cancel).
    add(
        &store,
        &[
            dep(r[1], r[0]),
            dep(r[2], r[1]),
            dep(r[3], r[0]).on_failure(OnUpstreamFailure::Run),
            dep(r[4], r[3]),
        ],
    )
    .unwrap();
    assert_eq!(finish(&store, w, r[0], fail()), RunStatus::Failed);
    for id in [r[1], r[2]] {
        let run = store.read(|tx| tx.get_run(id)).unwrap();
        assert_eq!(run.status, RunStatus::Cancelled);
        assert_eq!(run.cancel_reason.as_deref(), Some(UPSTREAM_FAILED));
        assert!(run.finished_at.is_some());
    }
    assert_eq!(status(&store, r[3]), RunStatus::Pending, "on_failure = run");
    assert_eq!(
        status(&store, r[4]),
        RunStatus::Blocked,
        "still waits for r3"
    );
    // r3 completes: r4 runs.
    assert_eq!(finish(&store, w, r[3], complete()), RunStatus::Completed);
    assert_eq!(status(&store, r[4]), RunStatus::Pending);
}

#[test]
fn cancelling_a_waiting_run_cancels_its_dependents() {
    let db = TestDb::new();
    let store = db.open();
    let r = runs(&store, 3);
    add(&store, &[dep(r[1], r[0]), dep(r[2], r[1])]).unwrap();
    store.write(|tx| tx.cancel_run(r[0], "user", T0)).unwrap();
    assert_eq!(status(&store, r[1]), RunStatus::Cancelled);
    assert_eq!(status(&store, r[2]), RunStatus::Cancelled);
}

#[test]
fn edges_to_finished_upstreams_apply_at_once() {
    let db = TestDb::new();
    let store = db.open();
    let w = store
        .write(|tx| tx.register_worker(&NewWorker::new("w", "h", 1), T0, H0))
        .unwrap();
    let done = runs(&store, 1)[0];
    finish(&store, w, done, complete());
    let failed = runs(&store, 1)[0];
    finish(&store, w, failed, fail());
    let r = runs(&store, 2);
    add(&store, &[dep(r[0], done)]).unwrap();
    assert_eq!(
        status(&store, r[0]),
        RunStatus::Pending,
        "a completed upstream does not block"
    );
    add(&store, &[dep(r[1], failed)]).unwrap();
    assert_eq!(
        status(&store, r[1]),
        RunStatus::Cancelled,
        "a failed upstream cancels at once"
    );
}

#[test]
fn a_manually_retried_upstream_does_not_count_twice() {
    let db = TestDb::new();
    let store = db.open();
    let w = store
        .write(|tx| tx.register_worker(&NewWorker::new("w", "h", 1), T0, H0))
        .unwrap();
    let r = runs(&store, 3);
    // r1 waits for r0; r2 waits for r0 and r1; every edge runs anyway on failure.
    let run_anyway = |d, u| dep(d, u).on_failure(OnUpstreamFailure::Run);
    add(
        &store,
        &[
            run_anyway(r[1], r[0]),
            run_anyway(r[2], r[0]),
            run_anyway(r[2], r[1]),
        ],
    )
    .unwrap();
    assert_eq!(finish(&store, w, r[0], fail()), RunStatus::Failed);
    assert_eq!(status(&store, r[1]), RunStatus::Pending);
    assert_eq!(store.read(|tx| tx.get_run(r[2])).unwrap().blocked_on, 1);

    // r0 is retried by hand and completes this time: its edges were already settled, so
    // r2 must still wait for r1.
    store.write(|tx| tx.retry_run(r[0], at_ms(1))).unwrap();
    let c = store
        .write(|tx| {
            tx.claim_runs(
                w,
                10,
                at_ms(1),
                host_ms(1),
                Duration::from_secs(30),
                &JobTypeFilter::any(),
            )
        })
        .unwrap();
    let c0 = c.iter().find(|c| c.id == r[0]).unwrap();
    store
        .write(|tx| tx.finish_attempt(r[0], c0.token, &complete(), None, at_ms(3)))
        .unwrap();
    let run2 = store.read(|tx| tx.get_run(r[2])).unwrap();
    assert_eq!((run2.status, run2.blocked_on), (RunStatus::Blocked, 1));
}

#[test]
fn a_cascade_through_thousands_of_runs_settles_in_bounded_transactions() {
    let db = TestDb::new();
    let store = db.open();
    let chain = runs(&store, 3_000);
    let edges: Vec<NewDependency> = chain.windows(2).map(|w| dep(w[1], w[0])).collect();
    add(&store, &edges).unwrap();
    store
        .write(|tx| tx.cancel_run(chain[0], "stop", at_ms(1)))
        .unwrap();
    let cancelled = |store: &Store| {
        chain
            .iter()
            .filter(|id| status(store, **id) == RunStatus::Cancelled)
            .count()
    };
    let first = cancelled(&store);
    assert!(
        first > 1 && first < chain.len(),
        "one transaction settles a bounded part of the cascade, not all of it: {first}"
    );
    assert!(store.read(|tx| tx.has_queued_settles()).unwrap());
    let mut transactions = 0;
    while store.write(|tx| tx.settle_queued(at_ms(2))).unwrap() {
        transactions += 1;
        assert!(transactions < 100, "the queue does not drain");
    }
    assert!(transactions >= 1);
    assert_eq!(
        cancelled(&store),
        chain.len(),
        "the whole chain, transitively"
    );
    for id in &chain[1..] {
        let r = store.read(|tx| tx.get_run(*id)).unwrap();
        assert_eq!(r.cancel_reason.as_deref(), Some(UPSTREAM_FAILED));
    }
    assert!(!store.read(|tx| tx.has_queued_settles()).unwrap());
}
