//! The PostgreSQL schema and its migration runner, on a real throwaway cluster: the
//! files are the embedded list, a round trip gives the same schema, dry runs and status
//! change nothing, every refusal writes nothing, the tables live beside an application's
//! own, and hosts opening a new database at once apply each migration once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::postgres::{PgDb, fresh_db};
use runloom::{
    Error, MigrationState,
    error::DatabaseErrorKind,
    postgres::{PgMigrator, PgOptions, PgStore},
    store::{Direction, Migration, Migrator},
};

/// The catalog as text: every relation of the schema with its kind and columns, every
/// index definition, constraint, function and trigger, in a stable order. Two schemas
/// that print the same are the same for every statement the runtime runs.
fn schema_of(db: &PgDb) -> String {
    let mut c = db.client();
    let rows = c
        .query(
            "SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' ' ||
                    coalesce(array_to_string(c.reloptions, ','), '') AS line
               FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
             UNION ALL
             SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' ||
                    is_nullable || ' ' || coalesce(column_default, '')
               FROM information_schema.columns WHERE table_schema = 'public'
             UNION ALL
             SELECT 'idx ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
             UNION ALL
             SELECT 'con ' || conrelid::regclass::text || ' ' || pg_get_constraintdef(oid)
               FROM pg_constraint WHERE connamespace = 'public'::regnamespace
             UNION ALL
             SELECT 'fun ' || p.proname || ' ' || md5(p.prosrc)
               FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
             UNION ALL
             SELECT 'trg ' || tgname || ' ' || tgrelid::regclass::text
               FROM pg_trigger WHERE NOT tgisinternal
             UNION ALL
             SELECT 'view ' || viewname || ' ' || md5(definition)
               FROM pg_views WHERE schemaname = 'public'
             ORDER BY 1",
            &[],
        )
        .unwrap();
    rows.iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names of the relations in the schema.
fn relations(db: &PgDb) -> Vec<String> {
    db.client()
        .query(
            "SELECT relname::text FROM pg_class
             WHERE relnamespace = 'public'::regnamespace ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn history(db: &PgDb) -> Vec<(i32, String, i64)> {
    db.client()
        .query(
            "SELECT version, checksum, applied_at FROM scheduler_migrations ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

fn open(db: &PgDb) -> runloom::Result<PgStore> {
    PgStore::open(PgOptions::new(&db.url))
}

#[test]
fn the_files_are_the_embedded_migrations_in_order() {
    let files = common::migration_files("postgres/migrations");
    let embedded = PgMigrator::embedded();
    assert!(!files.is_empty());
    assert_eq!(embedded.migrator().migrations().len(), files.len());
    for (m, (name, up, down)) in embedded.migrator().migrations().iter().zip(&files) {
        assert_eq!(format!("{:04}_{}", m.version(), m.name()), *name);
        assert_eq!(m.up_sql(), up);
        assert_eq!(m.down_sql(), down);
    }
}

#[test]
fn open_applies_every_migration_once_and_reopening_changes_nothing() {
    let Some(db) = fresh_db() else { return };
    let store = open(&db).unwrap();
    let latest = PgMigrator::embedded().migrator().latest_version();
    assert_eq!(store.schema_version().unwrap(), latest);
    let status = store.migration_status().unwrap();
    assert_eq!(status.len() as u32, latest);
    assert!(
        status
            .iter()
            .all(|s| matches!(s.state, MigrationState::Applied { .. }))
    );
    for table in [
        "tasks",
        "workers",
        "task_runs",
        "task_dependencies",
        "task_locks",
        "jwt_token_blacklist",
        "system_state",
    ] {
        assert!(relations(&db).contains(&table.to_owned()), "{table}");
    }
    let before = (history(&db), schema_of(&db));
    drop(store);
    let again = open(&db).unwrap();
    assert!(again.migrate_up(None, false).unwrap().is_empty());
    assert_eq!((history(&db), schema_of(&db)), before);
}

#[test]
fn down_to_zero_removes_everything_and_up_again_gives_the_same_schema() {
    let Some(db) = fresh_db() else { return };
    let store = open(&db).unwrap();
    let first = schema_of(&db);
    let latest = store.schema_version().unwrap();
    let plan = store.migrate_down(0, true).unwrap();
    assert_eq!(plan.len() as u32, latest);
    assert!(plan.iter().all(|s| s.direction == Direction::Down));
    assert_eq!(schema_of(&db), first, "a dry run changed the schema");
    let done = store.migrate_down(0, false).unwrap();
    assert_eq!(done.len() as u32, latest);
    // Only the runner's own (now empty) history table is left.
    assert_eq!(
        relations(&db),
        ["scheduler_migrations", "scheduler_migrations_pkey"]
    );
    assert!(history(&db).is_empty());
    assert_eq!(store.schema_version().unwrap(), 0);
    let plan = store.migrate_up(None, true).unwrap();
    assert_eq!(plan.len() as u32, latest);
    assert_eq!(
        store.schema_version().unwrap(),
        0,
        "a dry run applied something"
    );
    store.migrate_up(None, false).unwrap();
    assert_eq!(schema_of(&db), first);
}

#[test]
fn a_changed_script_is_refused_and_nothing_is_written() {
    let Some(db) = fresh_db() else { return };
    open(&db).unwrap();
    db.client()
        .execute(
            "UPDATE scheduler_migrations SET checksum = repeat('0', 64) WHERE version = 1",
            &[],
        )
        .unwrap();
    let before = (history(&db), schema_of(&db));
    let err = open(&db).unwrap_err();
    assert!(
        matches!(err, Error::ChecksumMismatch { version: 1, .. }),
        "{err:?}"
    );
    assert_eq!((history(&db), schema_of(&db)), before);
    // The status report shows the mismatch instead of refusing.
    let status = PgMigrator::embedded().status(&mut db.client()).unwrap();
    assert!(matches!(
        status[0].state,
        MigrationState::ChecksumMismatch { .. }
    ));
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(db) = fresh_db() else { return };
    open(&db).unwrap();
    db.client()
        .execute(
            "INSERT INTO scheduler_migrations VALUES (99, 'future', repeat('a', 64), 0, 0)",
            &[],
        )
        .unwrap();
    let err = open(&db).unwrap_err();
    assert!(
        matches!(err, Error::SchemaTooNew { database: 99, .. }),
        "{err:?}"
    );
}

#[test]
fn the_tables_go_beside_an_applications_own_and_a_clashing_name_is_refused() {
    let Some(db) = fresh_db() else { return };
    db.client()
        .batch_execute(
            "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
             INSERT INTO users VALUES (1, 'a@example.com');",
        )
        .unwrap();
    open(&db).unwrap();
    let n: i64 = db
        .client()
        .query_one("SELECT count(*) FROM users", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1, "the application's table was touched");

    let Some(clash) = fresh_db() else { return };
    clash
        .client()
        .batch_execute("CREATE TABLE tasks (id bigint PRIMARY KEY, title text)")
        .unwrap();
    let before = relations(&clash);
    let err = open(&clash).unwrap_err();
    match &err {
        Error::NameClash { object } => assert_eq!(object, "tasks"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("\"tasks\""), "{err}");
    assert_eq!(
        relations(&clash),
        before,
        "a refused database was written to"
    );
}

#[test]
fn a_failing_migration_is_rolled_back_and_earlier_ones_are_kept() {
    let Some(db) = fresh_db() else { return };
    let migrator = Migrator::new(vec![
        Migration::new(1, "one", "CREATE TABLE one (x int);", "DROP TABLE one;"),
        Migration::new(
            2,
            "two",
            "CREATE TABLE two (x int); SELECT no_such_function();",
            "DROP TABLE two;",
        ),
    ])
    .unwrap();
    let err = PgStore::open_with_migrator(PgOptions::new(&db.url), PgMigrator::new(migrator))
        .unwrap_err();
    match err {
        Error::MigrationFailed {
            version: 2,
            ref source,
            ..
        } => assert_eq!(source.kind(), DatabaseErrorKind::Other),
        other => panic!("{other:?}"),
    }
    let tables = relations(&db);
    assert!(tables.contains(&"one".to_owned()));
    assert!(!tables.contains(&"two".to_owned()), "{tables:?}");
    assert_eq!(history(&db).len(), 1);
}

#[test]
fn four_hosts_opening_a_new_database_at_once_apply_each_migration_once() {
    let Some(db) = fresh_db() else { return };
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                PgStore::open(PgOptions::new(url)).and_then(|s| s.schema_version())
            })
        })
        .collect();
    let latest = PgMigrator::embedded().migrator().latest_version();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), latest);
    }
    assert_eq!(history(&db).len() as u32, latest);
}

#[test]
fn without_migrate_an_empty_database_is_refused_as_behind() {
    let Some(db) = fresh_db() else { return };
    let err = PgStore::open(PgOptions::new(&db.url).migrate(false)).unwrap_err();
    assert!(
        matches!(err, Error::SchemaBehind { database: 0, .. }),
        "{err:?}"
    );
    assert!(relations(&db).is_empty());
}

#[test]
fn bad_options_and_an_unreachable_server_get_typed_errors() {
    let err = PgStore::open(PgOptions::new("host=/tmp port=notaport")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                name: "postgres url",
                ..
            }
        ),
        "{err:?}"
    );
    let Some(db) = fresh_db() else { return };
    let err = PgStore::open(PgOptions::new(&db.url).max_connections(0)).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");

    let gone = tempfile::tempdir().unwrap();
    let options = PgOptions::new(format!(
        "host={} port=5432 user=postgres dbname=x",
        gone.path().display()
    ))
    .connect_timeout(Duration::from_millis(300));
    let err = PgStore::open(options).unwrap_err();
    match err {
        Error::Database(ref e) => assert_eq!(e.kind(), DatabaseErrorKind::Unavailable),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_servers_refusals_become_typed_kinds() {
    let Some(db) = fresh_db() else { return };
    let store = open(&db).unwrap();
    let mut c = store.connection().unwrap();
    let e: Error = c
        .execute(
            "INSERT INTO system_state (key, value, updated_at) VALUES ('', 'x', 0)",
            &[],
        )
        .unwrap_err()
        .into();
    match e {
        Error::Database(ref d) => assert_eq!(d.kind(), DatabaseErrorKind::Refused, "{e:?}"),
        other => panic!("{other:?}"),
    }
    // A lock another transaction holds, past the lock timeout: busy, worth retrying.
    let mut holder = db.client();
    let mut tx = holder.transaction().unwrap();
    tx.execute("LOCK TABLE system_state IN ACCESS EXCLUSIVE MODE", &[])
        .unwrap();
    c.batch_execute("SET lock_timeout = '100ms'").unwrap();
    let e: Error = c
        .query("SELECT * FROM system_state", &[])
        .unwrap_err()
        .into();
    assert!(e.is_busy(), "{e:?}");
    tx.rollback().unwrap();
}

/// Every name a migration creates in the schema (relations of every kind: tables, views,
/// indexes, sequences; and functions), collected after each step so names a later
/// migration drops count too.
fn names_created_step_by_step(db: &PgDb) -> std::collections::BTreeSet<String> {
    let migrator = PgMigrator::embedded();
    let mut names = std::collections::BTreeSet::new();
    let mut c = db.client();
    for version in 1..=migrator.migrator().latest_version() {
        migrator
            .up(
                &mut c,
                Some(version),
                runloom::Clock::now(&runloom::SystemClock),
            )
            .unwrap();
        for row in c
            .query(
                "SELECT relname::text FROM pg_class
                  WHERE relnamespace = 'public'::regnamespace
                 UNION
                 SELECT proname::text FROM pg_proc
                  WHERE pronamespace = 'public'::regnamespace",
                &[],
            )
            .unwrap()
        {
            names.insert(row.get::<_, String>(0));
        }
    }
    names.remove("scheduler_migrations");
    names.remove("scheduler_migrations_pkey");
    names
}

#[test]
fn the_clash_check_knows_every_name_the_migrations_create() {
    let Some(db) = fresh_db() else { return };
    let names = names_created_step_by_step(&db);
    assert!(names.contains("task_runs") && names.contains("scheduler_notify_work"));
    let check = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sql/postgres/queries/schema_clashing_object.sql"
    ))
    .unwrap();
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !check.contains(&format!("'{n}'")))
        .collect();
    assert!(
        missing.is_empty(),
        "schema_clashing_object.sql does not list {missing:?}"
    );
}

#[test]
fn an_application_index_or_function_of_our_name_is_a_clash_too() {
    for (object, ddl) in [
        (
            "task_runs_pending_due",
            "CREATE TABLE orders (id bigint); CREATE INDEX task_runs_pending_due ON orders (id)",
        ),
        (
            "scheduler_notify_work",
            "CREATE FUNCTION scheduler_notify_work() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        ),
    ] {
        let Some(db) = fresh_db() else { return };
        db.client().batch_execute(ddl).unwrap();
        let before = schema_of(&db);
        match open(&db).unwrap_err() {
            Error::NameClash { object: o } => assert_eq!(o, object),
            other => panic!("{other:?}"),
        }
        assert_eq!(schema_of(&db), before, "a refused database was written to");
    }
}
