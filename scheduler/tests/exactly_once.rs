//! `JobContext::transaction`: database writes of a job commit together with its run's
//! completion, exactly once even when the job runs twice.

mod common;

use std::{sync::Arc, time::Duration};

use common::{
    T0, TestDb, builder,
    jobs::{PanicInTransaction, open_gate},
    no_delay, wait_event, wait_for,
};
use runloom::clock::HostInstant;
use runloom::sqlite::JobContextExt as _;
use runloom::{
    Clock, Event, Job, JobContext, JobError, JobOptions, MaintenanceConfig, ManualClock, Perform,
    RunStatus,
    store::{AttemptOutcome, JobTypeFilter, NewWorker},
};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(15);

/// Moves money between two accounts in the job's transaction. Optionally waits for a
/// gate first, or fails on its first attempt after writing.
#[derive(Serialize, Deserialize)]
struct Transfer {
    amount: i64,
    gate: Option<String>,
    fail_first: bool,
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
            common::jobs::gate_wait(gate, Duration::from_secs(30));
        }
        ctx.transaction(|db| {
            db.execute(
                "UPDATE accounts SET balance = balance - ?1 WHERE id = 1",
                [self.amount],
            )?;
            db.execute(
                "UPDATE accounts SET balance = balance + ?1 WHERE id = 2",
                [self.amount],
            )?;
            db.execute(
                "INSERT INTO ledger (run_id, attempt, amount) VALUES (?1, ?2, ?3)",
                [ctx.run_id().get(), i64::from(ctx.attempt()), self.amount],
            )?;
            // A follow-up, created with the writes and the completion or not at all.
            ctx.enqueue_on_completion(Receipt {
                amount: self.amount,
            })?;
            if self.fail_first && ctx.attempt() == 1 {
                return Err(JobError::retry("the bank said no"));
            }
            Ok(
                db.query_row("SELECT balance FROM accounts WHERE id = 2", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }
}

/// The follow-up each transfer creates in its transaction.
#[derive(Serialize, Deserialize)]
struct Receipt {
    amount: i64,
}

impl Job for Receipt {
    const NAME: &'static str = "receipt";
}

impl Perform for Receipt {
    type Output = i64;
    fn perform(&self, _: &JobContext) -> Result<i64, JobError> {
        Ok(self.amount)
    }
}

/// The receipts created so far, by amount.
fn receipts(s: &runloom::Scheduler) -> Vec<i64> {
    s.runs(&runloom::RunFilter::new().job_type(Receipt::NAME))
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str::<Receipt>(&r.payload).unwrap().amount)
        .collect()
}

fn bank(db: &TestDb) {
    db.raw()
        .execute_batch(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
             INSERT INTO accounts VALUES (1, 100), (2, 0);
             CREATE TABLE ledger (run_id INTEGER, attempt INTEGER, amount INTEGER);",
        )
        .unwrap();
}

fn balances(db: &TestDb) -> (i64, i64, i64) {
    db.raw()
        .query_row(
            "SELECT (SELECT balance FROM accounts WHERE id = 1), (SELECT balance FROM accounts WHERE id = 2), (SELECT count(*) FROM ledger)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

#[test]
fn the_writes_and_the_completion_commit_together() {
    let db = TestDb::new();
    drop(db.open());
    bank(&db);
    let s = builder(&db)
        .register::<Transfer>()
        .register::<Receipt>()
        .start()
        .unwrap();
    let id = s
        .enqueue(Transfer {
            amount: 30,
            gate: None,
            fail_first: false,
        })
        .unwrap()
        .id;
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
    let run = s.run(id).unwrap();
    assert_eq!(run.result.as_deref(), Some("30"));
    assert!(run.duration.is_some());
    assert_eq!(balances(&db), (70, 30, 1));
    assert_eq!(
        receipts(&s),
        [30],
        "the follow-up committed with the writes"
    );
    s.wait_idle(WAIT).unwrap();
    // Freed once the outcome's commit is seen in memory, a moment after the database.
    assert!(
        wait_for(WAIT, || s.stats().unwrap().in_flight == 0),
        "the slot is freed"
    );
    // The transfer counted once (by its transaction), and its receipt.
    assert_eq!(s.stats().unwrap().completed, 2);
}

#[test]
fn a_file_the_application_made_first_takes_the_scheduler_beside_its_tables() {
    let db = TestDb::new();
    // The application's database, made before the scheduler ever saw it.
    bank(&db);
    let s = builder(&db)
        .register::<Transfer>()
        .register::<Receipt>()
        .start()
        .unwrap();
    let id = s
        .enqueue(Transfer {
            amount: 25,
            gate: None,
            fail_first: false,
        })
        .unwrap()
        .id;
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
    assert_eq!(s.run(id).unwrap().result.as_deref(), Some("25"));
    assert_eq!(balances(&db), (75, 25, 1));
    s.shutdown(WAIT).unwrap();
}

#[test]
fn a_failing_transaction_keeps_nothing_and_the_retry_writes_once() {
    let db = TestDb::new();
    drop(db.open());
    bank(&db);
    let s = builder(&db)
        .register::<Transfer>()
        .register::<Receipt>()
        .start()
        .unwrap();
    let id = s
        .enqueue(Transfer {
            amount: 10,
            gate: None,
            fail_first: true,
        })
        .unwrap()
        .id;
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
    let run = s.run(id).unwrap();
    assert_eq!(run.attempt, 2);
    assert_eq!(run.errors[0].message, "the bank said no");
    assert_eq!(
        balances(&db),
        (90, 10, 1),
        "only the second attempt's writes"
    );
    assert_eq!(receipts(&s), [10], "and only its follow-up");
}

#[test]
fn a_worker_that_lost_its_lease_keeps_none_of_its_writes() {
    let db = TestDb::new();
    drop(db.open());
    bank(&db);
    let clock = Arc::new(ManualClock::new(T0));
    let s = builder(&db)
        .clock(clock.clone())
        .heartbeat_interval(Duration::from_secs(4))
        .maintenance(MaintenanceConfig::default().enabled(false))
        .register::<Transfer>()
        .register::<Receipt>()
        .start()
        .unwrap();
    let events = s.subscribe(64);
    let gate = "exactly-once-stolen";
    let id = s
        .enqueue(Transfer {
            amount: 50,
            gate: Some(gate.into()),
            fail_first: false,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || s.run(id).unwrap().status == RunStatus::Running));
    // The worker stalls past its lease; the run is rescued and taken by another worker
    // (inside the scheduler's own store, so its heartbeat cannot slip in between).
    let thief = s
        .store()
        .write(|tx| {
            tx.register_worker(
                &NewWorker::new("thief", "h", 1),
                clock.now(),
                HostInstant::now(),
            )
        })
        .unwrap();
    let token = s
        .store()
        .write(|tx| {
            clock.advance(Duration::from_secs(60));
            // 60 s on the wall clock and, as far as the lease is concerned, on the host's
            // monotonic clock too (the rescue judges by that one).
            let later = HostInstant::now().after(Duration::from_secs(60));
            tx.rescue_expired_leases(clock.now(), later, 10, &no_delay())?;
            Ok(tx.claim_runs(
                thief,
                1,
                clock.now(),
                HostInstant::now(),
                Duration::from_secs(600),
                &JobTypeFilter::any(),
            )?[0]
                .token)
        })
        .unwrap();
    // The stalled job wakes and runs its transaction: refused, nothing kept.
    open_gate(gate);
    assert!(
        wait_event(
            &events,
            WAIT,
            |e| matches!(e, Event::LeaseLost { run, .. } if *run == id)
        )
        .is_some()
    );
    assert!(wait_for(WAIT, || s.stats().unwrap().in_flight == 0));
    assert_eq!(
        balances(&db),
        (100, 0, 0),
        "the lost worker's writes were discarded"
    );
    assert!(receipts(&s).is_empty(), "and its follow-up with them");
    // The current holder finishes.
    s.store()
        .write(|tx| {
            tx.finish_attempt(
                id,
                token,
                &AttemptOutcome::Completed {
                    result: "null".into(),
                },
                None,
                clock.now(),
            )
        })
        .unwrap();
    assert_eq!(s.run(id).unwrap().status, RunStatus::Completed);
}

#[test]
fn a_panic_inside_the_transaction_fails_the_attempt_with_its_message_and_frees_the_slot() {
    let db = TestDb::new();
    let s = builder(&db)
        .worker_threads(1)
        .register::<PanicInTransaction>()
        .start()
        .unwrap();
    let id = s
        .enqueue(PanicInTransaction {
            message: "boom inside the transaction".into(),
        })
        .unwrap()
        .id;
    assert!(
        s.wait(id, WAIT)
            .is_ok_and(|r| r.status == RunStatus::Failed),
        "the run is wedged: {:?}",
        s.run(id).unwrap()
    );
    let run = s.run(id).unwrap();
    assert_eq!(run.attempt, 2, "both attempts ran and failed");
    assert_eq!(run.errors.len(), 2);
    for e in &run.errors {
        assert_eq!(e.kind, runloom::store::AttemptErrorKind::Panic);
        assert!(e.message.contains("boom inside the transaction"), "{e:?}");
    }
    assert!(wait_for(WAIT, || s.stats().unwrap().in_flight == 0));
    assert_eq!(s.stats().unwrap().panics, 2);
    let report = s.shutdown(Duration::from_secs(30)).unwrap();
    assert!(
        report.stuck.is_empty() && report.released.is_empty(),
        "{report:?}"
    );
}
