//! The operator's handle, `Admin`, on SQLite files: what it refuses to open, and that
//! a refusal leaves the file as it was. Its reads and actions, on any backend, are in
//! the behavioural suite (`tests/behaviour/admin.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestDb, snapshot};
use runloom::{Admin, Error};

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
