//! Wake-ups across hosts on PostgreSQL: a scheduler polling only once a minute starts
//! work written by others within moments, because the triggers of migration 0003 notify
//! its listening connection: rows inserted by another program, runs enqueued by another
//! host's `Admin` (the CLI's path), and a resume by an operator. When the listening
//! connection is killed, it comes back and wake-ups go on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{
    jobs::Noop,
    postgres::{PgDb, fresh_db},
    wait_for,
};
use runloom::{Admin, EnqueueOptions, RunId, RunStatus, Scheduler};

/// Far longer than any wait below: a run started within a wait was woken, not polled.
const POLL: Duration = Duration::from_secs(60);
/// How long a woken run may take to start and finish on a loaded machine.
const WOKEN: Duration = Duration::from_secs(15);

fn idle_host(db: &PgDb) -> Scheduler {
    let s = Scheduler::builder()
        .postgres(&db.url)
        .worker_threads(1)
        .poll_interval(POLL)
        .register::<Noop>()
        .start()
        .unwrap();
    assert!(
        wait_for(WOKEN, || listener(db).is_some()),
        "the host listens for notifications"
    );
    s
}

/// The process id of the listening session, if one is connected.
fn listener(db: &PgDb) -> Option<i32> {
    db.client()
        .query_opt(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'runloom-listener' \
             AND query LIKE '%LISTEN runloom%' AND datname = current_database()",
            &[],
        )
        .unwrap()
        .map(|r| r.get(0))
}

/// A run inserted by hand, as another program would.
fn insert_by_hand(db: &PgDb) -> RunId {
    let id: i64 = db
        .client()
        .query_one(
            "INSERT INTO task_runs (job_type, payload, scheduled_at, created_at)
             VALUES ('noop', 'null',
                     floor(extract(epoch FROM now()) * 1000)::bigint,
                     floor(extract(epoch FROM now()) * 1000)::bigint)
             RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    RunId::new(id)
}

fn completes(s: &Scheduler, id: RunId) -> bool {
    s.wait(id, WOKEN)
        .is_ok_and(|r| r.status == RunStatus::Completed)
}

#[test]
fn rows_inserted_by_another_program_wake_an_idle_host() {
    let Some(db) = fresh_db() else { return };
    let s = idle_host(&db);
    let id = insert_by_hand(&db);
    assert!(completes(&s, id), "{:?}", s.run(id).unwrap());
    s.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_run_enqueued_by_another_host_and_a_resume_wake_an_idle_host() {
    let Some(db) = fresh_db() else { return };
    let s = idle_host(&db);
    let other = Admin::builder_postgres(&db.url).open().unwrap();
    let id = other
        .enqueue_json("noop", "null", &EnqueueOptions::new())
        .unwrap()
        .id;
    assert!(completes(&s, id), "{:?}", s.run(id).unwrap());

    // Paused by an operator, a run waits; the operator's resume starts it.
    assert!(other.pause().unwrap());
    let waiting = insert_by_hand(&db);
    assert!(
        !wait_for(Duration::from_millis(500), || {
            s.run(waiting).unwrap().status != RunStatus::Pending
        }),
        "nothing starts while paused"
    );
    assert!(other.resume().unwrap());
    assert!(completes(&s, waiting), "{:?}", s.run(waiting).unwrap());
    s.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn a_killed_notification_connection_comes_back_and_wakes_again() {
    let Some(db) = fresh_db() else { return };
    let s = idle_host(&db);
    let first = listener(&db).unwrap();
    let killed: bool = db
        .client()
        .query_one("SELECT pg_terminate_backend($1)", &[&first])
        .unwrap()
        .get(0);
    assert!(killed);
    assert!(
        wait_for(WOKEN, || listener(&db).is_some_and(|pid| pid != first)),
        "the host listens again on a new session"
    );
    let id = insert_by_hand(&db);
    assert!(completes(&s, id), "{:?}", s.run(id).unwrap());
    s.shutdown(Duration::from_secs(5)).unwrap();
}
