//! The operator's handle, `Admin`, on real database files: what it refuses to open (and
//! leaves untouched), and each of its reads and actions beside a running scheduler or
//! with none, checked through the public API only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{
    TestDb, builder,
    jobs::{Decides, Double, Gate, Noop, open_gate},
    snapshot, wait_for,
};
use runloom::{
    Admin, CancelOutcome, EnqueueOptions, Error, NewDependency, RunFilter, RunId, RunStatus,
    ScheduleSpec, Service, UPSTREAM_FAILED,
};

const WAIT: Duration = Duration::from_secs(20);

fn wait_status(admin: &Admin, id: RunId, status: RunStatus) {
    assert!(
        wait_for(WAIT, || admin.run(id).unwrap().status == status),
        "run {id} did not become {status}: it is {}",
        admin.run(id).unwrap().status
    );
}

#[test]
fn opening_refuses_what_it_must_and_changes_nothing() {
    let db = TestDb::new();
    // Missing: refused, and no file appears.
    assert!(matches!(
        Admin::open(&db.path),
        Err(Error::DatabaseMissing(_))
    ));
    assert!(matches!(
        Admin::builder(&db.path).open_any_version(),
        Err(Error::DatabaseMissing(_))
    ));
    assert!(!db.path.exists());
    // The plan for a new file creates none.
    let plan = Admin::plan_new_database(None).unwrap();
    assert_eq!(plan.len() as u32, Admin::latest_schema_version());
    assert!(!db.path.exists());

    // Empty: refused by both opens, and still empty.
    std::fs::write(&db.path, b"").unwrap();
    for result in [
        Admin::open(&db.path),
        Admin::builder(&db.path).open_any_version(),
    ] {
        let e = result.unwrap_err();
        assert!(matches!(e, Error::EmptyDatabase(_)), "{e}");
        assert!(e.to_string().contains("file is empty"), "{e}");
    }
    assert_eq!(std::fs::metadata(&db.path).unwrap().len(), 0);

    // Behind: `create` makes the schema on demand; `open` wants the latest.
    let admin = Admin::builder(&db.path).create().unwrap();
    assert_eq!(admin.schema_version().unwrap(), 0);
    admin.migrate_up(Some(2), false).unwrap();
    drop(admin);
    let before = snapshot(&db.path);
    let e = Admin::open(&db.path).unwrap_err();
    assert!(
        matches!(e, Error::SchemaBehind { database: 2, binary } if binary == Admin::latest_schema_version()),
        "{e}"
    );
    assert_eq!(
        snapshot(&db.path),
        before,
        "a refused open wrote to the file"
    );
    let admin = Admin::builder(&db.path).open_any_version().unwrap();
    let pending = admin
        .migrations()
        .unwrap()
        .iter()
        .filter(|m| m.state == runloom::MigrationState::Pending)
        .count();
    assert_eq!(pending as u32, Admin::latest_schema_version() - 2);
    assert!(admin.migrate_up(None, true).unwrap().len() == pending);
    assert_eq!(
        admin.schema_version().unwrap(),
        2,
        "a dry run changed nothing"
    );
    admin.migrate_up(None, false).unwrap();
    assert!(Admin::open(&db.path).is_ok());
}

#[test]
fn run_details_show_the_lease_the_worker_and_the_dependencies() {
    let db = TestDb::new();
    let s = builder(&db)
        .register::<Gate>()
        .register::<Double>()
        .start()
        .unwrap();
    let mut batch = s.batch();
    let gate = batch
        .add(Gate {
            gate: "admin-details".into(),
            max_ms: 60_000,
            cooperative: true,
        })
        .unwrap();
    let after = batch.add(Double { value: 1 }).unwrap();
    batch.depends_on(after, gate).unwrap();
    let ids = batch.submit().unwrap();
    let (gate, after) = (ids[0].id, ids[1].id);
    let admin = Admin::open(&db.path).unwrap();
    wait_status(&admin, gate, RunStatus::Running);

    let d = admin.run_details(gate).unwrap();
    assert_eq!(d.run.status, RunStatus::Running);
    let lease = d.lease.expect("a running run has a lease");
    assert_eq!(lease.worker_id, s.worker_id());
    assert_eq!(d.worker.as_ref().unwrap().id, s.worker_id());
    assert!(d.upstream.is_empty());
    assert_eq!(d.downstream.len(), 1);
    assert_eq!(d.downstream[0].edge.downstream, after);
    assert_eq!(
        d.downstream[0].other.as_ref().unwrap().status,
        RunStatus::Blocked
    );
    let d = admin.run_details(after).unwrap();
    assert_eq!(d.upstream[0].edge.upstream, gate);
    assert!(d.lease.is_none() && d.worker.is_none());

    // The worker is listed with the run it holds, and is not stale.
    let workers = admin.workers(false).unwrap();
    let me = workers
        .iter()
        .find(|w| w.worker.id == s.worker_id())
        .unwrap();
    assert_eq!(me.runs, vec![gate]);
    assert!(!me.stale);
    let health = admin.health().unwrap();
    assert_eq!((health.running, health.blocked), (1, 1));
    assert_eq!(health.live_workers, 1);

    // Cancelling the running gate asks it to stop; its dependent follows it.
    assert_eq!(
        admin.cancel(gate, "operator says no").unwrap(),
        CancelOutcome::Requested
    );
    wait_status(&admin, gate, RunStatus::Cancelled);
    wait_status(&admin, after, RunStatus::Cancelled);
    assert_eq!(
        admin.run(after).unwrap().cancel_reason.as_deref(),
        Some(UPSTREAM_FAILED)
    );
    assert!(
        admin
            .run_details(RunId::new(999_999))
            .unwrap_err()
            .is_not_found()
    );
    open_gate("admin-details");
    s.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn cancel_writes_the_cascade_before_it_returns() {
    let db = TestDb::new();
    let s = builder(&db).register::<Double>().start().unwrap();
    s.pause().unwrap();
    let mut batch = s.batch();
    let root = batch.add(Double { value: 1 }).unwrap();
    let mut children = Vec::new();
    for v in 0..20 {
        let child = batch.add(Double { value: v }).unwrap();
        batch.depends_on(child, root).unwrap();
        children.push(child);
    }
    let ids = batch.submit().unwrap();
    s.shutdown(Duration::from_secs(5)).unwrap();

    // No scheduler runs any more: whatever is cancelled below, Admin wrote.
    let admin = Admin::open(&db.path).unwrap();
    assert_eq!(
        admin.cancel(ids[0].id, "not needed").unwrap(),
        CancelOutcome::Cancelled
    );
    for c in &children {
        let run = admin.run(ids[c.position()].id).unwrap();
        assert_eq!(run.status, RunStatus::Cancelled, "{}", run.id);
    }
    assert_eq!(admin.counts().unwrap().cancelled, 21);
    // Cancelling it again is refused and changes nothing.
    assert!(matches!(
        admin.cancel(ids[0].id, "again"),
        Err(Error::InvalidRunState { .. })
    ));
}

#[test]
fn retry_where_puts_upstreams_back_before_the_runs_waiting_for_them() {
    let db = TestDb::new();
    let s = builder(&db)
        .register::<Double>()
        .register::<Decides>()
        .start()
        .unwrap();
    // The downstream is the older run (lower id), so a listing in id order meets it
    // before its upstream.
    let downstream = s
        .enqueue_with(
            Double { value: 1 },
            EnqueueOptions::new().delay(Duration::from_secs(3600)),
        )
        .unwrap()
        .id;
    let upstream = s
        .enqueue_with(
            Decides { how: "fail".into() },
            EnqueueOptions::new().delay(Duration::from_secs(3600)),
        )
        .unwrap()
        .id;
    s.add_dependencies(&[NewDependency::new(downstream, upstream)])
        .unwrap();
    let unrelated = s.enqueue(Double { value: 2 }).unwrap().id;
    let admin = s.admin();
    wait_status(admin, unrelated, RunStatus::Completed);
    // Cancelling the upstream cancels its dependent (its edge says so by default).
    admin.cancel(upstream, "stopped by hand").unwrap();
    wait_status(admin, downstream, RunStatus::Cancelled);
    s.shutdown(Duration::from_secs(5)).unwrap();

    let admin = Admin::open(&db.path).unwrap();
    // A filter on another status is refused.
    let e = admin
        .retry_where(&RunFilter::new().status(RunStatus::Completed))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    assert_eq!(admin.run(unrelated).unwrap().status, RunStatus::Completed);

    let report = admin.retry_where(&RunFilter::new().limit(100)).unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(report.retried, vec![upstream, downstream]);
    assert_eq!(admin.run(upstream).unwrap().status, RunStatus::Pending);
    assert_eq!(
        admin.run(downstream).unwrap().status,
        RunStatus::Blocked,
        "it waits for its upstream again"
    );
    // Nothing left to retry.
    let again = admin.retry_where(&RunFilter::new().limit(100)).unwrap();
    assert!(again.retried.is_empty() && again.refused.is_empty());
}

#[test]
fn retry_where_reports_each_refusal_and_goes_on() {
    let db = TestDb::new();
    let s = builder(&db).register::<Decides>().start().unwrap();
    let keyed = s
        .enqueue_with(
            Decides { how: "fail".into() },
            EnqueueOptions::new().unique_key("only-one"),
        )
        .unwrap()
        .id;
    let plain = s.enqueue(Decides { how: "fail".into() }).unwrap().id;
    let admin = s.admin();
    wait_status(admin, keyed, RunStatus::Failed);
    wait_status(admin, plain, RunStatus::Failed);
    s.pause().unwrap();
    // A new unfinished run holds the failed run's key, so retrying that one is refused.
    let holder = s
        .enqueue_with(
            Decides { how: "fail".into() },
            EnqueueOptions::new().unique_key("only-one"),
        )
        .unwrap();
    assert!(holder.created);
    let report = admin
        .retry_where(&RunFilter::new().status(RunStatus::Failed).limit(10))
        .unwrap();
    assert_eq!(report.retried, vec![plain]);
    assert_eq!(report.refused.len(), 1);
    assert_eq!(report.refused[0].0, keyed);
    assert!(
        matches!(report.refused[0].1, Error::UniqueKeyTaken { .. }),
        "{}",
        report.refused[0].1
    );
    assert_eq!(admin.run(keyed).unwrap().status, RunStatus::Failed);
    s.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn pause_resume_enqueue_and_figures_without_a_scheduler() {
    let db = TestDb::new();
    let s = builder(&db).register::<Double>().start().unwrap();
    let done = s.enqueue(Double { value: 4 }).unwrap().id;
    wait_status(s.admin(), done, RunStatus::Completed);
    s.shutdown(Duration::from_secs(5)).unwrap();

    let admin = Admin::open(&db.path).unwrap();
    assert!(admin.pause().unwrap());
    assert!(!admin.pause().unwrap(), "already paused: nothing changed");
    assert!(admin.is_paused().unwrap());
    assert!(admin.figures().unwrap().paused);
    assert!(admin.resume().unwrap());
    assert!(!admin.resume().unwrap());

    // By name: only a type some host registered, only JSON; a refusal writes nothing.
    assert_eq!(admin.job_types().unwrap(), vec!["double".to_owned()]);
    let before = admin.counts().unwrap().total();
    let e = admin
        .enqueue_json("nobody_runs_this", "{}", &EnqueueOptions::new())
        .unwrap_err();
    assert!(matches!(e, Error::UnknownJobType(_)), "{e}");
    let e = admin
        .enqueue_json("double", "{not json", &EnqueueOptions::new())
        .unwrap_err();
    assert!(matches!(e, Error::Payload { .. }), "{e}");
    let e = admin
        .enqueue_json(
            "double",
            r#"{"value":1}"#,
            &EnqueueOptions::new().priority(101),
        )
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    assert_eq!(admin.counts().unwrap().total(), before);
    let queued = admin
        .enqueue_json(
            "double",
            r#"{"value":5}"#,
            &EnqueueOptions::new().priority(7).max_attempts(2),
        )
        .unwrap();
    let run = admin.run(queued.id).unwrap();
    assert_eq!(
        (run.status, run.priority, run.max_attempts),
        (RunStatus::Pending, 7, 2)
    );
    let foreign = admin
        .enqueue_json_any_type("nobody_runs_this", "null", &EnqueueOptions::new())
        .unwrap();
    assert!(foreign.created);

    // The figures agree with the runs.
    let f = admin.figures().unwrap();
    assert_eq!(f.counts.completed, 1);
    assert_eq!(f.counts.pending, 2);
    let double = f.per_task.iter().find(|t| t.job_type == "double").unwrap();
    assert_eq!(
        (double.runs, double.completed, double.unfinished),
        (2, 1, 1)
    );
    assert_eq!(double.success_rate_pct, Some(100.0));
    assert_eq!(f.last_hour.completed_last_hour, 1);
    assert_eq!(f.throughput.iter().map(|m| m.completed).sum::<u64>(), 1);

    // A maintenance pass is recorded like the thread's.
    let report = admin.run_maintenance(Some(Service::TokenPurge)).unwrap();
    assert_eq!(report.passes.len(), 1);
    let history = admin.maintenance_history().unwrap();
    assert!(history.iter().any(|(s, _)| *s == Service::TokenPurge));
}

#[test]
fn schedules_and_their_next_fire_times() {
    let db = TestDb::new();
    let s = builder(&db).register::<Noop>().start().unwrap();
    s.schedule("hourly", Noop, ScheduleSpec::cron("0 0 * * * *"))
        .unwrap();
    s.schedule("tick", Noop, ScheduleSpec::every(Duration::from_secs(60)))
        .unwrap();
    s.unschedule("tick").unwrap();
    let admin = s.admin();
    let live: Vec<String> = admin
        .schedules()
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(live, vec!["hourly".to_owned()]);
    assert_eq!(admin.tasks(true).unwrap().len(), 2);
    let times = admin.next_fire_times("hourly", 3).unwrap();
    assert_eq!(times.len(), 3);
    for pair in times.windows(2) {
        assert_eq!(pair[1] - pair[0], time::Duration::hours(1));
    }
    assert!(times.iter().all(|t| t.minute() == 0 && t.second() == 0));
    let deleted = admin
        .tasks(true)
        .unwrap()
        .into_iter()
        .find(|t| t.name == "tick")
        .unwrap();
    assert!(admin.fire_times(&deleted, 3).unwrap().is_empty());
    assert!(matches!(
        admin.next_fire_times("tick", 1),
        Err(Error::TaskNameNotFound(_))
    ));
    assert!(matches!(
        admin.next_fire_times("hourly", runloom::schedule::MAX_FIRE_TIMES + 1),
        Err(Error::InvalidArgument { .. })
    ));
    s.shutdown(Duration::from_secs(5)).unwrap();
}
