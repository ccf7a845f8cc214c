//! The runtime where SQLite itself is what is checked: a refused setting creates no
//! file, a host's own rusqlite transaction enqueues (or rolls back) with its writes,
//! and the scheduler checkpoints the log on its own thread. The backend-neutral
//! runtime tests are in the behavioural suite (`tests/behaviour/runtime.rs`).

mod common;

use std::time::Duration;

use common::{
    TestDb, builder,
    jobs::{Double, Noop},
    wait_for,
};
use runloom::sqlite::SchedulerExt as _;
use runloom::{EnqueueOptions, Error, RunStatus, Scheduler};

const WAIT: Duration = Duration::from_secs(15);

fn wait_status(s: &Scheduler, id: runloom::RunId, status: RunStatus) -> bool {
    if status.is_finished() {
        // A finished status is final until someone acts on the run: wait for it.
        return s.wait(id, WAIT).is_ok_and(|r| r.status == status);
    }
    wait_for(WAIT, || {
        s.run(id).map(|r| r.status == status).unwrap_or(false)
    })
}

#[test]
fn nonsense_settings_are_refused_with_the_setting_named() {
    let db = TestDb::new();
    let cases: Vec<(&str, runloom::SchedulerBuilder)> = vec![
        ("worker_threads", builder(&db).worker_threads(0)),
        (
            "heartbeat_interval",
            builder(&db)
                .lease_duration(Duration::from_secs(10))
                .heartbeat_interval(Duration::from_secs(10)),
        ),
        (
            "heartbeat_interval",
            builder(&db)
                .lease_duration(Duration::from_secs(10))
                .heartbeat_interval(Duration::from_secs(6)),
        ),
        (
            "heartbeat_interval",
            builder(&db).heartbeat_interval(Duration::ZERO),
        ),
        (
            "lease_duration",
            builder(&db)
                .lease_duration(Duration::from_millis(5))
                .heartbeat_interval(Duration::from_millis(1)),
        ),
        ("poll_interval", builder(&db).poll_interval(Duration::ZERO)),
        (
            "max_in_flight",
            builder(&db).worker_threads(4).max_in_flight(2),
        ),
        ("max_payload_bytes", builder(&db).max_payload_bytes(0)),
    ];
    for (name, b) in cases {
        match b.start() {
            Err(Error::InvalidArgument { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
    }
    assert!(
        !db.path.exists(),
        "a refused start must not create the database"
    );
}

#[test]
fn a_host_enqueues_inside_its_own_transaction() {
    let db = TestDb::new();
    let s = builder(&db).register::<Double>().start().unwrap();
    let mut conn = db.raw();
    conn.execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)")
        .unwrap();

    // Rolled back: neither the order nor the run exists.
    {
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO orders (total) VALUES (10)", [])
            .unwrap();
        let id = s
            .enqueue_tx(&tx, Double { value: 10 }, EnqueueOptions::new())
            .unwrap()
            .id;
        tx.rollback().unwrap();
        assert!(matches!(s.run(id), Err(Error::RunNotFound(_))));
    }
    // Committed: both exist, and the run executes.
    let tx = conn.transaction().unwrap();
    tx.execute("INSERT INTO orders (total) VALUES (20)", [])
        .unwrap();
    let id = s
        .enqueue_tx(&tx, Double { value: 20 }, EnqueueOptions::new())
        .unwrap()
        .id;
    tx.commit().unwrap();
    s.notify();
    assert!(wait_status(&s, id, RunStatus::Completed));
    assert_eq!(s.run(id).unwrap().result.as_deref(), Some("40"));
}

#[test]
fn a_running_scheduler_checkpoints_the_log_on_its_own_thread() {
    // In WAL mode only a checkpoint writes to the database file itself. SQLite's own
    // checkpoint waits for 1 000 pages of log, on the connection that commits; the
    // scheduler's checkpoint thread copies the few pages of the new schema and of these
    // runs within moments, so no enqueue or claim pays for it.
    let db = TestDb::new();
    let s = builder(&db).register::<Noop>().start().unwrap();
    s.enqueue_many((0..20).map(|_| Noop)).unwrap();
    assert!(wait_for(WAIT, || s.stats().unwrap().counts.completed == 20));
    let page = 4096;
    assert!(
        wait_for(WAIT, || std::fs::metadata(&db.path).unwrap().len()
            > 8 * page),
        "the database file still holds only {} bytes",
        std::fs::metadata(&db.path).unwrap().len()
    );
    // A tool holding a store can ask for one too: nothing is left to copy.
    let c = s.store().checkpoint().unwrap();
    assert_eq!(c.log_frames, c.checkpointed_frames, "{c:?}");
    s.shutdown(Duration::from_secs(5)).unwrap();
}
