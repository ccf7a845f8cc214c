//! The test mode users get (`runloom::testing`): one job's `perform` inline with a
//! context the test builds (attempt, state, upstream results, the database of
//! `ctx.transaction`, a cancellation), and a scheduler that runs nothing until drained,
//! on a manual clock, with assertions on what was enqueued.
#![cfg(feature = "derive")]

mod common;

use std::time::Duration;

use common::TestDb;
use runloom::{
    CancelReason, Error, Job, JobContext, JobError, Perform, RunStatus, ScheduleSpec, Scheduler,
    sqlite::JobContextExt,
    testing::{TestContext, TestScheduler},
};
use serde::{Deserialize, Serialize};

struct Rate(i64);

#[derive(Serialize, Deserialize, Job, PartialEq, Debug)]
#[job(state = "Rate")]
struct Bill {
    account: i64,
    units: i64,
}

#[derive(Serialize, Deserialize, Job, PartialEq, Debug)]
struct Receipt {
    account: i64,
    cents: i64,
}

impl Perform for Bill {
    type Output = i64;
    fn perform(&self, ctx: &JobContext) -> Result<i64, JobError> {
        ctx.check_cancelled()?;
        if self.units == 0 {
            return Err(JobError::fail("nothing to bill"));
        }
        let cents = self.units * ctx.state::<Rate>()?.0;
        ctx.enqueue_on_completion(Receipt {
            account: self.account,
            cents,
        })?;
        ctx.transaction(|db| {
            db.execute(
                "UPDATE accounts SET owed = owed + ?1 WHERE id = ?2",
                [cents, self.account],
            )?;
            Ok(cents)
        })
    }
}

impl Perform for Receipt {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

fn accounts(db: &TestDb) {
    db.raw()
        .execute_batch(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owed INTEGER NOT NULL);
             INSERT INTO accounts VALUES (1, 0);",
        )
        .unwrap();
}

fn owed(db: &TestDb) -> i64 {
    db.raw()
        .query_row("SELECT owed FROM accounts WHERE id = 1", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn perform_inline_writes_the_apps_tables_and_reports_its_follow_ups() {
    let db = TestDb::new();
    accounts(&db);
    let test = TestContext::new().state(Rate(250)).database(&db.path);
    let done = test
        .perform(&Bill {
            account: 1,
            units: 4,
        })
        .unwrap();
    assert_eq!(done.result.as_ref().ok(), Some(&1000));
    assert_eq!(
        done.enqueued::<Receipt>().unwrap(),
        [Receipt {
            account: 1,
            cents: 1000
        }]
    );
    assert!(
        done.was_enqueued(&Receipt {
            account: 1,
            cents: 1000
        })
        .unwrap()
    );
    assert!(
        !done
            .was_enqueued(&Receipt {
                account: 1,
                cents: 999
            })
            .unwrap()
    );
    assert_eq!(owed(&db), 1000, "the transaction committed");
}

#[test]
fn a_failing_perform_reports_its_error_and_no_follow_up() {
    let test = TestContext::new().state(Rate(250));
    let done = test
        .perform(&Bill {
            account: 1,
            units: 0,
        })
        .unwrap();
    let err = done.result.as_ref().err().unwrap();
    assert_eq!(err.kind(), runloom::JobErrorKind::Fail);
    assert_eq!(done.enqueued_count(), 0);
}

#[test]
fn the_context_is_what_the_test_says() {
    #[derive(Serialize, Deserialize, Job)]
    struct Inspect;
    impl Perform for Inspect {
        type Output = (u32, u32, bool, String);
        fn perform(&self, ctx: &JobContext) -> Result<Self::Output, JobError> {
            Ok((
                ctx.attempt(),
                ctx.max_attempts(),
                ctx.is_last_attempt(),
                ctx.job_type().to_owned(),
            ))
        }
    }
    let done = TestContext::new().attempt(5, 5).perform(&Inspect).unwrap();
    assert_eq!(done.result.ok(), Some((5, 5, true, "inspect".to_owned())));
    // Asked to stop: the job's own check says so.
    let stopped = TestContext::new()
        .state(Rate(1))
        .cancelled(CancelReason::Shutdown)
        .perform(&Bill {
            account: 1,
            units: 1,
        })
        .unwrap();
    assert_eq!(
        stopped.result.err().map(|e| e.kind()),
        Some(runloom::JobErrorKind::Cancel)
    );
    // Missing state fails as it would in a scheduler.
    let missing = TestContext::new()
        .perform(&Bill {
            account: 1,
            units: 1,
        })
        .unwrap();
    assert!(missing.result.unwrap_err().to_string().contains("Rate"));
}

#[test]
fn upstream_results_given_by_the_test() {
    #[derive(Serialize, Deserialize, Job)]
    struct Branch(u8);
    impl Perform for Branch {
        type Output = Vec<i64>;
        fn perform(&self, _: &JobContext) -> Result<Vec<i64>, JobError> {
            Ok(vec![])
        }
    }
    #[derive(Serialize, Deserialize, Job)]
    struct Merge;
    impl Perform for Merge {
        type Output = i64;
        fn perform(&self, ctx: &JobContext) -> Result<i64, JobError> {
            Ok(ctx.upstream_results::<Branch>()?.iter().flatten().sum())
        }
    }
    let test = TestContext::new()
        .upstream(&Branch(1), &vec![1, 2])
        .upstream(&Branch(2), &vec![10]);
    assert_eq!(test.perform(&Merge).unwrap().result.ok(), Some(13));
    assert_eq!(
        TestContext::new().perform(&Merge).unwrap().result.ok(),
        Some(0)
    );
}

#[test]
fn a_test_scheduler_runs_nothing_until_drained_and_then_everything_due() {
    let db = TestDb::new();
    accounts(&db);
    let test = TestScheduler::start(
        Scheduler::builder()
            .database(&db.path)
            .state(Rate(100))
            .register::<Bill>()
            .register::<Receipt>(),
    )
    .unwrap();
    let id = test
        .enqueue(Bill {
            account: 1,
            units: 3,
        })
        .unwrap()
        .id;
    assert!(
        test.is_enqueued(&Bill {
            account: 1,
            units: 3
        })
        .unwrap()
    );
    // Not run within a generous window: claiming is paused until the drain.
    assert!(matches!(
        test.wait(id, Duration::from_millis(300)),
        Err(Error::WaitTimeout { .. })
    ));
    assert_eq!(owed(&db), 0);
    let drained = test.drain().unwrap();
    // The bill and the receipt it created, in one drain.
    assert_eq!(drained.completed, 2, "{drained:?}");
    assert_eq!(test.run(id).unwrap().status, RunStatus::Completed);
    assert_eq!(owed(&db), 300);
    assert_eq!(
        test.enqueued::<Receipt>().unwrap(),
        [Receipt {
            account: 1,
            cents: 300
        }]
    );
    assert!(test.is_paused().unwrap(), "paused again after the drain");
    test.shutdown().unwrap();
}

#[test]
fn a_schedule_fires_when_the_test_moves_the_clock() {
    #[derive(Serialize, Deserialize, Job)]
    struct Tick;
    impl Perform for Tick {
        type Output = ();
        fn perform(&self, _: &JobContext) -> Result<(), JobError> {
            Ok(())
        }
    }
    let at = time::macros::datetime!(2026-06-01 08:59:30 UTC);
    let test = TestScheduler::start_at(Scheduler::builder().register::<Tick>(), at).unwrap();
    test.schedule("every-minute", Tick, ScheduleSpec::cron("0 * * * * *"))
        .unwrap();
    assert_eq!(test.drain().unwrap().completed, 0, "not due yet");
    test.advance(Duration::from_secs(31));
    assert_eq!(test.drain().unwrap().completed, 1, "09:00 fired");
    test.advance(Duration::from_secs(120));
    // 09:01 and 09:02, each created once and run.
    assert_eq!(test.drain().unwrap().completed, 2);
    assert_eq!(test.enqueued::<Tick>().unwrap().len(), 3);
    test.shutdown().unwrap();
}

#[test]
fn two_test_schedulers_without_a_database_do_not_share_one() {
    let a = TestScheduler::start(
        Scheduler::builder()
            .state(Rate(1))
            .register::<Bill>()
            .register::<Receipt>(),
    )
    .unwrap();
    let b = TestScheduler::start(Scheduler::builder().register::<Receipt>()).unwrap();
    a.enqueue(Receipt {
        account: 9,
        cents: 1,
    })
    .unwrap();
    assert_eq!(a.enqueued::<Receipt>().unwrap().len(), 1);
    assert!(b.enqueued::<Receipt>().unwrap().is_empty());
    a.shutdown().unwrap();
    b.shutdown().unwrap();
}
