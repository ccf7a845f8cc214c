//! Smaller defects, each once a panic, an untyped error, a silent stop or a late start:
//! huge fire-time counts, NUL bytes in names and keys, JSON nested past SQLite's limit,
//! a device as the database, unreadable cron written through the store, wake-ups with
//! foreign due runs pending, private folders, and `enqueue_tx` in a deferred
//! transaction.

mod common;

use std::time::{Duration, Instant};

use common::{
    T0, TestDb, builder,
    jobs::{Noop, Unregistered},
    wait_for,
};
use runloom::sqlite::SchedulerExt as _;
use runloom::{
    Clock, EnqueueOptions, Error, Job, RunStatus, ScheduleSpec, SystemClock,
    store::{NewRun, NewTask, Schedule, Store, StoreOptions},
};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn asking_for_a_huge_number_of_fire_times_is_refused_not_a_panic() {
    let db = TestDb::new();
    let s = builder(&db).register::<Noop>().start().unwrap();
    s.schedule("tick", Noop, ScheduleSpec::cron("* * * * * *"))
        .unwrap();
    let err = s.next_fire_times("tick", usize::MAX).unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { name: "n", .. }),
        "{err:?}"
    );
    assert_eq!(s.next_fire_times("tick", 3).unwrap().len(), 3);
    let most = s
        .next_fire_times("tick", runloom::schedule::MAX_FIRE_TIMES)
        .unwrap();
    assert_eq!(most.len(), runloom::schedule::MAX_FIRE_TIMES);
}

#[test]
fn a_nul_byte_in_a_unique_key_or_a_schedule_name_is_a_typed_refusal() {
    let db = TestDb::new();
    let s = builder(&db).register::<Noop>().start().unwrap();
    let err = s
        .enqueue_with(Noop, EnqueueOptions::new().unique_key("a\0b"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                name: "unique_key",
                ..
            }
        ),
        "{err:?}"
    );
    let err = s
        .schedule("night\0ly", Noop, ScheduleSpec::cron("0 0 2 * * *"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    let err = s.revoke_token("tok\0en", SystemClock.now()).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    assert_eq!(s.stats().unwrap().counts.total(), 0);
    assert!(s.schedules().unwrap().is_empty());
}

fn nested(depth: usize) -> String {
    format!("{}0{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn json_nested_past_the_database_limit_is_a_payload_error() {
    let db = TestDb::new();
    let s = builder(&db)
        .allow_foreign_job_types(true)
        .register::<Noop>()
        .start()
        .unwrap();
    // A job type this process does not register: only the JSON is checked.
    let err = s
        .enqueue_json(Unregistered::NAME, &nested(1_500), EnqueueOptions::new())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Payload { detail, .. } if detail.contains("levels deep")),
        "{err:?}"
    );
    // Strings holding brackets do not count as nesting.
    let brackets = serde_json::to_string(&"[".repeat(5_000)).unwrap();
    s.enqueue_json(Unregistered::NAME, &brackets, EnqueueOptions::new())
        .unwrap();
    s.enqueue_json(Unregistered::NAME, &nested(999), EnqueueOptions::new())
        .unwrap();
    // Through the store, the same check names the field.
    let err = s
        .store()
        .write(|tx| tx.insert_run(&NewRun::new("x", nested(1_001), T0), T0))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                name: "payload",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.stats().unwrap().counts.pending, 2);
}

#[cfg(unix)]
#[test]
fn a_device_is_not_a_database_and_nothing_is_created_beside_it() {
    let journal = std::path::Path::new("/dev/null-journal");
    let existed = journal.exists();
    let err = Store::open(StoreOptions::file("/dev/null")).unwrap_err();
    assert!(matches!(err, Error::NotADatabase(_)), "{err:?}");
    assert!(
        existed || !journal.exists(),
        "a journal was created in /dev"
    );
    assert!(!std::path::Path::new("/dev/null-wal").exists() || existed);
}

#[test]
fn a_task_with_an_unreadable_cron_or_zone_is_refused_by_the_store() {
    let db = TestDb::new();
    let store = db.open();
    let mut bad_cron = NewTask::new("t", "noop", "null");
    bad_cron.schedule = Schedule::Cron {
        expr: "every tuesday".into(),
        timezone: None,
    };
    let err = store.write(|tx| tx.create_task(&bad_cron, T0)).unwrap_err();
    assert!(matches!(err, Error::InvalidCron { .. }), "{err:?}");
    let mut bad_zone = NewTask::new("t", "noop", "null");
    bad_zone.schedule = Schedule::Cron {
        expr: "0 0 * * * *".into(),
        timezone: Some("Mars/Olympus_Mons".into()),
    };
    let err = store.write(|tx| tx.create_task(&bad_zone, T0)).unwrap_err();
    assert!(matches!(err, Error::UnknownTimeZone(_)), "{err:?}");
    assert!(store.read(|tx| tx.list_tasks(true)).unwrap().is_empty());
}

#[test]
fn a_delayed_run_starts_on_time_while_due_runs_of_other_job_types_wait() {
    let db = TestDb::new();
    let store = db.open();
    // A due run of a job type no process here runs.
    let now = SystemClock.now();
    store
        .write(|tx| tx.insert_run(&NewRun::new("elsewhere", "null", now), now))
        .unwrap();
    // A poll interval far longer than the delay: only the next-due wake-up can start
    // the delayed run on time.
    let s = builder(&db)
        .poll_interval(Duration::from_secs(30))
        .register::<Noop>()
        .start()
        .unwrap();
    let id = s
        .enqueue_with(
            Noop,
            EnqueueOptions::new().delay(Duration::from_millis(300)),
        )
        .unwrap()
        .id;
    let asked = Instant::now();
    assert!(
        wait_for(Duration::from_secs(10), || s.run(id).unwrap().status
            == RunStatus::Completed),
        "the delayed run waited for the poll interval"
    );
    assert!(asked.elapsed() < Duration::from_secs(10));
}

#[cfg(unix)]
#[test]
fn folders_the_library_creates_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("jobs.db");
    drop(Store::open(StoreOptions::file(&path)).unwrap());
    for folder in [dir.path().join("a"), dir.path().join("a").join("b")] {
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", folder.display());
    }
}

#[test]
fn enqueue_tx_takes_the_write_lock_of_a_deferred_transaction_or_says_why_it_cannot() {
    let db = TestDb::new();
    let s = builder(&db).register::<Noop>().start().unwrap();
    let mut conn = db.raw();
    // Deferred, nothing read yet: the lock is taken (waiting for another writer).
    let other = db.raw();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        other.execute_batch("COMMIT").unwrap();
    });
    let tx = conn.transaction().unwrap();
    let id = s.enqueue_tx(&tx, Noop, EnqueueOptions::new()).unwrap().id;
    tx.commit().unwrap();
    release.join().unwrap();
    s.notify();
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);

    // Deferred after a read: refused with the reason, nothing written.
    let tx = conn.transaction().unwrap();
    let _: i64 = tx
        .query_row("SELECT count(*) FROM task_runs", [], |r| r.get(0))
        .unwrap();
    let err = s.enqueue_tx(&tx, Noop, EnqueueOptions::new()).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument { name: "transaction", reason } if reason.contains("Immediate")),
        "{err:?}"
    );
    tx.commit().unwrap();
    assert_eq!(s.stats().unwrap().counts.total(), 1);

    // Immediate: as documented.
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    s.enqueue_tx(&tx, Noop, EnqueueOptions::new()).unwrap();
    tx.commit().unwrap();
    assert_eq!(s.stats().unwrap().counts.total(), 2);
}
