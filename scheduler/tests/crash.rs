//! Processes killed with SIGKILL in the middle of a write: during a large batch enqueue
//! and during a migration. The file must open cleanly afterwards, the batch be all or
//! nothing, and the schema never half-migrated. (A process killed mid-job while another
//! shares the file is in `processes.rs`.)

mod common;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use common::{T0, TestDb, wait_for};
use runloom::store::{Migration, Migrator, NewRun, Store, StoreOptions};

const ROLE: &str = "SCHEDULER_CRASH_CHILD";
const DB: &str = "SCHEDULER_CRASH_DB";
const MARK: &str = "SCHEDULER_CRASH_MARK";
const BATCH: usize = 300_000;

/// A migration list whose second step is slow enough to be killed in the middle.
fn slow_migrator() -> Migrator {
    Migrator::new(vec![
        Migration::new(
            1,
            "create_a",
            "CREATE TABLE a (x INTEGER);",
            "DROP TABLE a;",
        ),
        Migration::new(
            2,
            "fill_big",
            "CREATE TABLE big (x INTEGER, pad TEXT);
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000000)
             INSERT INTO big SELECT i, 'padding padding padding' FROM c;",
            "DROP TABLE big;",
        ),
    ])
    .unwrap()
}

/// What the child does, by role: a batch enqueue that marks its half-way point, or a
/// slow migration.
#[test]
#[ignore = "started as a child process by the crash tests"]
fn crash_child() {
    let (Ok(role), Ok(db)) = (std::env::var(ROLE), std::env::var(DB)) else {
        return;
    };
    let mark = std::env::var(MARK).unwrap();
    match role.as_str() {
        "batch" => {
            let store = Store::open(StoreOptions::file(&db)).unwrap();
            let run = NewRun::new("noop", r#"{"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"}"#, T0);
            store
                .write(|tx| {
                    for i in 0..BATCH {
                        tx.insert_run(&run, T0)?;
                        if i == BATCH / 5 {
                            // Inside the transaction, long before its commit.
                            std::fs::write(&mark, b"").unwrap();
                        }
                    }
                    Ok(())
                })
                .unwrap();
        }
        "migration" => {
            std::fs::write(&mark, b"").unwrap();
            Store::open_with_migrator(StoreOptions::file(&db), slow_migrator()).unwrap();
        }
        other => panic!("unknown role {other}"),
    }
}

fn spawn(role: &str, db: &TestDb, mark: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--quiet",
        ])
        .env(ROLE, role)
        .env(DB, &db.path)
        .env(MARK, mark)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn wal_len(db: &TestDb) -> u64 {
    let mut wal = db.path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(std::path::PathBuf::from(wal)).map_or(0, |m| m.len())
}

#[test]
fn a_process_killed_during_a_batch_enqueue_leaves_all_or_nothing() {
    let db = TestDb::new();
    drop(db.open()); // migrated beforehand: the child only enqueues
    let mark = db.dir.path().join("half-way");
    let mut child = spawn("batch", &db, &mark);
    assert!(
        wait_for(Duration::from_secs(60), || mark.exists()),
        "the child never got half-way"
    );
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child finished before it was killed");

    let store = Store::open(db.options()).unwrap();
    assert!(
        store.integrity_check().unwrap().is_empty(),
        "the file is sound"
    );
    let n = store.read(|tx| tx.count_runs_by_status()).unwrap().total();
    assert_eq!(n, 0, "killed before its commit, the batch left nothing");
    // And the database is usable: a new batch goes in whole.
    let runs: Vec<NewRun> = (0..1000).map(|_| NewRun::new("noop", "{}", T0)).collect();
    store.write(|tx| tx.insert_runs(&runs, T0)).unwrap();
    assert_eq!(
        store.read(|tx| tx.count_runs_by_status()).unwrap().total(),
        1000
    );
}

#[test]
fn a_process_killed_during_a_migration_never_leaves_a_half_migrated_schema() {
    let db = TestDb::new();
    let mark = db.dir.path().join("started");
    let mut child = spawn("migration", &db, &mark);
    // Killed while the second migration's insert fills the write-ahead log.
    assert!(wait_for(Duration::from_secs(60), || mark.exists()
        && wal_len(&db) > 8 << 20));
    child.kill().unwrap();
    assert!(
        !child.wait().unwrap().success(),
        "the migration finished before the kill"
    );

    // Opened without migrating: the first migration is there whole, the second not at
    // all: no table `big`, no record of version 2.
    let store =
        Store::open_with_migrator(StoreOptions::file(&db.path).migrate(false), slow_migrator())
            .unwrap();
    assert_eq!(store.schema_version().unwrap(), 1);
    let names: Vec<String> = store
        .schema_objects()
        .unwrap()
        .into_iter()
        .map(|o| o.1)
        .collect();
    assert!(names.contains(&"a".to_owned()));
    assert!(
        !names.contains(&"big".to_owned()),
        "half-migrated: {names:?}"
    );
    assert!(store.integrity_check().unwrap().is_empty());
    drop(store);
    // The next open finishes the work.
    let store = Store::open_with_migrator(StoreOptions::file(&db.path), slow_migrator()).unwrap();
    assert_eq!(store.schema_version().unwrap(), 2);
}
