//! A tour of the operator's handle, `Admin`, on the embedded default database file: it
//! opens `scheduler.db` in the current folder (creating and migrating it when needed),
//! enqueues a run of a job type by name as a tool would, lets a host complete it, and
//! then does what an operator does: shows the run with its attempts, pauses and
//! resumes claiming, retries failed runs by filter, prints the figures and migrations.
//!
//! ```text
//! cargo run --example admin_tour
//! ```

use std::time::Duration;

use runloom::{
    Admin, EnqueueOptions, Job, JobContext, JobError, Perform, RunFilter, RunStatus, Scheduler,
};
use serde::{Deserialize, Serialize};

const DB: &str = "scheduler.db";

#[derive(Serialize, Deserialize)]
struct Greet {
    name: String,
}

impl Job for Greet {
    const NAME: &'static str = "tour_greet";
}

impl Perform for Greet {
    type Output = String;
    fn perform(&self, _ctx: &JobContext) -> Result<String, JobError> {
        if self.name.is_empty() {
            return Err(JobError::fail("nobody to greet"));
        }
        Ok(format!("hello, {}", self.name))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A tool creates the database the way `runloom migrate up` does.
    let admin = Admin::builder(DB).create()?;
    let applied = admin.migrate_up(None, false)?;
    println!(
        "schema version {} of {} ({} migration(s) applied now)",
        admin.schema_version()?,
        Admin::latest_schema_version(),
        applied.len()
    );

    // A host that runs the job type; it records the types it runs, so tools can check
    // the names they enqueue.
    let host = Scheduler::builder()
        .database(DB)
        .worker_threads(2)
        .register::<Greet>()
        .start()?;
    let ok = admin.enqueue_json(Greet::NAME, r#"{"name":"world"}"#, &EnqueueOptions::new())?;
    let broken = admin.enqueue_json(
        Greet::NAME,
        r#"{"name":""}"#,
        &EnqueueOptions::new().max_attempts(1),
    )?;
    println!("enqueued runs {} and {} by name", ok.id, broken.id);
    match admin.enqueue_json("no_such_job", "{}", &EnqueueOptions::new()) {
        Err(e) => println!("refused: {e}"),
        Ok(_) => return Err("an unregistered job type was accepted".into()),
    }

    let run = admin.wait(ok.id, Duration::from_secs(20))?;
    println!(
        "run {} is {} with result {}",
        run.id,
        run.status,
        run.result.as_deref().unwrap_or("-")
    );
    let failed = admin.wait(broken.id, Duration::from_secs(20))?;
    let details = admin.run_details(failed.id)?;
    for e in &details.run.errors {
        println!(
            "run {} attempt {}: {} ({})",
            failed.id, e.attempt, e.message, e.kind
        );
    }

    println!("paused now: {}", admin.pause()?);
    println!("claiming paused: {}", admin.is_paused()?);
    println!("resumed now: {}", admin.resume()?);

    let report = admin.retry_where(
        &RunFilter::new()
            .status(RunStatus::Failed)
            .job_type(Greet::NAME)
            .limit(100),
    )?;
    println!(
        "retried {} failed run(s), {} refused",
        report.retried.len(),
        report.refused.len()
    );
    for id in &report.retried {
        let again = admin.wait(*id, Duration::from_secs(20))?;
        println!("run {id} is {} again after its retry", again.status);
    }

    let figures = admin.figures()?;
    println!(
        "runs in the database: {} ({} completed, {} failed)",
        figures.counts.total(),
        figures.counts.completed,
        figures.counts.failed
    );
    for w in admin.workers(false)? {
        println!(
            "worker {} ({}) holds {} run(s)",
            w.worker.id,
            w.worker.status,
            w.runs.len()
        );
    }
    host.shutdown(Duration::from_secs(5))?;
    Ok(())
}
