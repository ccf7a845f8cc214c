//! The migration files and the embedded runner: round trips, status, targets, dry runs,
//! and every refusal (each proven to change nothing in the file).

mod common;

use std::{fs, process::Command};

use common::{TestDb, schema_of, snapshot};
use runloom::{
    Error,
    store::{Direction, Migration, MigrationState, Migrator, Store, StoreOptions},
};

/// The newest schema version this binary knows (`files.len()` is checked against it).
const LATEST: u32 = 9;

#[test]
fn the_files_are_the_embedded_migrations_in_order() {
    let files = common::migration_files("migrations");
    let embedded = Migrator::embedded();
    assert_eq!(files.len(), LATEST as usize);
    assert_eq!(embedded.migrations().len(), files.len());
    for (m, (name, up, down)) in embedded.migrations().iter().zip(&files) {
        assert_eq!(format!("{:04}_{}", m.version(), m.name()), *name);
        assert_eq!(m.up_sql(), up);
        assert_eq!(m.down_sql(), down);
    }
}

#[test]
fn up_down_up_round_trip_of_the_files_gives_the_same_schema() {
    let db = TestDb::new();
    let conn = db.raw();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    let files = common::migration_files("migrations");
    for (_, up, _) in &files {
        conn.execute_batch(up).unwrap();
    }
    let first = schema_of(&conn);
    assert!(
        first
            .iter()
            .any(|(t, n, _)| t == "table" && n == "task_runs")
    );
    for (_, _, down) in files.iter().rev() {
        conn.execute_batch(down).unwrap();
    }
    assert!(
        schema_of(&conn).is_empty(),
        "down files leave objects behind"
    );
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_sequence", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "dropping the tables clears their sequences");
    for (_, up, _) in &files {
        conn.execute_batch(up).unwrap();
    }
    assert_eq!(schema_of(&conn), first);
}

/// The files also run unchanged in the plain sqlite3 shell (when it is installed: the
/// test suite itself needs nothing but Rust).
#[test]
fn up_down_up_round_trip_in_the_sqlite3_shell() {
    if Command::new("sqlite3").arg("-version").output().is_err() {
        eprintln!("sqlite3 shell not installed: shell round trip skipped");
        return;
    }
    let db = TestDb::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/sql/migrations");
    let run = |file: &str| {
        let out = Command::new("sqlite3")
            .arg("-bail")
            .arg(&db.path)
            .arg(format!(".read {dir}/{file}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let names: Vec<String> = common::migration_files("migrations")
        .into_iter()
        .map(|f| f.0)
        .collect();
    for n in &names {
        run(&format!("{n}.up.sql"));
    }
    let first = schema_of(&db.raw());
    for n in names.iter().rev() {
        run(&format!("{n}.down.sql"));
    }
    assert!(schema_of(&db.raw()).is_empty());
    for n in &names {
        run(&format!("{n}.up.sql"));
    }
    assert_eq!(schema_of(&db.raw()), first);
}

#[test]
fn open_applies_every_migration_and_records_it() {
    let db = TestDb::new();
    let store = db.open();
    assert_eq!(store.schema_version().unwrap(), LATEST);
    let status = store.migration_status().unwrap();
    assert_eq!(status.len(), LATEST as usize);
    for s in &status {
        assert!(matches!(s.state, MigrationState::Applied { .. }), "{s:?}");
        assert_eq!(s.checksum.len(), 64);
    }
    let recorded: Vec<(i64, String)> = db
        .raw()
        .prepare("SELECT version, checksum FROM scheduler_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<(i64, String)> = Migrator::embedded()
        .migrations()
        .iter()
        .map(|m| (i64::from(m.version()), m.checksum()))
        .collect();
    assert_eq!(recorded, expected);
}

#[test]
fn opening_an_up_to_date_database_changes_nothing() {
    let db = TestDb::new();
    drop(db.open());
    let before = snapshot(&db.path);
    let store = db.open();
    assert_eq!(store.schema_version().unwrap(), LATEST);
    drop(store);
    assert_eq!(snapshot(&db.path), before);
}

#[test]
fn status_target_revert_and_dry_run() {
    let db = TestDb::new();
    let store = Store::open(db.options().migrate(false)).unwrap();
    assert_eq!(store.schema_version().unwrap(), 0);
    assert!(
        store
            .migration_status()
            .unwrap()
            .iter()
            .all(|s| s.state == MigrationState::Pending)
    );

    // A dry run reports and changes nothing.
    let before = schema_of(&db.raw());
    let plan = store.migrate_up(Some(2), true).unwrap();
    assert_eq!(
        plan.iter()
            .map(|s| (s.version, s.direction))
            .collect::<Vec<_>>(),
        vec![(1, Direction::Up), (2, Direction::Up)]
    );
    assert_eq!(schema_of(&db.raw()), before);
    assert_eq!(store.schema_version().unwrap(), 0);

    let done = store.migrate_up(Some(2), false).unwrap();
    assert_eq!(done.len(), 2);
    assert_eq!(store.schema_version().unwrap(), 2);
    let status = store.migration_status().unwrap();
    assert!(matches!(status[1].state, MigrationState::Applied { .. }));
    assert_eq!(status[2].state, MigrationState::Pending);

    // Up to a version below the current one is refused with a reason.
    assert!(matches!(
        store.migrate_up(Some(1), false),
        Err(Error::InvalidMigrationTarget { target: 1, .. })
    ));
    assert!(matches!(
        store.migrate_up(Some(LATEST + 1), false),
        Err(Error::InvalidMigrationTarget { target, .. }) if target == LATEST + 1
    ));

    store.migrate_up(None, false).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST);

    let plan = store.migrate_down(1, true).unwrap();
    assert_eq!(
        plan.iter().map(|s| s.version).collect::<Vec<_>>(),
        vec![9, 8, 7, 6, 5, 4, 3, 2]
    );
    assert!(plan.iter().all(|s| s.direction == Direction::Down));
    assert_eq!(store.schema_version().unwrap(), LATEST);
    store.migrate_down(1, false).unwrap();
    assert_eq!(store.schema_version().unwrap(), 1);
    assert!(matches!(
        store.migrate_down(3, false),
        Err(Error::InvalidMigrationTarget { target: 3, .. })
    ));
    store.migrate_down(0, false).unwrap();
    assert_eq!(store.schema_version().unwrap(), 0);
    let left: Vec<String> = schema_of(&db.raw()).into_iter().map(|o| o.1).collect();
    assert_eq!(left, vec!["scheduler_migrations".to_owned()]);
}

#[test]
fn revert_to_zero_then_up_gives_the_same_schema_as_the_first_time() {
    let db = TestDb::new();
    let store = db.open();
    let first = schema_of(&db.raw());
    store.migrate_down(0, false).unwrap();
    store.migrate_up(None, false).unwrap();
    assert_eq!(schema_of(&db.raw()), first);
}

/// Opens once, lets `tamper` change the file through a plain connection, then proves the
/// next open is refused with `expected` and leaves the file byte for byte as it was.
fn assert_refused(tamper: impl FnOnce(&rusqlite::Connection), expected: impl Fn(&Error) -> bool) {
    let db = TestDb::new();
    drop(db.open());
    {
        let conn = db.raw();
        tamper(&conn);
    }
    let before = snapshot(&db.path);
    let err = Store::open(db.options()).unwrap_err();
    assert!(expected(&err), "unexpected error: {err:?}");
    assert!(!err.to_string().is_empty());
    assert_eq!(
        snapshot(&db.path),
        before,
        "a refused open changed the file"
    );
}

#[test]
fn refuses_a_checksum_mismatch() {
    assert_refused(
        |c| {
            c.execute(
                "UPDATE scheduler_migrations SET checksum = ? WHERE version = 2",
                ["0".repeat(64)],
            )
            .unwrap();
        },
        |e| matches!(e, Error::ChecksumMismatch { version: 2, found, .. } if *found == "0".repeat(64)),
    );
}

#[test]
fn refuses_a_newer_schema() {
    assert_refused(
        |c| {
            c.execute(
                "INSERT INTO scheduler_migrations VALUES (99, 'from_the_future', ?, 0, 0)",
                ["f".repeat(64)],
            )
            .unwrap();
        },
        |e| {
            matches!(
                e,
                Error::SchemaTooNew {
                    database: 99,
                    binary: LATEST
                }
            )
        },
    );
}

#[test]
fn refuses_a_gap_in_the_history() {
    assert_refused(
        |c| {
            c.execute("DELETE FROM scheduler_migrations WHERE version = 2", [])
                .unwrap();
        },
        |e| matches!(e, Error::MigrationHistory { version: 3, .. }),
    );
}

#[test]
fn refuses_a_file_that_is_not_a_database() {
    let db = TestDb::new();
    let garbage = b"this is a text file, not a database; it is long enough to hold a header of one hundred bytes........";
    fs::write(&db.path, garbage).unwrap();
    let err = Store::open(db.options()).unwrap_err();
    assert!(matches!(err, Error::NotADatabase(_)), "{err:?}");
    assert_eq!(fs::read(&db.path).unwrap(), garbage);

    fs::write(&db.path, b"short").unwrap();
    assert!(matches!(
        Store::open(db.options()).unwrap_err(),
        Error::NotADatabase(_)
    ));
    assert_eq!(fs::read(&db.path).unwrap(), b"short");
}

#[test]
fn refuses_a_folder_as_database() {
    let db = TestDb::new();
    fs::create_dir(&db.path).unwrap();
    assert!(matches!(
        Store::open(db.options()).unwrap_err(),
        Error::NotADatabase(_)
    ));
}

#[test]
fn refuses_a_truncated_database() {
    let db = TestDb::new();
    drop(db.open());
    let bytes = fs::read(&db.path).unwrap();
    assert!(bytes.len() > 8192);
    let cut = &bytes[..bytes.len() / 2];
    fs::write(&db.path, cut).unwrap();
    let err = Store::open(db.options()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("truncated"));
    assert_eq!(fs::read(&db.path).unwrap(), cut);
}

#[test]
fn the_tables_go_beside_the_applications_own_and_leave_them_alone() {
    let db = TestDb::new();
    {
        let c = db.raw();
        c.execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
             CREATE INDEX customers_name ON customers (name);
             CREATE VIEW customer_names AS SELECT name FROM customers;
             INSERT INTO customers (name) VALUES ('a'), ('b');",
        )
        .unwrap();
    }
    let store = Store::open(db.options()).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        Migrator::embedded().latest_version()
    );
    drop(store);
    let app_objects = |c: &rusqlite::Connection| -> Vec<(String, String, String)> {
        schema_of(c)
            .into_iter()
            .filter(|(_, name, _)| name.starts_with("customer"))
            .collect()
    };
    let c = db.raw();
    assert_eq!(app_objects(&c).len(), 3);
    let n: i64 = c
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
    // Reverting every migration takes ours away and leaves the application's.
    let mut c = c;
    let before = app_objects(&c);
    Migrator::embedded().down(&mut c, 0).unwrap();
    assert_eq!(app_objects(&c), before);
    let left: Vec<String> = schema_of(&c)
        .into_iter()
        .map(|(_, name, _)| name)
        .filter(|n| !n.starts_with("customer") && n != "scheduler_migrations")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // And the reverted file migrates again (an empty history of ours is not a clash).
    drop(c);
    Store::open(db.options()).unwrap();
}

/// Every name of an object any migration creates, collected after each step so that
/// names a later migration drops count too.
fn names_created_step_by_step() -> Vec<String> {
    let db = TestDb::new();
    let mut c = db.raw();
    let migrator = Migrator::embedded();
    let mut names = std::collections::BTreeSet::new();
    for version in 1..=migrator.latest_version() {
        migrator
            .up(
                &mut c,
                Some(version),
                runloom::Clock::now(&runloom::SystemClock),
            )
            .unwrap();
        names.extend(schema_of(&c).into_iter().map(|(_, name, _)| name));
    }
    names.remove("scheduler_migrations");
    names.into_iter().collect()
}

#[test]
fn an_application_object_of_any_of_our_names_is_refused_naming_it() {
    let names = names_created_step_by_step();
    assert!(names.len() > 30, "{names:?}");
    assert!(
        names.iter().any(|n| n == "task_locks_expiry"),
        "a dropped name"
    );
    for name in names {
        let db = TestDb::new();
        {
            let c = db.raw();
            // Upper case: SQLite's names are case-insensitive, so this clashes as well.
            c.execute_batch(&format!(
                "CREATE TABLE orders (id INTEGER PRIMARY KEY);
                 CREATE TABLE \"{}\" (id INTEGER PRIMARY KEY);",
                name.to_uppercase()
            ))
            .unwrap();
        }
        let before = snapshot(&db.path);
        let err = Store::open(db.options()).unwrap_err();
        match &err {
            Error::NameClash { object } => assert!(object.eq_ignore_ascii_case(&name)),
            other => panic!("{name}: {other:?}"),
        }
        assert!(err.to_string().contains(&name.to_uppercase()), "{err}");
        assert_eq!(snapshot(&db.path), before, "{name}: the file changed");
    }
}

#[test]
fn refuses_to_create_a_missing_file_when_told_not_to() {
    let db = TestDb::new();
    let err = Store::open(db.options().create_if_missing(false)).unwrap_err();
    assert!(matches!(err, Error::DatabaseMissing(_)), "{err:?}");
    assert!(!db.path.exists());
}

#[test]
fn creates_missing_parent_folders() {
    let db = TestDb::new();
    let nested = db.dir.path().join("a/b/c/jobs.db");
    let store = Store::open(StoreOptions::file(&nested)).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST);
    assert!(nested.exists());
}

#[test]
fn a_failing_migration_is_rolled_back_and_earlier_ones_are_kept() {
    let db = TestDb::new();
    let good = Migration::new(
        1,
        "create_a",
        "CREATE TABLE a (x INTEGER);",
        "DROP TABLE a;",
    );
    // The second statement fails after the first succeeded: both must be undone.
    let bad = Migration::new(
        2,
        "half_broken",
        "CREATE TABLE b (y INTEGER); INSERT INTO no_such_table VALUES (1);",
        "DROP TABLE b;",
    );
    let migrator = Migrator::new(vec![good, bad]).unwrap();
    let err = Store::open_with_migrator(db.options(), migrator.clone()).unwrap_err();
    match &err {
        Error::MigrationFailed { version, name, .. } => {
            assert_eq!(*version, 2);
            assert_eq!(name, "half_broken");
        }
        other => panic!("unexpected {other:?}"),
    }
    let conn = db.raw();
    let names: Vec<String> = schema_of(&conn).into_iter().map(|o| o.1).collect();
    assert_eq!(names, vec!["a", "scheduler_migrations"]);
    assert_eq!(migrator.current_version(&conn).unwrap(), 1);
}

#[test]
fn a_custom_migration_list_must_be_numbered_from_one() {
    let err = Migrator::new(vec![Migration::new(2, "two", "", "")]).unwrap_err();
    assert!(matches!(err, Error::InvalidMigrations(_)));
}

#[test]
fn four_connections_opening_a_new_file_at_once_apply_each_migration_once() {
    let db = TestDb::new();
    let path = db.path.clone();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let p = path.clone();
            std::thread::spawn(move || {
                Store::open(StoreOptions::file(p)).map(|s| s.schema_version())
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap().unwrap(), LATEST);
    }
    let n: i64 = db
        .raw()
        .query_row("SELECT count(*) FROM scheduler_migrations", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, i64::from(LATEST));
}
