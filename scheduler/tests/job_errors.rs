//! Errors that compose: `?` inside `perform` works on `anyhow::Error` and on
//! `Box<dyn Error + Send + Sync>` (the two error types Rust services use most), each
//! recorded on the run with its source chain; and a `JobError` is usable where a
//! `std::error::Error` is expected.

mod common;

use std::time::Duration;

use common::{TestDb, builder};
use runloom::{EnqueueOptions, Job, JobContext, JobError, Perform, RunStatus};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(20);

/// Fails through `?` on an `anyhow::Error` with context.
#[derive(Serialize, Deserialize)]
struct WithAnyhow;

impl Job for WithAnyhow {
    const NAME: &'static str = "with_anyhow";
}

fn load_config() -> anyhow::Result<u32> {
    let n: u32 = "not a number".parse()?;
    Ok(n)
}

impl Perform for WithAnyhow {
    type Output = u32;
    fn perform(&self, _: &JobContext) -> Result<u32, JobError> {
        let n = anyhow::Context::context(load_config(), "loading the config")?;
        Ok(n)
    }
}

/// Fails through `?` on a `Box<dyn Error + Send + Sync>`.
#[derive(Serialize, Deserialize)]
struct WithBoxed;

impl Job for WithBoxed {
    const NAME: &'static str = "with_boxed";
}

fn fetch() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err("upstream answered 503".into())
}

impl Perform for WithBoxed {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        fetch()?;
        Ok(())
    }
}

fn failed_with(job_type: &str, message: &str) {
    let db = TestDb::new();
    let s = builder(&db)
        .register::<WithAnyhow>()
        .register::<WithBoxed>()
        .start()
        .unwrap();
    let opts = EnqueueOptions::new().max_attempts(1);
    let id = s.enqueue_json(job_type, "null", opts).unwrap().id;
    assert!(s.wait(id, WAIT).is_ok());
    let run = s.run(id).unwrap();
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    assert_eq!(run.last_error.as_deref(), Some(message), "{run:?}");
    assert_eq!(run.errors.len(), 1, "{run:?}");
    s.shutdown(Duration::from_secs(10)).unwrap();
}

#[test]
fn question_mark_on_anyhow_records_the_context_and_its_cause() {
    failed_with(
        "with_anyhow",
        "loading the config: invalid digit found in string",
    );
}

#[test]
fn question_mark_on_a_boxed_error_records_its_message() {
    failed_with("with_boxed", "upstream answered 503");
}

#[test]
fn a_job_error_is_usable_as_a_std_error() {
    fn source_chain(e: &(dyn std::error::Error + 'static)) -> String {
        e.to_string()
    }
    let e = JobError::fail("no such customer");
    assert_eq!(source_chain(&*e), "no such customer");
    // Into the error types callers use, keeping the message.
    let boxed: Box<dyn std::error::Error + Send + Sync> = e.into_boxed();
    let any = anyhow::anyhow!(boxed);
    assert_eq!(any.to_string(), "no such customer");
    // And back: the course a constructor chose is the job's; a converted error retries.
    let back = JobError::from(any);
    assert_eq!(back.kind(), runloom::JobErrorKind::Retry);
    assert_eq!(back.message(), "no such customer");
}
