//! Host transactions on PostgreSQL (point 6 of the PostgreSQL issue), the tests of
//! `exactly_once.rs` and of `enqueue_tx` on SQLite: a job's writes commit with its
//! completion, exactly once even when the job runs twice on two hosts; a host enqueues
//! inside its own transaction; each backend's integration refuses the other backend.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    sync::{Arc, Barrier},
    time::Duration,
};

use common::{
    TestDb, builder,
    jobs::{Double, gate_wait, open_gate},
    postgres::{PgDb, fresh_db},
    wait_event, wait_for,
};
use runloom::{
    EnqueueOptions, Error, Event, Job, JobContext, JobError, JobOptions, MaintenanceConfig,
    Perform, RunStatus, Scheduler,
    postgres::{JobContextExt as _, SchedulerExt as _},
};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(30);

/// How the first attempt of a [`Transfer`] goes wrong, after writing.
#[derive(Clone, Copy, Serialize, Deserialize, PartialEq)]
enum FirstAttempt {
    Fine,
    /// The closure returns a retryable error.
    Refuse,
    /// A statement of the closure fails on the server (the transaction is aborted).
    BadStatement,
}

/// Moves money between two accounts in the job's transaction, as in `exactly_once.rs`.
#[derive(Serialize, Deserialize)]
struct Transfer {
    amount: i64,
    gate: Option<String>,
    first: FirstAttempt,
}

impl Job for Transfer {
    const NAME: &'static str = "transfer";
    fn options() -> JobOptions {
        JobOptions::new().backoff(Duration::from_millis(1))
    }
}

impl Perform for Transfer {
    type Output = i64;
    fn perform(&self, ctx: &JobContext) -> Result<i64, JobError> {
        if let Some(gate) = &self.gate {
            gate_wait(gate, WAIT);
        }
        ctx.transaction(|tx| {
            tx.execute(
                "UPDATE accounts SET balance = balance - $1 WHERE id = 1",
                &[&self.amount],
            )?;
            tx.execute(
                "UPDATE accounts SET balance = balance + $1 WHERE id = 2",
                &[&self.amount],
            )?;
            tx.execute(
                "INSERT INTO ledger (run_id, attempt, amount) VALUES ($1, $2, $3)",
                &[&ctx.run_id().get(), &i64::from(ctx.attempt()), &self.amount],
            )?;
            if ctx.attempt() == 1 {
                match self.first {
                    FirstAttempt::Fine => {}
                    FirstAttempt::Refuse => return Err(JobError::retry("the bank said no")),
                    FirstAttempt::BadStatement => {
                        tx.execute("SELECT 1 / 0", &[])?;
                    }
                }
            }
            Ok(tx
                .query_one("SELECT balance FROM accounts WHERE id = 2", &[])?
                .try_get(0)?)
        })
    }
}

/// Panics inside its transaction, after writing.
#[derive(Serialize, Deserialize)]
struct PanicInTransaction;

impl Job for PanicInTransaction {
    const NAME: &'static str = "panic_in_transaction";
    fn options() -> JobOptions {
        JobOptions::new()
            .max_attempts(2)
            .backoff(Duration::from_millis(1))
    }
}

impl Perform for PanicInTransaction {
    type Output = ();
    fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        ctx.transaction(|tx| -> Result<(), JobError> {
            tx.execute(
                "INSERT INTO ledger (run_id, attempt, amount) VALUES (0, 0, 0)",
                &[],
            )?;
            panic!("boom inside the transaction")
        })
    }
}

/// The app's tables, beside the scheduler's.
fn bank(db: &PgDb) {
    db.client()
        .batch_execute(
            "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
             INSERT INTO accounts VALUES (1, 100), (2, 0);
             CREATE TABLE ledger (run_id bigint, attempt bigint, amount bigint);",
        )
        .unwrap();
}

/// Account 1, account 2, ledger rows.
fn balances(db: &PgDb) -> (i64, i64, i64) {
    let row = db
        .client()
        .query_one(
            "SELECT (SELECT balance FROM accounts WHERE id = 1), \
                    (SELECT balance FROM accounts WHERE id = 2), \
                    (SELECT count(*) FROM ledger)",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

fn scheduler(db: &PgDb) -> runloom::SchedulerBuilder {
    Scheduler::builder()
        .postgres(&db.url)
        .worker_threads(2)
        .poll_interval(Duration::from_millis(20))
        .register::<Transfer>()
        .register::<PanicInTransaction>()
        .register::<Double>()
}

fn transfer(amount: i64, first: FirstAttempt) -> Transfer {
    Transfer {
        amount,
        gate: None,
        first,
    }
}

#[test]
fn the_writes_and_the_completion_commit_together() {
    let Some(db) = fresh_db() else { return };
    let s = scheduler(&db).start().unwrap();
    bank(&db);
    let id = s.enqueue(transfer(30, FirstAttempt::Fine)).unwrap().id;
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
    let run = s.run(id).unwrap();
    assert_eq!(run.result.as_deref(), Some("30"));
    assert_eq!(run.attempt, 1);
    assert!(run.duration.is_some());
    assert_eq!(balances(&db), (70, 30, 1));
    assert!(
        wait_for(WAIT, || s.stats().unwrap().in_flight == 0),
        "the slot is freed"
    );
    assert_eq!(s.stats().unwrap().completed, 1);
    s.shutdown(WAIT).unwrap();
}

#[test]
fn a_failing_closure_or_statement_keeps_nothing_and_the_retry_writes_once() {
    let Some(db) = fresh_db() else { return };
    let s = scheduler(&db).start().unwrap();
    bank(&db);
    let refused = s.enqueue(transfer(10, FirstAttempt::Refuse)).unwrap().id;
    let bad = s
        .enqueue(transfer(5, FirstAttempt::BadStatement))
        .unwrap()
        .id;
    for id in [refused, bad] {
        assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
        assert_eq!(s.run(id).unwrap().attempt, 2);
    }
    assert_eq!(
        s.run(refused).unwrap().errors[0].message,
        "the bank said no"
    );
    let message = &s.run(bad).unwrap().errors[0].message;
    assert!(message.contains("division by zero"), "{message}");
    assert_eq!(
        balances(&db),
        (85, 15, 2),
        "only the second attempts' writes"
    );
    let attempts: Vec<i64> = db
        .client()
        .query("SELECT attempt FROM ledger ORDER BY run_id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(attempts, [2, 2]);
    s.shutdown(WAIT).unwrap();
}

#[test]
fn a_host_that_lost_its_lease_keeps_none_of_its_writes_and_the_new_holder_writes_once() {
    let Some(db) = fresh_db() else { return };
    // The holder renews its lease only every 50 s and runs no maintenance: it cannot
    // learn of the loss before its transaction, so the database's fence decides.
    let holder = scheduler(&db)
        .lease_duration(Duration::from_secs(120))
        .heartbeat_interval(Duration::from_secs(50))
        .maintenance(
            MaintenanceConfig::default()
                .enabled(false)
                .stale_worker_after(Duration::from_secs(300)),
        )
        .start()
        .unwrap();
    bank(&db);
    let events = holder.subscribe(64);
    let gate = "pg-exactly-once-stolen";
    let id = holder
        .enqueue(Transfer {
            amount: 50,
            gate: Some(gate.into()),
            first: FirstAttempt::Fine,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || holder.run(id).unwrap().status
        == RunStatus::Running));
    // The holder stalls past its lease (its expiry is set back on the database clock),
    // and another host rescues the run and runs it again.
    let expired = db
        .client()
        .execute(
            "UPDATE task_locks SET expires_at = acquired_at, expires_mono = 0 WHERE run_id = $1",
            &[&id.get()],
        )
        .unwrap();
    assert_eq!(expired, 1);
    let thief = scheduler(&db)
        .maintenance(MaintenanceConfig::default().lease_rescue_interval(Duration::from_millis(50)))
        .start()
        .unwrap();
    assert!(
        wait_for(WAIT, || {
            let run = thief.run(id).unwrap();
            run.attempt == 2 && run.status == RunStatus::Running
        }),
        "{:?}",
        thief.run(id).unwrap()
    );
    // Both attempts go on: the holder's transaction is refused, the thief's commits.
    open_gate(gate);
    assert!(
        wait_event(
            &events,
            WAIT,
            |e| matches!(e, Event::LeaseLost { run, .. } if *run == id)
        )
        .is_some()
    );
    assert!(wait_for(WAIT, || holder.run(id).unwrap().status
        == RunStatus::Completed));
    assert_eq!(balances(&db), (50, 50, 1), "one transfer, not two");
    let attempt: i64 = db
        .client()
        .query_one("SELECT attempt FROM ledger", &[])
        .unwrap()
        .get(0);
    assert_eq!(attempt, 2, "the new holder's writes");
    assert!(wait_for(WAIT, || holder.stats().unwrap().in_flight == 0));
    assert_eq!(holder.stats().unwrap().lease_lost, 1);
    thief.shutdown(WAIT).unwrap();
    holder.shutdown(WAIT).unwrap();
}

#[test]
fn a_panic_inside_the_transaction_fails_the_attempt_keeps_nothing_and_frees_the_slot() {
    let Some(db) = fresh_db() else { return };
    let s = scheduler(&db).worker_threads(1).start().unwrap();
    bank(&db);
    let id = s.enqueue(PanicInTransaction).unwrap().id;
    assert!(
        s.wait(id, WAIT)
            .is_ok_and(|r| r.status == RunStatus::Failed),
        "the run is wedged: {:?}",
        s.run(id).unwrap()
    );
    let run = s.run(id).unwrap();
    assert_eq!(run.attempt, 2, "both attempts ran and failed");
    for e in &run.errors {
        assert_eq!(e.kind, runloom::store::AttemptErrorKind::Panic);
        assert!(e.message.contains("boom inside the transaction"), "{e:?}");
    }
    assert_eq!(balances(&db).2, 0, "the panicking transaction kept nothing");
    assert!(wait_for(WAIT, || s.stats().unwrap().in_flight == 0));
    assert_eq!(s.stats().unwrap().panics, 2);
    // The pool's connections came back usable: the scheduler still works.
    let next = s.enqueue(transfer(1, FirstAttempt::Fine)).unwrap().id;
    assert_eq!(s.wait(next, WAIT).unwrap().status, RunStatus::Completed);
    let report = s.shutdown(WAIT).unwrap();
    assert!(
        report.stuck.is_empty() && report.released.is_empty(),
        "{report:?}"
    );
}

#[test]
fn a_host_enqueues_inside_its_own_transaction() {
    let Some(db) = fresh_db() else { return };
    let s = scheduler(&db).start().unwrap();
    let mut client = db.client();
    client
        .batch_execute("CREATE TABLE orders (id serial PRIMARY KEY, total int)")
        .unwrap();

    // Rolled back: neither the order nor the run exists.
    {
        let mut tx = client.transaction().unwrap();
        tx.execute("INSERT INTO orders (total) VALUES (10)", &[])
            .unwrap();
        let id = s
            .enqueue_tx(&mut tx, Double { value: 10 }, EnqueueOptions::new())
            .unwrap()
            .id;
        tx.rollback().unwrap();
        assert!(matches!(s.run(id), Err(Error::RunNotFound(_))));
    }
    // Committed: both exist, and the run executes (the insert's trigger wakes the
    // dispatcher; no notify needed).
    let mut tx = client.transaction().unwrap();
    tx.execute("INSERT INTO orders (total) VALUES (20)", &[])
        .unwrap();
    let id = s
        .enqueue_tx(&mut tx, Double { value: 20 }, EnqueueOptions::new())
        .unwrap()
        .id;
    // Invisible to the scheduler until the host commits.
    assert!(matches!(s.run(id), Err(Error::RunNotFound(_))));
    tx.commit().unwrap();
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
    assert_eq!(s.run(id).unwrap().result.as_deref(), Some("40"));
    let orders: i64 = client
        .query_one("SELECT count(*) FROM orders", &[])
        .unwrap()
        .get(0);
    assert_eq!(orders, 1);
    s.shutdown(WAIT).unwrap();
}

#[test]
fn two_host_transactions_enqueueing_one_unique_key_create_one_run() {
    let Some(db) = fresh_db() else { return };
    let s = Arc::new(scheduler(&db).start().unwrap());
    let opts = || EnqueueOptions::new().unique_key("invoice-7");
    // Claiming paused until both answered: run a must still be live when the second
    // insert looks (a run that completed in between frees its key, and the second
    // would rightly create a new run).
    s.pause().unwrap();
    let mut first = db.client();
    let mut tx = first.transaction().unwrap();
    let a = s.enqueue_tx(&mut tx, Double { value: 7 }, opts()).unwrap();
    assert!(a.created);
    // The second host's insert waits on the live-key index for the first's
    // transaction, then answers the run it committed.
    let started = Arc::new(Barrier::new(2));
    let second = {
        let (s, started, url) = (Arc::clone(&s), Arc::clone(&started), db.url.clone());
        std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let mut tx = client.transaction().unwrap();
            started.wait();
            let b = s.enqueue_tx(&mut tx, Double { value: 7 }, opts()).unwrap();
            tx.commit().unwrap();
            b
        })
    };
    started.wait();
    // The second insert is waiting on the first transaction's lock.
    assert!(wait_for(WAIT, || {
        db.client()
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .unwrap()
            .get::<_, i64>(0)
            == 1
    }));
    tx.commit().unwrap();
    let b = second.join().unwrap();
    assert!(!b.created);
    assert_eq!(b.id, a.id);
    s.resume().unwrap();
    assert_eq!(s.wait(a.id, WAIT).unwrap().status, RunStatus::Completed);
    let runs: i64 = db
        .client()
        .query_one("SELECT count(*) FROM task_runs", &[])
        .unwrap()
        .get(0);
    assert_eq!(runs, 1);
}

#[test]
fn each_backends_integration_refuses_a_scheduler_on_the_other() {
    let Some(db) = fresh_db() else { return };
    // runloom::sqlite on a PostgreSQL scheduler.
    let pg = scheduler(&db).start().unwrap();
    let file = TestDb::new();
    drop(file.open());
    let mut conn = file.raw();
    let tx = conn.transaction().unwrap();
    let err = runloom::sqlite::SchedulerExt::enqueue_tx(
        &pg,
        &tx,
        Double { value: 1 },
        EnqueueOptions::new(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                name: "transaction",
                ..
            }
        ),
        "{err:?}"
    );
    tx.rollback().unwrap();
    pg.shutdown(WAIT).unwrap();

    // runloom::postgres on a SQLite scheduler: refused, nothing inserted anywhere.
    let lite = builder(&file).register::<Transfer>().start().unwrap();
    let mut client = db.client();
    let mut tx = client.transaction().unwrap();
    let err = lite
        .enqueue_tx(&mut tx, Double { value: 1 }, EnqueueOptions::new())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                name: "transaction",
                ..
            }
        ),
        "{err:?}"
    );
    tx.commit().unwrap();
    let runs: i64 = db
        .client()
        .query_one("SELECT count(*) FROM task_runs", &[])
        .unwrap()
        .get(0);
    assert_eq!(runs, 0);
    // A job calling the PostgreSQL transaction on SQLite fails for good, with the reason.
    let id = lite.enqueue(transfer(1, FirstAttempt::Fine)).unwrap().id;
    assert_eq!(lite.wait(id, WAIT).unwrap().status, RunStatus::Failed);
    let run = lite.run(id).unwrap();
    assert_eq!(run.attempt, 1, "not retried: it cannot work");
    assert!(
        run.errors[0]
            .message
            .contains("needs a scheduler on PostgreSQL"),
        "{:?}",
        run.errors
    );
    lite.shutdown(WAIT).unwrap();
}
