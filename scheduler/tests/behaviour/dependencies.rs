//! Dependency graphs in the running scheduler, on any backend: fan-out / fan-in /
//! chains, the upstream_failed cascade, refusals with nothing written, edges onto
//! existing runs, the same-transaction unblock seen in consistent snapshots.

use crate::common::{self, backend::TestBackend};

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use crate::common::{
    T0,
    jobs::{Decides, Gate, Noop, Record, log_of, open_gate},
    wait_for,
};
use runloom::{
    DependencyLimits, Error, ManualClock, NewDependency, OnUpstreamFailure, RunFilter, RunId,
    RunStatus, Scheduler, UPSTREAM_FAILED,
};

const WAIT: Duration = Duration::from_secs(20);

fn rec(test: &str, label: impl Into<String>) -> Record {
    Record {
        test: test.into(),
        label: label.into(),
    }
}

fn wait_finished(s: &Scheduler, ids: &[RunId]) -> bool {
    s.wait_all(ids, WAIT).is_ok()
}

pub(crate) fn a_fan_out_fan_in_workflow_runs_in_graph_order(db: &dyn TestBackend) {
    let test = "fan-out-fan-in";
    let s = db
        .builder()
        .worker_threads(4)
        .register::<Record>()
        .start()
        .unwrap();
    let mut b = s.batch();
    let root = b.add(rec(test, "root")).unwrap();
    let leaves: Vec<_> = (0..6)
        .map(|i| b.add(rec(test, format!("leaf-{i}"))).unwrap())
        .collect();
    let sink = b.add(rec(test, "sink")).unwrap();
    for l in &leaves {
        b.depends_on(*l, root).unwrap();
        b.depends_on(sink, *l).unwrap();
    }
    let runs = b.submit().unwrap();
    assert_eq!(runs[0].status, RunStatus::Pending);
    assert!(runs[1..].iter().all(|r| r.status == RunStatus::Blocked));
    let ids: Vec<RunId> = runs.iter().map(|r| r.id).collect();
    assert!(wait_finished(&s, &ids));
    let log = log_of(test);
    assert_eq!(log.len(), 8);
    assert_eq!(log[0], "root");
    assert_eq!(log[7], "sink");
    assert!(
        ids.iter()
            .all(|id| s.run(*id).unwrap().status == RunStatus::Completed)
    );
    assert_eq!(s.dependency_graph(ids[0]).unwrap().len(), 12);
}

pub(crate) fn a_failing_branch_cancels_what_waits_for_it_transitively(db: &dyn TestBackend) {
    let test = "failing-branch";
    let s = db
        .builder()
        .register::<Record>()
        .register::<Decides>()
        .start()
        .unwrap();
    let mut b = s.batch();
    let root = b.add(rec(test, "root")).unwrap();
    let good = b.add(rec(test, "good")).unwrap();
    let bad = b.add(Decides { how: "fail".into() }).unwrap();
    let join = b.add(rec(test, "join")).unwrap();
    let after_join = b.add(rec(test, "after-join")).unwrap();
    let tolerant = b.add(rec(test, "tolerant")).unwrap();
    b.depends_on(good, root)
        .unwrap()
        .depends_on(bad, root)
        .unwrap();
    b.depends_on(join, good)
        .unwrap()
        .depends_on(join, bad)
        .unwrap();
    b.depends_on(after_join, join).unwrap();
    b.depends_on_with(tolerant, bad, OnUpstreamFailure::Run)
        .unwrap();
    let ids: Vec<RunId> = b.submit().unwrap().iter().map(|r| r.id).collect();
    assert!(wait_finished(&s, &ids));
    let status = |i: usize| s.run(ids[i]).unwrap();
    assert_eq!(status(1).status, RunStatus::Completed);
    assert_eq!(status(2).status, RunStatus::Failed);
    for i in [3, 4] {
        let r = status(i);
        assert_eq!(r.status, RunStatus::Cancelled);
        assert_eq!(r.cancel_reason.as_deref(), Some(UPSTREAM_FAILED));
    }
    assert_eq!(status(5).status, RunStatus::Completed, "on_failure = run");
    let log = log_of(test);
    assert!(!log.contains(&"join".to_owned()) && !log.contains(&"after-join".to_owned()));
}

pub(crate) fn a_chain_runs_in_order_and_no_snapshot_shows_a_run_blocked_after_its_upstream_completed(
    db: &dyn TestBackend,
) {
    let test = "chain";
    let s = Arc::new(
        db.builder()
            .worker_threads(4)
            .register::<Record>()
            .start()
            .unwrap(),
    );
    let mut b = s.batch();
    let refs: Vec<_> = (0..40)
        .map(|i| b.add(rec(test, format!("{i:02}"))).unwrap())
        .collect();
    for w in refs.windows(2) {
        b.depends_on(w[1], w[0]).unwrap();
    }
    let ids: Vec<RunId> = b.submit().unwrap().iter().map(|r| r.id).collect();

    // A reader checks consistent snapshots while the chain runs: the unblock commits in
    // the same transaction as the upstream's completion.
    let stop = Arc::new(AtomicBool::new(false));
    let checker = {
        let (s, stop, ids) = (s.clone(), stop.clone(), ids.clone());
        std::thread::spawn(move || {
            let mut checks = 0u32;
            while !stop.load(Ordering::Relaxed) {
                // One listing is one read transaction: one snapshot.
                let runs = s.admin().runs(&RunFilter::new().limit(100)).unwrap();
                let status: HashMap<RunId, RunStatus> =
                    runs.iter().map(|r| (r.id, r.status)).collect();
                for w in ids.windows(2) {
                    let (up, down) = (status[&w[0]], status[&w[1]]);
                    assert!(
                        !(up == RunStatus::Completed && down == RunStatus::Blocked),
                        "run {} completed but {} still blocked in one snapshot",
                        w[0],
                        w[1]
                    );
                }
                checks += 1;
            }
            checks
        })
    };
    assert!(wait_finished(&s, &ids));
    stop.store(true, Ordering::Relaxed);
    assert!(checker.join().unwrap() > 0);
    let expected: Vec<String> = (0..40).map(|i| format!("{i:02}")).collect();
    assert_eq!(log_of(test), expected);
}

pub(crate) fn bad_graphs_are_refused_and_nothing_is_written(db: &dyn TestBackend) {
    let test = "refusals";
    let s = db
        .builder()
        .dependency_limits(DependencyLimits::default().max_fan_in(3).max_graph_size(50))
        .register::<Record>()
        .start()
        .unwrap();
    // A cycle among batch jobs.
    let mut b = s.batch();
    let x = b.add(rec(test, "x")).unwrap();
    let y = b.add(rec(test, "y")).unwrap();
    let z = b.add(rec(test, "z")).unwrap();
    b.depends_on(y, x)
        .unwrap()
        .depends_on(z, y)
        .unwrap()
        .depends_on(x, z)
        .unwrap();
    let err = b.submit().unwrap_err();
    assert!(matches!(err, Error::InvalidBatch { .. }), "{err:?}");
    assert!(err.to_string().contains("cycle"), "{err}");
    // A self edge.
    let mut b = s.batch();
    let x = b.add(rec(test, "x")).unwrap();
    assert!(matches!(
        b.depends_on(x, x),
        Err(Error::InvalidBatch { position: 0, .. })
    ));
    // A reference from another batch.
    let mut other = s.batch();
    let _ = other.add(rec(test, "o1")).unwrap();
    let o2 = other.add(rec(test, "o2")).unwrap();
    assert!(matches!(
        b.depends_on(x, o2),
        Err(Error::InvalidBatch { .. })
    ));
    // Fan-in over the limit.
    let mut b = s.batch();
    let sink = b.add(rec(test, "sink")).unwrap();
    for i in 0..4 {
        let up = b.add(rec(test, format!("u{i}"))).unwrap();
        b.depends_on(sink, up).unwrap();
    }
    assert!(matches!(
        b.submit(),
        Err(Error::DependencyLimit {
            limit: "fan-in",
            max: 3,
            actual: 4
        })
    ));
    // Graph size over the limit.
    let mut b = s.batch();
    for i in 0..51 {
        b.add(rec(test, format!("n{i}"))).unwrap();
    }
    assert!(matches!(
        b.submit(),
        Err(Error::DependencyLimit {
            limit: "graph size",
            ..
        })
    ));
    // An upstream run that does not exist.
    let mut b = s.batch();
    let x = b.add(rec(test, "x")).unwrap();
    b.depends_on(x, RunId::new(424_242)).unwrap();
    assert!(matches!(b.submit(), Err(Error::UnknownDependency(id)) if id == RunId::new(424_242)));

    assert_eq!(s.stats().unwrap().counts.total(), 0, "nothing was written");
    assert!(log_of(test).is_empty());
}

pub(crate) fn edges_onto_existing_runs(db: &dyn TestBackend) {
    let clock = std::sync::Arc::new(runloom::ManualClock::new(common::T0));
    let s = db
        .builder()
        .clock(clock.clone())
        .register::<Gate>()
        .register::<Noop>()
        .start()
        .unwrap();
    let gate = "existing-upstream";
    let upstream = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: false,
        })
        .unwrap()
        .id;
    // A batch job waiting for a run that exists.
    let mut b = s.batch();
    let x = b.add(Noop).unwrap();
    b.depends_on(x, upstream).unwrap();
    let waiting = b.submit().unwrap()[0].id;
    // An existing pending run (due in a minute on the manual clock) made to wait after
    // the fact.
    let later = s
        .enqueue_with(
            Noop,
            runloom::EnqueueOptions::new().delay(Duration::from_secs(60)),
        )
        .unwrap()
        .id;
    s.add_dependencies(&[NewDependency::new(later, upstream)])
        .unwrap();
    assert!(matches!(
        s.add_dependencies(&[NewDependency::new(upstream, later)]),
        Err(Error::DependencyNotAllowed { .. } | Error::DependencyCycle { .. })
    ));
    assert_eq!(s.run(waiting).unwrap().status, RunStatus::Blocked);
    assert_eq!(s.run(later).unwrap().status, RunStatus::Blocked);
    open_gate(gate);
    assert!(wait_finished(&s, &[upstream, waiting]));
    assert_eq!(s.run(waiting).unwrap().status, RunStatus::Completed);
    // Unblocked, it still waits for its own time.
    assert_eq!(s.run(later).unwrap().status, RunStatus::Pending);
    clock.advance(Duration::from_secs(60));
    s.notify();
    assert!(wait_finished(&s, &[later]));
    assert_eq!(s.run(later).unwrap().status, RunStatus::Completed);
}

pub(crate) fn cancelling_a_run_cancels_the_runs_waiting_for_it(db: &dyn TestBackend) {
    let s = db.builder().register::<Noop>().start().unwrap();
    let mut b = s.batch();
    let a = b
        .add_with(
            Noop,
            runloom::EnqueueOptions::new().delay(Duration::from_secs(3600)),
        )
        .unwrap();
    let c = b.add(Noop).unwrap();
    b.depends_on(c, a).unwrap();
    let ids: Vec<RunId> = b.submit().unwrap().iter().map(|r| r.id).collect();
    s.cancel(ids[0]).unwrap();
    let r = s.run(ids[1]).unwrap();
    assert_eq!(
        (r.status, r.cancel_reason.as_deref()),
        (RunStatus::Cancelled, Some(UPSTREAM_FAILED))
    );
}

pub(crate) fn a_retried_run_waits_again_for_an_upstream_that_has_not_finished(
    db: &dyn TestBackend,
) {
    let clock = Arc::new(ManualClock::new(T0));
    let s = db
        .builder()
        .clock(clock.clone())
        .register::<Record>()
        .start()
        .unwrap();
    let test = "retry-waits";
    let mut b = s.batch();
    let a = b
        .add_with(
            rec(test, "a"),
            runloom::EnqueueOptions::new().delay(Duration::from_secs(3600)),
        )
        .unwrap();
    let c = b.add(rec(test, "b")).unwrap();
    b.depends_on(c, a).unwrap();
    let ids: Vec<RunId> = b.submit().unwrap().iter().map(|r| r.id).collect();
    s.cancel(ids[1]).unwrap();
    s.retry(ids[1]).unwrap();
    let r = s.run(ids[1]).unwrap();
    assert_eq!(
        (r.status, r.blocked_on),
        (RunStatus::Blocked, 1),
        "the retried run waits for its upstream again"
    );
    // Many poll intervals pass: it does not run before its upstream.
    assert!(!wait_for(Duration::from_millis(300), || !log_of(test).is_empty()));
    clock.advance(Duration::from_secs(3600));
    s.notify();
    assert!(wait_finished(&s, &ids));
    assert_eq!(log_of(test), ["a", "b"]);
    assert_eq!(s.run(ids[1]).unwrap().status, RunStatus::Completed);
}

pub(crate) fn a_run_cancelled_by_a_failed_upstream_is_retried_after_its_upstream(
    db: &dyn TestBackend,
) {
    let s = db
        .builder()
        .register::<Decides>()
        .register::<Record>()
        .start()
        .unwrap();
    let test = "retry-after-upstream";
    let mut b = s.batch();
    let a = b.add(Decides { how: "fail".into() }).unwrap();
    let c = b.add(rec(test, "b")).unwrap();
    b.depends_on(c, a).unwrap();
    let ids: Vec<RunId> = b.submit().unwrap().iter().map(|r| r.id).collect();
    assert!(wait_finished(&s, &ids));
    assert_eq!(s.run(ids[0]).unwrap().status, RunStatus::Failed);
    let cancelled = s.run(ids[1]).unwrap();
    assert_eq!(cancelled.cancel_reason.as_deref(), Some(UPSTREAM_FAILED));
    // While its upstream stays failed, retrying it is refused, and changes nothing.
    let err = s.retry(ids[1]).unwrap_err();
    assert!(
        matches!(err, Error::UpstreamNotRetried { run, upstream, status: RunStatus::Failed }
            if run == ids[1] && upstream == ids[0]),
        "{err:?}"
    );
    assert!(err.to_string().contains("retry run"), "{err}");
    assert_eq!(s.run(ids[1]).unwrap(), cancelled);
    // The upstream is retried first, then the dependent, which waits for it again (paused
    // meanwhile, so the upstream cannot fail again in between)...
    s.pause().unwrap();
    s.retry(ids[0]).unwrap();
    s.retry(ids[1]).unwrap();
    let waiting = s.run(ids[1]).unwrap();
    assert_eq!(
        (waiting.status, waiting.blocked_on),
        (RunStatus::Blocked, 1)
    );
    s.resume().unwrap();
    assert!(wait_finished(&s, &ids));
    // ...and the dependent, waiting for it again, is cancelled again.
    let again = s.run(ids[1]).unwrap();
    assert_eq!(
        (again.status, again.cancel_reason.as_deref()),
        (RunStatus::Cancelled, Some(UPSTREAM_FAILED))
    );
    assert!(log_of(test).is_empty(), "the dependent never ran");
}

pub(crate) fn a_failure_at_the_head_of_a_long_chain_cancels_all_of_it_in_the_background(
    db: &dyn TestBackend,
) {
    let s = db
        .builder()
        .register::<Decides>()
        .register::<Noop>()
        .start()
        .unwrap();
    let mut b = s.batch();
    let head = b.add(Decides { how: "fail".into() }).unwrap();
    let mut prev = head;
    for _ in 0..2_500 {
        let next = b.add(Noop).unwrap();
        b.depends_on(next, prev).unwrap();
        prev = next;
    }
    let ids: Vec<RunId> = b.submit().unwrap().iter().map(|r| r.id).collect();
    // The cascade is more than one transaction settles: the dispatcher goes on with it.
    assert!(wait_finished(&s, &ids));
    assert_eq!(s.run(ids[0]).unwrap().status, RunStatus::Failed);
    for id in &ids[1..] {
        let r = s.run(*id).unwrap();
        assert_eq!(
            (r.status, r.cancel_reason.as_deref()),
            (RunStatus::Cancelled, Some(UPSTREAM_FAILED))
        );
    }
}
