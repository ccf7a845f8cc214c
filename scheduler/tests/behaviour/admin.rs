//! The operator's handle, `Admin`, on any backend: each of its reads and actions beside
//! a running scheduler or with none, checked through the public API only.

use crate::common::backend::TestBackend;

use std::time::Duration;

use crate::common::{
    jobs::{Decides, Double, Gate, Noop, open_gate},
    wait_for,
};
use runloom::{
    Admin, CancelOutcome, EnqueueOptions, Error, NewDependency, RunFilter, RunId, RunStatus,
    ScheduleSpec, Service, UPSTREAM_FAILED,
};

const WAIT: Duration = Duration::from_secs(20);

fn wait_status(admin: &Admin, id: RunId, status: RunStatus) {
    if status.is_finished() {
        // A finished status is final until someone acts on the run: wait for it.
        let run = admin.wait(id, WAIT).unwrap();
        assert_eq!(run.status, status, "run {id} finished {}", run.status);
        return;
    }
    assert!(
        wait_for(WAIT, || admin.run(id).unwrap().status == status),
        "run {id} did not become {status}: it is {}",
        admin.run(id).unwrap().status
    );
}

pub(crate) fn run_details_show_the_lease_the_worker_and_the_dependencies(db: &dyn TestBackend) {
    let s = db
        .builder()
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
    let admin = db.admin();
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

pub(crate) fn cancel_writes_the_cascade_before_it_returns(db: &dyn TestBackend) {
    let s = db.builder().register::<Double>().start().unwrap();
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
    let admin = db.admin();
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

pub(crate) fn retry_where_puts_upstreams_back_before_the_runs_waiting_for_them(
    db: &dyn TestBackend,
) {
    let s = db
        .builder()
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

    let admin = db.admin();
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

pub(crate) fn retry_where_reports_each_refusal_and_goes_on(db: &dyn TestBackend) {
    let s = db.builder().register::<Decides>().start().unwrap();
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

pub(crate) fn pause_resume_enqueue_and_figures_without_a_scheduler(db: &dyn TestBackend) {
    let s = db.builder().register::<Double>().start().unwrap();
    let done = s.enqueue(Double { value: 4 }).unwrap().id;
    wait_status(s.admin(), done, RunStatus::Completed);
    s.shutdown(Duration::from_secs(5)).unwrap();

    let admin = db.admin();
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

pub(crate) fn schedules_and_their_next_fire_times(db: &dyn TestBackend) {
    let s = db.builder().register::<Noop>().start().unwrap();
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
