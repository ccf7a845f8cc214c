//! Task definitions: create, read, list, optimistic locking, soft delete.

mod common;

use std::time::Duration;

use common::{T0, TestDb, at_ms};
use runloom::{
    Error,
    store::{MisfirePolicy, NewTask, Schedule, TaskId, TaskUpdate},
};

fn cron_task(name: &str) -> NewTask {
    let mut t = NewTask::new(name, "report", r#"{"kind":"daily"}"#);
    t.schedule = Schedule::Cron {
        expr: "0 0 6 * * *".into(),
        timezone: Some("Europe/Paris".into()),
    };
    t.misfire_policy = MisfirePolicy::RunAll;
    t.misfire_cap = 5;
    t.next_run_at = Some(at_ms(60_000));
    t.priority = 7;
    t
}

#[test]
fn create_get_and_list_tasks() {
    let db = TestDb::new();
    let store = db.open();
    let created = store
        .write(|tx| tx.create_task(&cron_task("daily"), T0))
        .unwrap();
    assert_eq!(created.version, 1);
    assert_eq!(created.created_at, T0);
    let read = store.read(|tx| tx.get_task(created.id)).unwrap();
    assert_eq!(read, created);
    assert_eq!(read.misfire_policy, MisfirePolicy::RunAll);
    assert_eq!(read.next_run_at, Some(at_ms(60_000)));
    assert!(
        matches!(read.schedule, Schedule::Cron { ref timezone, .. } if timezone.as_deref() == Some("Europe/Paris"))
    );

    let mut interval = NewTask::new("every-minute", "ping", "{}");
    interval.schedule = Schedule::Interval(Duration::from_secs(60));
    store.write(|tx| tx.create_task(&interval, T0)).unwrap();
    let all = store.read(|tx| tx.list_tasks(false)).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].schedule, Schedule::Interval(Duration::from_secs(60)));
    assert_eq!(
        store
            .read(|tx| tx.find_task_by_name("daily"))
            .unwrap()
            .unwrap()
            .id,
        created.id
    );
    assert!(matches!(
        store.read(|tx| tx.get_task(TaskId::new(77))),
        Err(Error::TaskNotFound(_))
    ));
}

#[test]
fn a_name_is_unique_among_live_tasks() {
    let db = TestDb::new();
    let store = db.open();
    let t = store
        .write(|tx| tx.create_task(&cron_task("daily"), T0))
        .unwrap();
    let err = store
        .write(|tx| tx.create_task(&cron_task("daily"), T0))
        .unwrap_err();
    assert!(matches!(err, Error::TaskNameTaken(ref n) if n == "daily"));
    // Deleting frees the name; the deleted row stays for history.
    store
        .write(|tx| tx.delete_task(t.id, t.version, at_ms(5)))
        .unwrap();
    let again = store
        .write(|tx| tx.create_task(&cron_task("daily"), T0))
        .unwrap();
    assert_ne!(again.id, t.id);
    assert_eq!(store.read(|tx| tx.list_tasks(false)).unwrap().len(), 1);
    let all = store.read(|tx| tx.list_tasks(true)).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].deleted_at, Some(at_ms(5)));
    assert!(!all[0].enabled);
}

#[test]
fn updates_are_optimistically_locked() {
    let db = TestDb::new();
    let store = db.open();
    let t = store
        .write(|tx| tx.create_task(&cron_task("daily"), T0))
        .unwrap();
    let mut update = TaskUpdate::default();
    update.priority = Some(9);
    update.schedule = Some(Schedule::Interval(Duration::from_secs(30)));
    let t2 = store
        .write(|tx| tx.update_task(t.id, 1, &update, at_ms(10)))
        .unwrap();
    assert_eq!((t2.version, t2.priority), (2, 9));
    assert_eq!(t2.schedule, Schedule::Interval(Duration::from_secs(30)));
    assert_eq!(t2.updated_at, at_ms(10));

    // A writer that read version 1 loses: typed conflict, nothing written.
    let mut stale = TaskUpdate::default();
    stale.priority = Some(1);
    let err = store
        .write(|tx| tx.update_task(t.id, 1, &stale, at_ms(20)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::VersionConflict {
                expected: 1,
                found: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.read(|tx| tx.get_task(t.id)).unwrap(), t2);

    // Deleting with a stale version is refused too.
    let err = store
        .write(|tx| tx.delete_task(t.id, 1, at_ms(30)))
        .unwrap_err();
    assert!(matches!(err, Error::VersionConflict { found: 2, .. }));
    store
        .write(|tx| tx.delete_task(t.id, 2, at_ms(30)))
        .unwrap();
    let err = store
        .write(|tx| tx.update_task(t.id, 3, &stale, at_ms(40)))
        .unwrap_err();
    assert!(matches!(err, Error::TaskNotFound(_)), "{err:?}");
    let err = store
        .write(|tx| tx.delete_task(t.id, 3, at_ms(40)))
        .unwrap_err();
    assert!(matches!(err, Error::TaskNotFound(_)), "{err:?}");
}

#[test]
fn bad_task_values_are_refused_and_nothing_is_written() {
    let db = TestDb::new();
    let store = db.open();
    let mut bad_json = cron_task("a");
    bad_json.payload = "{".into();
    let mut zero_interval = NewTask::new("b", "t", "{}");
    zero_interval.schedule = Schedule::Interval(Duration::ZERO);
    let mut bad_priority = cron_task("c");
    bad_priority.priority = 200;
    let mut empty_cron = cron_task("d");
    empty_cron.schedule = Schedule::Cron {
        expr: " ".into(),
        timezone: None,
    };
    for (field, t) in [
        ("payload", bad_json),
        ("interval", zero_interval),
        ("priority", bad_priority),
        ("cron", empty_cron),
    ] {
        match store.write(|tx| tx.create_task(&t, T0)).unwrap_err() {
            Error::InvalidArgument { name, .. } => assert_eq!(name, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(store.read(|tx| tx.list_tasks(true)).unwrap().is_empty());
}

#[test]
fn the_schema_refuses_inconsistent_schedules_from_any_writer() {
    let db = TestDb::new();
    drop(db.open());
    let err = db
        .raw()
        .execute(
            "INSERT INTO tasks (name, job_type, schedule_kind, created_at, updated_at) \
             VALUES ('x', 't', 'cron', 0, 0)",
            [],
        )
        .unwrap_err();
    assert!(err.to_string().contains("CHECK"), "{err}");
}
