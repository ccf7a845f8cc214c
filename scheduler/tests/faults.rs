//! Faults: a full disk, a damaged or read-only file, and a wall clock that jumps. Each
//! ends in a typed error and nothing lost, or in no double execution.

mod common;

use std::{fs, sync::Arc, time::Duration};

use common::{
    T0, TestDb, builder,
    jobs::{Deep, Double, Gate, Noop, attempts_of, open_gate},
    wait_event, wait_for,
};
use runloom::{
    Error, Event, Job, JobContext, JobError, MaintenanceConfig, ManualClock, Perform, RunStatus,
    ScheduleSpec, Scheduler,
    store::{NewRun, RunFilter, Store, StoreOptions},
};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(20);

#[derive(Serialize, Deserialize)]
struct Blob {
    data: String,
}

impl Job for Blob {
    const NAME: &'static str = "blob";
}

impl Perform for Blob {
    type Output = usize;
    fn perform(&self, _: &JobContext) -> Result<usize, JobError> {
        Ok(self.data.len())
    }
}

#[test]
fn a_full_disk_refuses_enqueues_with_a_typed_error_and_recovers_without_losing_a_run() {
    let db = TestDb::new();
    let s = builder(&db)
        .max_database_size(256 * 1024)
        .register::<Blob>()
        .start()
        .unwrap();
    let mut enqueued = Vec::new();
    let err = loop {
        match s.enqueue(Blob {
            data: "x".repeat(2000),
        }) {
            Ok(r) => enqueued.push(r.id),
            Err(e) => break e,
        }
        assert!(enqueued.len() < 10_000, "the size limit never bit");
    };
    assert!(err.is_disk_full(), "{err:?}");
    assert!(!enqueued.is_empty());
    // The refused enqueue wrote nothing.
    let total = s.stats().unwrap().counts.total();
    assert_eq!(total, enqueued.len() as u64);
    // A batch is refused whole.
    let mut batch = s.batch();
    for _ in 0..20 {
        batch
            .add(Blob {
                data: "y".repeat(2000),
            })
            .unwrap();
    }
    assert!(batch.submit().unwrap_err().is_disk_full());
    assert_eq!(s.stats().unwrap().counts.total(), total);

    // Space returns (the operator raises the quota): every run completes, new work goes
    // through, and the scheduler never stopped.
    s.store().set_max_size(None).unwrap();
    for id in &enqueued {
        assert_eq!(s.wait(*id, WAIT).unwrap().status, RunStatus::Completed);
    }
    let late = s.enqueue(Blob { data: "z".into() }).unwrap().id;
    assert_eq!(s.wait(late, WAIT).unwrap().status, RunStatus::Completed);
    assert_eq!(
        s.stats().unwrap().counts.completed,
        enqueued.len() as u64 + 1
    );
}

#[test]
fn space_freed_by_retention_lets_writes_through_again() {
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new(T0));
    let s = builder(&db)
        .clock(clock.clone())
        .max_database_size(192 * 1024)
        .maintenance(
            MaintenanceConfig::default()
                .enabled(false)
                .keep_completed(Duration::from_secs(60)),
        )
        .register::<Blob>()
        .start()
        .unwrap();
    let mut done = 0;
    loop {
        match s.enqueue(Blob {
            data: "x".repeat(2000),
        }) {
            Ok(r) => {
                assert!(s.wait(r.id, WAIT).is_ok());
                done += 1;
            }
            Err(e) => {
                assert!(e.is_disk_full(), "{e:?}");
                break;
            }
        }
        assert!(done < 10_000);
    }
    clock.advance(Duration::from_secs(120));
    let report = s
        .run_maintenance(Some(runloom::Service::RunRetention))
        .unwrap();
    assert!(report.passes[0].counts.retention().unwrap().removed() > 0);
    s.enqueue(Blob {
        data: "x".repeat(2000),
    })
    .unwrap();
}

/// A database file with some runs, closed.
fn populated(db: &TestDb) {
    let store = db.open();
    let runs: Vec<NewRun> = (0..3000)
        .map(|i| {
            NewRun::new(
                "noop",
                format!(r#"{{"n":{i},"pad":"{}"}}"#, "p".repeat(100)),
                T0,
            )
        })
        .collect();
    store.write(|tx| tx.insert_runs(&runs, T0)).unwrap();
}

fn overwrite(path: &std::path::Path, offset: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
}

#[test]
fn damage_to_the_schema_is_refused_at_open() {
    let db = TestDb::new();
    populated(&db);
    // Page 1 holds the schema table after the 100-byte header.
    overwrite(&db.path, 100, &[0xAB; 400]);
    let before = fs::read(&db.path).unwrap();
    let err = Store::open(db.options()).unwrap_err();
    assert!(err.is_corrupt(), "{err:?}");
    assert!(!err.to_string().is_empty());
    assert_eq!(
        fs::read(&db.path).unwrap(),
        before,
        "the refused open changed nothing"
    );
}

#[test]
fn damage_to_a_data_page_is_found_by_the_check_and_never_read_silently() {
    let db = TestDb::new();
    populated(&db);
    let len = fs::metadata(&db.path).unwrap().len();
    let page = 4096;
    let middle = (len / page / 2) * page;
    overwrite(&db.path, middle, &vec![0xCD; page as usize]);

    // The opt-in full check refuses it at open, naming the damage.
    match Store::open(db.options().verify_integrity(true)).unwrap_err() {
        Error::Corrupt { detail, .. } => assert!(!detail.is_empty()),
        other => panic!("{other:?}"),
    }
    // Without it, the file opens; the check reports the damage, and reading the damaged
    // rows is an error, never wrong data.
    let store = Store::open(db.options()).unwrap();
    // The check lists the problems, or fails as corrupt when the damage hides them.
    match store.integrity_check() {
        Ok(problems) => assert!(!problems.is_empty()),
        Err(e) => assert!(e.is_corrupt(), "{e:?}"),
    }
    let err = store
        .read(|tx| tx.list_runs(&RunFilter::new().limit(10_000)))
        .unwrap_err();
    assert!(err.is_corrupt(), "{err:?}");
}

/// Makes the file read-only in a way that holds for this process: permissions, and when
/// running as root (which ignores them) the immutable attribute. Returns false when the
/// environment allows neither.
fn make_read_only(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o444)).unwrap();
    if fs::OpenOptions::new().write(true).open(path).is_err() {
        return true;
    }
    let ok = std::process::Command::new("chattr")
        .arg("+i")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    ok && fs::OpenOptions::new().write(true).open(path).is_err()
}

fn undo_read_only(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(path)
        .status();
    let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
}

#[test]
fn a_read_only_file_is_refused_at_open_with_a_clear_error() {
    let db = TestDb::new();
    drop(db.open());
    if !make_read_only(&db.path) {
        undo_read_only(&db.path);
        eprintln!("cannot make a file read-only for this user here: read-only test skipped");
        return;
    }
    let before = fs::read(&db.path).unwrap();
    let err = Store::open(db.options()).map(|_| ()).unwrap_err();
    let readable = fs::read(&db.path).unwrap();
    undo_read_only(&db.path);
    assert!(matches!(err, Error::ReadOnly(_)), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(readable, before);
}

#[test]
fn a_wall_clock_jumping_forward_does_not_take_a_live_run_from_its_worker() {
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new(T0));
    let s = builder(&db)
        .clock(clock.clone())
        .lease_duration(Duration::from_secs(10))
        .heartbeat_interval(Duration::from_millis(100))
        .maintenance(
            MaintenanceConfig::default()
                .lease_rescue_interval(Duration::from_millis(10))
                .worker_check_interval(Duration::from_millis(10))
                .stale_worker_after(Duration::from_secs(1)),
        )
        .register::<Gate>()
        .start()
        .unwrap();
    let events = s.subscribe(64);
    let gate = "clock-forward";
    let id = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: true,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    // An hour passes on the wall clock at once: every lease and heartbeat looks stale.
    clock.advance(Duration::from_secs(3600));
    // Many maintenance ticks and heartbeats go by.
    assert!(
        wait_event(&events, Duration::from_millis(800), |e| matches!(
            e,
            Event::LeaseLost { .. }
        ))
        .is_none()
    );
    let run = s.run(id).unwrap();
    assert_eq!(
        (run.status, run.attempt),
        (RunStatus::Running, 1),
        "the live run stayed with its worker"
    );
    assert!(run.errors.is_empty());
    open_gate(gate);
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
    assert_eq!(attempts_of(&format!("{gate}:started")), 1, "executed once");
}

#[test]
fn a_wall_clock_jumping_back_neither_expires_leases_nor_fires_cron_twice() {
    let db = TestDb::new();
    let t0 = time::macros::datetime!(2026-06-01 12:00:00 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let s = builder(&db)
        .clock(clock.clone())
        .maintenance(MaintenanceConfig::default().lease_rescue_interval(Duration::from_millis(10)))
        .register::<Noop>()
        .register::<Gate>()
        .start()
        .unwrap();
    let task = s
        .schedule("tick", Noop, ScheduleSpec::cron("*/10 * * * * *"))
        .unwrap();
    let occurrences = |s: &Scheduler| s.runs(&RunFilter::new().task(task.id)).unwrap().len();
    for i in 1..=3u64 {
        clock.set(t0 + Duration::from_secs(10 * i));
        s.notify();
        assert!(wait_for(WAIT, || occurrences(&s) as u64 > i));
    }
    let gate = "clock-back";
    let id = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: true,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    // The clock goes back half a minute and runs forward again over the same seconds.
    clock.set(t0);
    for i in 0..=3u64 {
        clock.set(t0 + Duration::from_secs(10 * i));
        s.notify();
        std::thread::sleep(Duration::from_millis(30)); // let the dispatcher look at each second
    }
    let times: Vec<_> = s
        .runs(&RunFilter::new().task(task.id))
        .unwrap()
        .iter()
        .map(|r| r.scheduled_at)
        .collect();
    let mut unique = times.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        times.len(),
        "an occurrence fired twice: {times:?}"
    );
    let run = s.run(id).unwrap();
    assert_eq!((run.status, run.attempt), (RunStatus::Running, 1));
    open_gate(gate);
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
    let _ = StoreOptions::memory();
}

#[test]
fn an_enqueue_into_a_database_locked_past_the_busy_timeout_is_a_typed_error() {
    let db = TestDb::new();
    let s = builder(&db)
        .busy_timeout(Duration::from_millis(50))
        .register::<Noop>()
        .start()
        .unwrap();
    let holder = db.raw();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = s.enqueue(Noop).unwrap_err();
    assert!(err.is_busy(), "{err:?}");
    let err = s
        .schedule("busy", Noop, ScheduleSpec::cron("0 * * * *"))
        .unwrap_err();
    assert!(err.is_busy(), "{err:?}");
    holder.execute_batch("ROLLBACK").unwrap();
    // Nothing was written, and the scheduler goes on.
    assert_eq!(s.stats().unwrap().counts.total(), 0);
    assert!(s.schedules().unwrap().is_empty());
    let id = s.enqueue(Noop).unwrap().id;
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
}

#[test]
fn an_outcome_the_database_refuses_fails_its_attempt_and_the_others_are_written() {
    let db = TestDb::new();
    let s = builder(&db)
        .worker_threads(2)
        .register::<Deep>()
        .register::<Double>()
        .start()
        .unwrap();
    // Its result nests deeper than SQLite's JSON accepts: the write of that outcome is
    // refused for good, every time it is tried.
    let poison = s.enqueue(Deep { depth: 1_100 }).unwrap().id;
    let first: Vec<_> = (0..20)
        .map(|i| s.enqueue(Double { value: i }).unwrap().id)
        .collect();
    assert!(
        s.wait(poison, WAIT)
            .is_ok_and(|r| r.status == RunStatus::Failed),
        "the refused outcome stalled the scheduler: {:?}",
        s.run(poison).unwrap()
    );
    let run = s.run(poison).unwrap();
    assert_eq!(run.attempt, 2, "each attempt failed, then the run");
    for e in &run.errors {
        assert!(
            e.message.contains("could not be stored"),
            "the error names the refusal: {e:?}"
        );
    }
    // Everything else was written, and the scheduler goes on.
    let later: Vec<_> = (0..20)
        .map(|i| s.enqueue(Double { value: i }).unwrap().id)
        .collect();
    for id in first.iter().chain(&later) {
        assert_eq!(s.wait(*id, WAIT).unwrap().status, RunStatus::Completed);
    }
    // A plain depth is stored as usual.
    let fine = s.enqueue(Deep { depth: 10 }).unwrap().id;
    assert_eq!(s.wait(fine, WAIT).unwrap().status, RunStatus::Completed);
}
