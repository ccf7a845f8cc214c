//! Application state in jobs: a value given to the builder is what every attempt reads
//! with `ctx.state::<T>()`, shared (one value, not a copy per run); a job type declaring
//! state it is not given stops the scheduler from starting; reading undeclared state
//! that is missing fails the run for good with a message naming the type.
#![cfg(feature = "derive")]

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use common::{TestDb, builder, wait_for};
use runloom::{Error, Job, JobContext, JobError, Perform, RunStatus, StateType};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(20);

/// Configuration the application builds once.
struct Config {
    greeting: String,
}

/// Shared, self-synchronising state: every run counts into the same value.
#[derive(Default)]
struct Sent {
    count: AtomicU64,
}

#[derive(Serialize, Deserialize, Job)]
#[job(state = "Config, Sent")]
struct Greet {
    name: String,
}

impl Perform for Greet {
    type Output = String;
    fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
        let config = ctx.state::<Config>()?;
        ctx.state::<Sent>()?.count.fetch_add(1, Ordering::SeqCst);
        Ok(format!("{}, {}", config.greeting, self.name))
    }
}

/// Reads state it does not declare.
#[derive(Serialize, Deserialize, Job)]
struct Undeclared;

impl Perform for Undeclared {
    type Output = ();
    fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        ctx.state::<Config>()?;
        Ok(())
    }
}

#[test]
fn every_attempt_reads_the_one_value_the_builder_was_given() {
    let db = TestDb::new();
    // An Arc the test keeps a clone of: the scheduler holds the same value.
    let sent = Arc::new(Sent::default());
    let s = builder(&db)
        .state(Config {
            greeting: "hello".into(),
        })
        .state(Sent::default())
        .state(sent.clone())
        .register::<Greet>()
        .start()
        .unwrap();
    let ids: Vec<_> = ["ann", "bob", "cy"]
        .iter()
        .map(|n| s.enqueue(Greet { name: (*n).into() }).unwrap().id)
        .collect();
    assert!(wait_for(WAIT, || ids.iter().all(|id| s
        .run(*id)
        .unwrap()
        .status
        == RunStatus::Completed)));
    assert_eq!(
        s.run(ids[1]).unwrap().result.as_deref(),
        Some("\"hello, bob\"")
    );
    // `Sent` and `Arc<Sent>` are two types, so two values: the jobs counted into the
    // `Sent`, and the test's Arc saw nothing.
    assert_eq!(sent.count.load(Ordering::SeqCst), 0);
    s.shutdown(WAIT).unwrap();
}

#[test]
fn the_counter_is_shared_by_every_run() {
    #[derive(Serialize, Deserialize, Job)]
    #[job(state = "Arc<Sent>")]
    struct Count;
    impl Perform for Count {
        type Output = ();
        fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
            ctx.state::<Arc<Sent>>()?
                .count
                .fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }
    let db = TestDb::new();
    let sent = Arc::new(Sent::default());
    let s = builder(&db)
        .state(sent.clone())
        .register::<Count>()
        .start()
        .unwrap();
    for _ in 0..20 {
        s.enqueue(Count).unwrap();
    }
    assert!(wait_for(WAIT, || sent.count.load(Ordering::SeqCst) == 20));
    s.shutdown(WAIT).unwrap();
    assert_eq!(sent.count.load(Ordering::SeqCst), 20);
}

#[test]
fn a_declared_state_missing_at_start_is_refused_before_anything_runs() {
    let db = TestDb::new();
    let err = builder(&db)
        .state(Sent::default())
        .register::<Greet>()
        .start()
        .unwrap_err();
    match &err {
        Error::MissingState { job_type, state } => {
            assert_eq!(job_type, "greet");
            assert_eq!(*state, StateType::of::<Config>().name());
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("Config"), "{err}");
    assert!(
        !db.path.exists(),
        "nothing was created for a scheduler that never started"
    );
}

#[test]
fn undeclared_missing_state_fails_the_run_for_good_naming_the_type() {
    let db = TestDb::new();
    let s = builder(&db).register::<Undeclared>().start().unwrap();
    let id = s.enqueue(Undeclared).unwrap().id;
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Failed);
    let run = s.run(id).unwrap();
    assert_eq!(
        run.attempt, 1,
        "not retried: a retry would not find it either"
    );
    let message = &run.errors[0].message;
    assert!(message.contains("app_state::Config"), "{message}");
    assert!(message.contains("SchedulerBuilder::state"), "{message}");
    s.shutdown(WAIT).unwrap();
}
