//! Waiting for results, on any backend: `wait` returns the finished run, `wait_all` a
//! set in the order asked, `wait_idle` returns once nothing is to be done now; each
//! gives `Error::WaitTimeout` at its deadline without changing anything; an admin of
//! another handle (no events) sees runs finished by the scheduler; `run.result::<T>()`
//! decodes the job's output and refuses a run that has none.

use std::time::{Duration, Instant};

use crate::common::{
    backend::TestBackend,
    jobs::{Double, Gate, Noop, open_gate},
};
use runloom::{EnqueueOptions, Error, RunId, RunStatus};

const WAIT: Duration = Duration::from_secs(20);

fn gate(name: &str) -> Gate {
    Gate {
        gate: name.into(),
        max_ms: 30_000,
        cooperative: true,
    }
}

pub(crate) fn wait_returns_the_finished_run_with_its_typed_result(db: &dyn TestBackend) {
    let s = db.builder().register::<Double>().start().unwrap();
    let id = s.enqueue(Double { value: 21 }).unwrap().id;
    let run = s.wait(id, WAIT).unwrap();
    assert_eq!(run.id, id);
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.result::<i64>().unwrap(), 42);
    match run.result::<String>().unwrap_err().into() {
        Error::ResultType { run: r, detail } => {
            assert_eq!(r, id);
            assert!(detail.contains("string"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn a_wait_that_times_out_names_the_run_and_changes_nothing(db: &dyn TestBackend) {
    let s = db.builder().register::<Gate>().start().unwrap();
    let id = s.enqueue(gate("waiting-timeout")).unwrap().id;
    let started = Instant::now();
    let err = s.wait(id, Duration::from_millis(300)).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    match &err {
        Error::WaitTimeout { waited, unfinished } => {
            assert!(*waited >= Duration::from_millis(300), "{waited:?}");
            assert_eq!(unfinished, &[id]);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains(&format!("run {id}")), "{err}");
    let run = s.run(id).unwrap();
    assert!(!run.status.is_finished(), "{:?}", run.status);
    // The result of an unfinished run is refused, naming its status.
    match run.result::<String>().unwrap_err().into() {
        Error::InvalidRunState { run: r, status, .. } => {
            assert_eq!(r, id);
            assert_eq!(status, run.status);
        }
        other => panic!("{other:?}"),
    }
    open_gate("waiting-timeout");
    let run = s.wait(id, WAIT).unwrap();
    assert_eq!(run.result::<String>().unwrap(), "opened");
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn wait_all_gives_the_runs_in_the_order_asked_and_refuses_an_unknown_id(
    db: &dyn TestBackend,
) {
    let s = db.builder().register::<Double>().start().unwrap();
    let ids: Vec<RunId> = s
        .enqueue_many((1..=20).map(|value| Double { value }))
        .unwrap()
        .iter()
        .map(|r| r.id)
        .rev()
        .collect();
    let runs = s.wait_all(&ids, WAIT).unwrap();
    let values: Vec<i64> = runs.iter().map(|r| r.result().unwrap()).collect();
    assert_eq!(values, (1..=20).rev().map(|v| v * 2).collect::<Vec<_>>());
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids,
        "in the order asked"
    );
    let missing = RunId::new(999_999);
    assert!(matches!(
        s.wait_all(&[ids[0], missing], WAIT),
        Err(Error::RunNotFound(m)) if m == missing
    ));
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn wait_idle_returns_once_every_due_run_and_its_dependents_are_done(
    db: &dyn TestBackend,
) {
    let s = db
        .builder()
        .register::<Noop>()
        .register::<Double>()
        .start()
        .unwrap();
    // A chain whose later links are released only as the earlier ones finish, a batch
    // beside it, and one run due in an hour (not work now).
    let mut batch = s.batch();
    let mut prev = batch.add(Double { value: 0 }).unwrap();
    for value in 1..10 {
        let next = batch.add(Double { value }).unwrap();
        batch.depends_on(next, prev).unwrap();
        prev = next;
    }
    batch.submit().unwrap();
    s.enqueue_many((0..50).map(|_| Noop)).unwrap();
    let later = s
        .enqueue_with(Noop, EnqueueOptions::new().delay(Duration::from_secs(3600)))
        .unwrap()
        .id;
    s.wait_idle(WAIT).unwrap();
    let counts = s.admin().counts().unwrap();
    assert_eq!(counts.completed, 60);
    assert_eq!((counts.running, counts.blocked), (0, 0));
    assert_eq!(counts.pending, 1);
    assert_eq!(s.run(later).unwrap().status, RunStatus::Pending);
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn the_queue_is_not_idle_while_paused_with_due_runs(db: &dyn TestBackend) {
    let s = db.builder().register::<Noop>().start().unwrap();
    s.pause().unwrap();
    let id = s.enqueue(Noop).unwrap().id;
    match s.wait_idle(Duration::from_millis(300)).unwrap_err() {
        Error::WaitTimeout { unfinished, .. } => assert!(unfinished.is_empty()),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.run(id).unwrap().status, RunStatus::Pending);
    s.resume().unwrap();
    s.wait_idle(WAIT).unwrap();
    assert_eq!(s.run(id).unwrap().status, RunStatus::Completed);
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn an_admin_of_its_own_sees_runs_another_handle_finishes(db: &dyn TestBackend) {
    let s = db.builder().register::<Gate>().start().unwrap();
    let id = s.enqueue(gate("waiting-admin")).unwrap().id;
    // No events reach this handle: it re-reads on its backoff.
    let admin = db.admin();
    let waiter = std::thread::spawn(move || admin.wait(id, WAIT));
    open_gate("waiting-admin");
    let run = waiter.join().unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.result::<String>().unwrap(), "opened");
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn a_test_scheduler_runs_only_when_drained(db: &dyn TestBackend) {
    let test = runloom::testing::TestScheduler::start(db.builder().register::<Double>()).unwrap();
    let id = test.enqueue(Double { value: 4 }).unwrap().id;
    assert!(matches!(
        test.wait(id, Duration::from_millis(300)),
        Err(Error::WaitTimeout { .. })
    ));
    assert!(test.is_enqueued(&Double { value: 4 }).unwrap());
    let drained = test.drain().unwrap();
    assert_eq!(drained.completed, 1, "{drained:?}");
    assert_eq!(test.run(id).unwrap().result::<i64>().unwrap(), 8);
    test.shutdown().unwrap();
}
