//! The maintenance thread and on-demand passes: token purge, retention (archive and
//! delete) in bounded batches, the record of each pass, and leadership between two
//! schedulers on one file.

mod common;

use std::{sync::Arc, time::Duration};

use common::{T0, TestDb, builder, jobs::Double, wait_for};
use runloom::{
    MaintenanceConfig, ManualClock, RunFilter, RunId, RunStatus, Scheduler, Service,
    store::{ArchiveMode, WorkerId},
};

const WAIT: Duration = Duration::from_secs(15);

fn purged(r: &runloom::MaintenanceReport) -> u64 {
    let pass = r.pass(Service::TokenPurge).expect("the token purge ran");
    pass.counts.token_purge().expect("token counts").purged
}

fn retention(r: &runloom::MaintenanceReport) -> runloom::maintenance::RetentionCounts {
    let pass = r.pass(Service::RunRetention).expect("the retention ran");
    pass.counts.retention().expect("retention counts")
}

fn leader(s: &Scheduler) -> Option<WorkerId> {
    let v = s
        .store()
        .read(|tx| tx.get_state("maintenance.leader"))
        .unwrap()?;
    let v: serde_json::Value = serde_json::from_str(&v).ok()?;
    v.get("worker")?.as_i64().map(WorkerId::new)
}

#[test]
fn revoked_tokens_are_kept_until_expiry_plus_leeway_then_purged() {
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new(T0));
    let s = builder(&db)
        .clock(clock.clone())
        // Passes on demand only, so none races the ones under test.
        .maintenance(
            MaintenanceConfig::default()
                .enabled(false)
                .token_leeway(Duration::from_secs(60)),
        )
        .start()
        .unwrap();
    s.revoke_token("jti-abc", T0 + Duration::from_secs(600))
        .unwrap();
    assert!(s.is_token_revoked("jti-abc").unwrap());
    assert!(!s.is_token_revoked("jti-other").unwrap());
    // At expiry, and within the leeway: still revoked, whatever maintenance does.
    for after in [600, 630] {
        clock.set(T0 + Duration::from_secs(after));
        let r = s.run_maintenance(Some(Service::TokenPurge)).unwrap();
        assert_eq!(purged(&r), 0);
        assert!(s.is_token_revoked("jti-abc").unwrap());
    }
    clock.set(T0 + Duration::from_secs(661));
    let r = s.run_maintenance(Some(Service::TokenPurge)).unwrap();
    assert_eq!(purged(&r), 1);
    assert!(!s.is_token_revoked("jti-abc").unwrap());
    assert!(matches!(
        s.revoke_token("", T0),
        Err(runloom::Error::InvalidArgument { .. })
    ));
}

fn finished_runs(db: &TestDb, mode: ArchiveMode) -> (Scheduler, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let s = builder(db)
        .clock(clock.clone())
        .maintenance(
            MaintenanceConfig::default()
                .enabled(false)
                .keep_completed(Duration::from_secs(3600))
                .keep_failed(Duration::from_secs(7200))
                .archive_mode(mode)
                .batch_size(7)
                .batch_pause(Duration::from_millis(1)),
        )
        .register::<Double>()
        .start()
        .unwrap();
    let ids = s
        .enqueue_many((0..20).map(|value| Double { value }))
        .unwrap();
    for i in &ids {
        assert_eq!(s.wait(i.id, WAIT).unwrap().status, RunStatus::Completed);
    }
    (s, clock)
}

#[test]
fn retention_deletes_old_finished_runs_in_bounded_batches() {
    let db = TestDb::new();
    let (s, clock) = finished_runs(&db, ArchiveMode::Delete);
    // Not old enough yet.
    clock.advance(Duration::from_secs(3000));
    let r = s.run_maintenance(Some(Service::RunRetention)).unwrap();
    assert_eq!(retention(&r).removed(), 0);
    assert_eq!(s.stats().unwrap().counts.completed, 20);
    clock.advance(Duration::from_secs(700));
    let r = s.run_maintenance(Some(Service::RunRetention)).unwrap();
    let pass = r.pass(Service::RunRetention).unwrap();
    // The newest run stays (it keeps run ids from being reused): 19 of the 20 go.
    let c = pass.counts.retention().unwrap();
    assert_eq!(
        (c.completed, c.removed(), c.mode),
        (19, 19, ArchiveMode::Delete)
    );
    // 19 runs in batches of 7: 7, 7, 5 for completed, plus one empty batch each for
    // failed and cancelled.
    assert_eq!(pass.batches, 5);
    assert_eq!(s.stats().unwrap().counts.completed, 1);
    let archived: i64 = db
        .raw()
        .query_row("SELECT count(*) FROM task_runs_archive", [], |r| r.get(0))
        .unwrap();
    assert_eq!(archived, 0);
    // The pass is recorded for operators.
    let history = s.maintenance_history().unwrap();
    let (_, json) = history
        .iter()
        .find(|(svc, _)| *svc == Service::RunRetention)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["service"], "runs");
    assert_eq!(v["counts"]["deleted"], 19);
    assert_eq!(v["batches"], 5);
}

#[test]
fn run_ids_are_never_reused_after_retention() {
    let db = TestDb::new();
    let (s, clock) = finished_runs(&db, ArchiveMode::Archive);
    let newest = s.runs(&RunFilter::new().limit(100)).unwrap()[0].id;
    clock.advance(Duration::from_secs(4000));
    s.run_maintenance(Some(Service::RunRetention)).unwrap();
    let left: Vec<RunId> = s
        .runs(&RunFilter::new())
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, vec![newest], "retention keeps the newest run");
    // So the next run gets a new id, never one of the archived runs'.
    let next = s.enqueue(Double { value: 1 }).unwrap().id;
    assert!(next > newest, "{next} after {newest}");
    // A hand-made delete of the newest run is refused, and deletes nothing.
    let conn = db.raw();
    let err = conn
        .execute("DELETE FROM task_runs WHERE id = ?1", [next])
        .unwrap_err();
    assert!(err.to_string().contains("newest run"), "{err}");
    assert_eq!(s.run(next).unwrap().id, next);
    // Once a newer run exists, it can go.
    assert_eq!(s.wait(next, WAIT).unwrap().status, RunStatus::Completed);
    conn.execute("DELETE FROM task_runs WHERE id = ?1", [newest])
        .unwrap();
}

#[test]
fn retention_can_archive_instead() {
    let db = TestDb::new();
    let (s, clock) = finished_runs(&db, ArchiveMode::Archive);
    clock.advance(Duration::from_secs(4000));
    let r = s.run_maintenance(None).unwrap();
    assert_eq!(r.passes.len(), 4, "every service ran");
    let c = retention(&r);
    assert_eq!((c.removed(), c.mode), (19, ArchiveMode::Archive));
    let archived: i64 = db
        .raw()
        .query_row(
            "SELECT count(*) FROM task_runs_archive WHERE status = 'completed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(archived, 19);
}

#[test]
fn the_thread_runs_each_service_on_its_interval_and_records_it() {
    let db = TestDb::new();
    let quick = Duration::from_millis(30);
    let s = builder(&db)
        .maintenance(
            MaintenanceConfig::default()
                .lease_rescue_interval(quick)
                .worker_check_interval(quick)
                .token_purge_interval(quick)
                .retention_interval(quick),
        )
        .start()
        .unwrap();
    assert!(wait_for(WAIT, || s.maintenance_history().unwrap().len() == 4));
    assert_eq!(leader(&s), Some(s.worker_id()));
    let first = s.maintenance_history().unwrap();
    // Passes keep coming: each record is replaced by a later one.
    assert!(wait_for(WAIT, || {
        let now = s.maintenance_history().unwrap();
        now.iter().zip(&first).all(|(a, b)| a.1 != b.1)
    }));
}

#[test]
fn one_scheduler_leads_maintenance_and_another_takes_over_when_it_stops() {
    let db = TestDb::new();
    let config = MaintenanceConfig::default()
        .lease_rescue_interval(Duration::from_millis(20))
        .leader_lease(Some(Duration::from_millis(300)));
    let a = builder(&db).maintenance(config.clone()).start().unwrap();
    assert!(wait_for(WAIT, || leader(&a) == Some(a.worker_id())));
    let b = builder(&db).maintenance(config).start().unwrap();
    // b keeps trying; while a renews, the lead stays with a.
    assert!(!wait_for(Duration::from_millis(600), || leader(&b)
        == Some(b.worker_id())));
    a.shutdown(Duration::from_secs(5)).unwrap();
    assert!(wait_for(WAIT, || leader(&b) == Some(b.worker_id())));
}

#[test]
fn a_pass_runs_on_a_bare_store_and_the_views_read_as_rows() {
    let db = TestDb::new();
    let s = builder(&db).register::<Double>().start().unwrap();
    let ids = s
        .enqueue_many([Double { value: 2 }, Double { value: 3 }])
        .unwrap();
    for i in &ids {
        assert_eq!(s.wait(i.id, WAIT).unwrap().status, RunStatus::Completed);
    }
    // What hosts register is recorded for tools.
    let types = s.admin().job_types().unwrap();
    assert_eq!(types, vec!["double".to_owned()]);
    s.shutdown(Duration::from_secs(5)).unwrap();

    // A tool with only the file runs a pass and reads the operator views.
    let admin = runloom::Admin::builder(&db.path)
        .maintenance(MaintenanceConfig::default().keep_completed(Duration::ZERO))
        .open()
        .unwrap();
    let report = admin.run_maintenance(Some(Service::RunRetention)).unwrap();
    let pass = report.pass(Service::RunRetention).unwrap();
    // Both are past their retention; the newest is kept (run ids are never reused).
    assert_eq!(pass.counts.retention().unwrap().removed(), 1);
    let health = admin.health().unwrap();
    assert_eq!(health.pending, 0);
    assert_eq!(health.live_workers, 0, "the host shut down");
    let store = runloom::store::Store::open(db.options()).unwrap();
    let by_status = store
        .read(|tx| tx.read_view(runloom::store::View::RunsByStatus, 10))
        .unwrap();
    assert_eq!(by_status.len(), 6);
    for row in &by_status {
        let expected = if row["status"] == "completed" { 1 } else { 0 };
        assert_eq!(row["runs"], expected, "{row:?}");
    }
}
