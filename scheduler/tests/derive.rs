//! `#[derive(Job)]` end to end on real database files: a derived job type registers,
//! runs and stores its result; its attribute options land on the stored run; its unique
//! key deduplicates an unfinished run; and `schedule_default` turns its `cron`
//! attribute into a schedule that fires.
#![cfg(feature = "derive")]

mod common;

use std::{
    sync::{Arc, Condvar, Mutex},
    time::Duration,
};

use common::{TestDb, builder, wait_for};
use runloom::{
    Error, Job, JobContext, JobError, JobOptions, ManualClock, Perform, RunFilter, RunStatus,
    ScheduleSpec, Scheduler, store::Schedule,
};
use serde::{Deserialize, Serialize};
use time::macros::datetime;

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

/// Every attribute but `cron`, on a job that adds two numbers.
#[derive(Serialize, Deserialize, Job)]
#[job(name = "derive_sum", priority = 7, max_attempts = 4)]
#[job(timeout = "30s", backoff = "250ms", unique = "key")]
struct Sum {
    key: String,
    a: i64,
    b: i64,
}

impl Perform for Sum {
    type Output = i64;
    fn perform(&self, _ctx: &JobContext) -> Result<i64, JobError> {
        Ok(self.a + self.b)
    }
}

#[test]
fn a_derived_job_runs_with_the_options_of_its_attributes() {
    assert_eq!(Sum::NAME, "derive_sum");
    assert_eq!(
        Sum::options(),
        JobOptions::new()
            .priority(7)
            .max_attempts(4)
            .timeout(Duration::from_secs(30))
            .backoff(Duration::from_millis(250))
    );

    let db = TestDb::new();
    let s = builder(&db).register::<Sum>().start().unwrap();
    let job = Sum {
        key: "first".into(),
        a: 2,
        b: 3,
    };
    let id = s.enqueue(job).unwrap().id;
    assert!(wait_status(&s, id, RunStatus::Completed));
    let run = s.run(id).unwrap();
    assert_eq!(run.job_type, "derive_sum");
    assert_eq!(run.result.as_deref(), Some("5"));
    assert_eq!(run.priority, 7);
    assert_eq!(run.max_attempts, 4);
    assert_eq!(run.timeout, Some(Duration::from_secs(30)));
    assert_eq!(run.backoff, Duration::from_millis(250));
    assert_eq!(run.unique_key.as_deref(), Some(r#"derive_sum:"first""#));
    assert_eq!(
        run.payload_json().unwrap(),
        serde_json::json!({"key": "first", "a": 2, "b": 3})
    );
    s.shutdown(Duration::from_secs(5)).unwrap();
}

/// Held until [`release`]: a run that stays unfinished while the test enqueues again.
static HELD: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

fn release() {
    *HELD.0.lock().unwrap() = true;
    HELD.1.notify_all();
}

/// Unique per `account`; `note` is left out of the key.
#[derive(Serialize, Deserialize, Job)]
#[job(unique = "account")]
struct Hold {
    account: u32,
    note: String,
}

impl Perform for Hold {
    type Output = ();
    fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        let released = HELD.0.lock().unwrap();
        // Bounded, so a failing test cannot hang the suite.
        let (released, _) = HELD.1.wait_timeout_while(released, WAIT, |r| !*r).unwrap();
        if *released {
            Ok(())
        } else {
            Err(JobError::fail("never released"))
        }
    }
}

#[test]
fn the_derived_unique_key_deduplicates_an_unfinished_run() {
    let db = TestDb::new();
    let s = builder(&db).register::<Hold>().start().unwrap();
    let hold = |account, note: &str| Hold {
        account,
        note: note.into(),
    };
    let first = s.enqueue(hold(1, "first")).unwrap();
    let again = s.enqueue(hold(1, "another note, same account")).unwrap();
    assert!(first.created);
    assert!(
        !again.created,
        "same account: the unfinished run is returned"
    );
    assert_eq!(again.id, first.id);
    let other = s.enqueue(hold(2, "first")).unwrap();
    assert!(other.created, "another account is another key");
    assert_eq!(
        s.run(first.id).unwrap().unique_key.as_deref(),
        Some("hold:1")
    );

    release();
    assert!(wait_status(&s, first.id, RunStatus::Completed));
    assert!(wait_status(&s, other.id, RunStatus::Completed));
    let later = s.enqueue(hold(1, "after")).unwrap();
    assert!(later.created, "a finished run no longer holds the key");
    assert_ne!(later.id, first.id);
    assert!(wait_status(&s, later.id, RunStatus::Completed));
    s.shutdown(Duration::from_secs(5)).unwrap();
}

/// A default schedule of every 5 minutes (crontab form).
#[derive(Serialize, Deserialize, Job)]
#[job(cron = "*/5 * * * *")]
struct Tick {
    label: String,
}

impl Perform for Tick {
    type Output = String;
    fn perform(&self, _ctx: &JobContext) -> Result<String, JobError> {
        Ok(format!("tick {}", self.label))
    }
}

#[test]
fn schedule_default_creates_the_schedule_of_the_cron_attribute() {
    assert_eq!(
        Tick::default_schedule(),
        Some(ScheduleSpec::cron("*/5 * * * *"))
    );
    let t0 = datetime!(2026-06-01 12:02:30 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let db = TestDb::new();
    let s = builder(&db)
        .clock(clock.clone())
        .register::<Tick>()
        .register::<Sum>()
        .start()
        .unwrap();

    let task = s.schedule_default(Tick { label: "a".into() }).unwrap();
    assert_eq!(task.name, "tick");
    assert_eq!(task.job_type, "tick");
    let schedules = s.schedules().unwrap();
    assert_eq!(schedules.len(), 1);
    let listed = &schedules[0];
    assert_eq!(listed.id, task.id);
    assert_eq!(
        listed.schedule,
        Schedule::Cron {
            expr: "*/5 * * * *".into(),
            timezone: None
        }
    );
    let first = datetime!(2026-06-01 12:05:00 UTC);
    assert_eq!(listed.next_run_at, Some(first));

    // The schedule fires at its time and the run completes.
    clock.set(first + Duration::from_millis(500));
    s.notify();
    let runs = || s.runs(&RunFilter::new().task(task.id)).unwrap();
    assert!(wait_for(WAIT, || !runs().is_empty()), "no occurrence");
    let run = &runs()[0];
    assert_eq!(run.scheduled_at, first);
    assert!(wait_status(&s, run.id, RunStatus::Completed));
    assert_eq!(
        s.run(run.id).unwrap().result.as_deref(),
        Some(r#""tick a""#)
    );
    assert_eq!(
        s.schedules().unwrap()[0].next_run_at,
        Some(datetime!(2026-06-01 12:10:00 UTC))
    );

    // A type without `cron` has no default schedule to create.
    let no_cron = s.schedule_default(Sum {
        key: "x".into(),
        a: 0,
        b: 0,
    });
    assert!(
        matches!(
            no_cron,
            Err(Error::InvalidArgument {
                name: "schedule",
                ..
            })
        ),
        "{no_cron:?}"
    );
    s.shutdown(Duration::from_secs(5)).unwrap();
}
