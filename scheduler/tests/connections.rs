//! Connection settings, file permissions and the in-memory mode.

mod common;

use std::time::Duration;

use common::{T0, TestDb};
use runloom::{
    Error,
    store::{NewRun, RunStatus, Store, StoreOptions, Synchronous},
};

fn pragma(conn: &rusqlite::Connection, name: &str) -> String {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| {
        r.get::<_, rusqlite::types::Value>(0)
    })
    .map(|v| match v {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(t) => t,
        other => format!("{other:?}"),
    })
    .unwrap()
}

#[test]
fn a_file_database_is_in_wal_mode_with_foreign_keys_and_a_busy_timeout() {
    let db = TestDb::new();
    let store = db.open();
    let d = store.diagnostics().unwrap();
    assert_eq!(d.journal_mode, "wal");
    assert!(d.foreign_keys);
    assert_eq!(d.busy_timeout_ms, 5000);
    assert_eq!(pragma(&db.raw(), "journal_mode"), "wal");
    // Foreign keys are enforced: a run naming a task that does not exist is refused.
    let mut run = NewRun::new("t", "{}", T0);
    run.task_id = Some(runloom::store::TaskId::new(42));
    let err = store.write(|tx| tx.insert_run(&run, T0)).unwrap_err();
    // The cause is the error's source, printed once by its report, not in its message.
    let report = err.report().to_string();
    assert_eq!(report.matches("FOREIGN KEY").count(), 1, "{report}");
    assert!(!err.to_string().contains("FOREIGN KEY"), "{err}");
    let source = std::error::Error::source(&err).expect("the database error is the source");
    assert!(source.to_string().contains("FOREIGN KEY"), "{source}");
    assert_eq!(
        store.read(|tx| tx.count_runs_by_status()).unwrap().total(),
        0
    );
}

#[cfg(unix)]
#[test]
fn the_database_and_its_wal_files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::new();
    let store = db.open();
    store
        .write(|tx| tx.insert_run(&NewRun::new("t", "{}", T0), T0))
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.path.as_os_str().to_owned();
        p.push(suffix);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{suffix:?} has mode {mode:o}");
    }
}

#[test]
fn synchronous_is_normal_by_default_and_full_on_request() {
    let db = TestDb::new();
    let store = db.open();
    assert_eq!(
        store.diagnostics().unwrap().synchronous,
        Synchronous::Normal
    );
    drop(store);
    let store = Store::open(db.options().synchronous(Synchronous::Full)).unwrap();
    assert_eq!(store.diagnostics().unwrap().synchronous, Synchronous::Full);
    // The setting is per connection; the store's writes still work under FULL.
    store
        .write(|tx| tx.insert_run(&NewRun::new("t", "{}", T0), T0))
        .unwrap();
}

#[test]
fn a_write_waits_for_another_connections_lock_then_reports_busy() {
    let db = TestDb::new();
    let store = Store::open(db.options().busy_timeout(Duration::from_millis(100))).unwrap();
    let holder = db.raw();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = store
        .write(|tx| tx.insert_run(&NewRun::new("t", "{}", T0), T0))
        .unwrap_err();
    assert!(err.is_busy(), "{err:?}");
    holder.execute_batch("ROLLBACK").unwrap();
    // Nothing was written by the refused transaction, and the store recovers.
    let counts = store.read(|tx| tx.count_runs_by_status()).unwrap();
    assert_eq!(counts.total(), 0);
    store
        .write(|tx| tx.insert_run(&NewRun::new("t", "{}", T0), T0))
        .unwrap();
}

#[test]
fn readers_see_committed_writes() {
    let db = TestDb::new();
    let store = db.open();
    let id = store
        .write(|tx| tx.insert_run(&NewRun::new("t", "{}", T0), T0))
        .unwrap()
        .id;
    let status = store.read(|tx| tx.run_status(id)).unwrap();
    assert_eq!(status, RunStatus::Pending);
}

#[test]
fn a_failing_write_closure_rolls_everything_back() {
    let db = TestDb::new();
    let store = db.open();
    let err = store
        .write(|tx| {
            tx.insert_run(&NewRun::new("t", "{}", T0), T0)?;
            tx.insert_run(&NewRun::new("t", "{}", T0), T0)?;
            Err::<(), _>(Error::invalid_for_test())
        })
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
    assert_eq!(
        store.read(|tx| tx.count_runs_by_status()).unwrap().total(),
        0
    );
}

#[test]
fn the_in_memory_mode_is_shared_by_the_pool_and_private_to_the_store() {
    let a = Store::open(StoreOptions::memory()).unwrap();
    let b = Store::open(StoreOptions::memory()).unwrap();
    let id = a
        .write(|tx| tx.insert_run(&NewRun::new("t", "{}", T0), T0))
        .unwrap()
        .id;
    // Readers of the pool, on other threads, see the writer's commit.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let a = a.clone();
            std::thread::spawn(move || a.read(|tx| tx.get_run(id)).unwrap().status)
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), RunStatus::Pending);
    }
    assert_eq!(b.read(|tx| tx.count_runs_by_status()).unwrap().total(), 0);
}

trait ForTest {
    fn invalid_for_test() -> Self;
}

impl ForTest for Error {
    fn invalid_for_test() -> Self {
        // Any typed error will do: the closure's error must roll the inserts back.
        Error::InvalidArgument {
            name: "test",
            reason: "forced".into(),
        }
    }
}
