//! Graceful shutdown with runs in flight, on the embedded default database
//! (`./scheduler.db`).
//!
//! Two long jobs and two short ones are running or queued when the program asks the
//! scheduler to stop with a one-second grace period: the short ones finish within it;
//! the long ones are told to stop at its end and handed back without counting their
//! attempt; the queued one goes back at once. A second scheduler then finishes
//! everything.
//!
//! ```text
//! cargo run --example shutdown
//! ```

use std::time::{Duration, Instant};

use runloom::{Event, Job, JobContext, JobError, Perform, RunId, RunStatus, Scheduler};
use serde::{Deserialize, Serialize};

/// Works for `ms` milliseconds, stopping early if asked to (a well-behaved long job).
#[derive(Serialize, Deserialize, Job)]
struct Export {
    ms: u64,
}

impl Perform for Export {
    type Output = ();
    fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        ctx.sleep(Duration::from_millis(self.ms))
    }
}

fn start() -> Result<Scheduler, runloom::Error> {
    Scheduler::builder()
        .worker_threads(4)
        .max_in_flight(5)
        .register::<Export>()
        .start()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scheduler = start()?;
    let events = scheduler.subscribe(64);
    let mut ids: Vec<(RunId, &str)> = Vec::new();
    for (ms, what) in [
        (5000, "long"),
        (5000, "long"),
        (300, "short"),
        (300, "short"),
        (300, "queued"),
    ] {
        ids.push((scheduler.enqueue(Export { ms })?.id, what));
    }
    // Claimed is not started: with five runs in flight on four threads, one waits in
    // memory. Shut down once the job code of the first four has started.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut running: Vec<RunId> = Vec::new();
    while ids.iter().take(4).any(|(id, _)| !running.contains(id)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(Event::Started { run, .. }) => running.push(run),
            Ok(_) => {}
            Err(_) => return Err("the jobs did not start".into()),
        }
    }
    println!("four jobs running, one queued; shutting down with a 1 s grace period");

    let report = scheduler.shutdown(Duration::from_secs(1))?;
    let mut released: Vec<RunId> = report.released.clone();
    released.sort();
    let released: Vec<String> = released.iter().map(ToString::to_string).collect();
    println!(
        "shutdown report: {} finished in the grace period, {} released (runs {}), {} stuck",
        report.finished,
        report.released.len(),
        released.join(", "),
        report.stuck.len()
    );
    println!(
        "\n{:<5} {:<7} {:<10} {:>8}  history",
        "run", "job", "status", "attempts"
    );
    for (id, what) in &ids {
        let run = scheduler.run(*id)?;
        let history: Vec<String> = run
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.kind, e.message))
            .collect();
        println!(
            "{:<5} {what:<7} {:<10} {:>8}  {}",
            run.id,
            run.status.as_str(),
            run.attempt,
            history.join("; ")
        );
    }

    // The next start picks the released runs up again.
    let again = start()?;
    let restarted = Instant::now();
    let all: Vec<RunId> = ids.iter().map(|(id, _)| *id).collect();
    let finished = again.wait_all(&all, Duration::from_secs(20))?;
    if finished.iter().any(|r| r.status != RunStatus::Completed) {
        return Err("a released run did not complete".into());
    }
    println!(
        "\nrestarted: every run completed {:.1} s later, each with one counted attempt",
        restarted.elapsed().as_secs_f64()
    );
    for (id, _) in &ids {
        if again.run(*id)?.attempt != 1 {
            return Err(format!("run {id} counted a released attempt").into());
        }
    }
    again.shutdown(Duration::from_secs(5))?;
    Ok(())
}
