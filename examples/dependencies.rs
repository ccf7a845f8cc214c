//! A fan-out / fan-in workflow with one failing branch, on the embedded default database
//! (`./scheduler.db`), with a cron schedule that reports progress every two seconds.
//!
//! ```text
//!             ┌─> transform eu ──┐
//! extract ────┼─> transform us ──┼─> load ──> report
//!             └─> transform apac ┘ (fails)
//!                      └──────────────────> audit (runs even if apac fails)
//! ```
//!
//! `transform apac` fails for good, so `load` and `report`, which wait for it, end
//! `cancelled` with reason `upstream_failed`; `audit` waits for it through an edge that
//! says "run anyway". The program exits on its own once the workflow is over and the
//! monitor has reported three times.
//!
//! ```text
//! cargo run --example dependencies
//! ```

use std::time::{Duration, Instant};

use runloom::{
    Job, JobContext, JobError, OnUpstreamFailure, Perform, RunFilter, RunId, RunStatus,
    ScheduleSpec, Scheduler,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Job)]
#[job(name = "workflow_step", max_attempts = 2, backoff = "200ms")]
struct Step {
    name: String,
    fail: bool,
}

impl Perform for Step {
    type Output = String;
    fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
        ctx.sleep(Duration::from_millis(400))?;
        if self.fail {
            return Err(JobError::retry(format!(
                "{}: source unreachable",
                self.name
            )));
        }
        Ok(format!("{} done", self.name))
    }
}

/// Runs on a cron schedule while the workflow runs, printing where it stands.
#[derive(Serialize, Deserialize, Job)]
#[job(name = "workflow_monitor")]
struct Monitor;

impl Perform for Monitor {
    type Output = ();
    fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        println!(
            "  [monitor] cron occurrence at {}",
            ctx.scheduled_at().time()
        );
        Ok(())
    }
}

fn step(name: &str, fail: bool) -> Step {
    Step {
        name: name.to_owned(),
        fail,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scheduler = Scheduler::builder()
        .worker_threads(4)
        .register::<Step>()
        .register::<Monitor>()
        .start()?;
    let monitor = scheduler.schedule(
        "workflow-monitor",
        Monitor,
        ScheduleSpec::cron("*/2 * * * * *"),
    )?;

    let mut batch = scheduler.batch();
    let extract = batch.add(step("extract", false))?;
    let eu = batch.add(step("transform eu", false))?;
    let us = batch.add(step("transform us", false))?;
    let apac = batch.add(step("transform apac", true))?;
    let load = batch.add(step("load", false))?;
    let report = batch.add(step("report", false))?;
    let audit = batch.add(step("audit", false))?;
    for t in [eu, us, apac] {
        batch.depends_on(t, extract)?; // fan-out
        batch.depends_on(load, t)?; // fan-in
    }
    batch.depends_on(report, load)?;
    batch.depends_on_with(audit, apac, OnUpstreamFailure::Run)?;
    let names = [
        "extract",
        "transform eu",
        "transform us",
        "transform apac",
        "load",
        "report",
        "audit",
    ];
    let events = scheduler.subscribe(1024);
    let runs: Vec<RunId> = batch.submit()?.iter().map(|r| r.id).collect();
    println!(
        "submitted a workflow of {} runs in one transaction",
        runs.len()
    );

    let started = Instant::now();
    let mut last: Vec<RunStatus> = Vec::new();
    loop {
        let now: Vec<RunStatus> = runs
            .iter()
            .map(|id| scheduler.run(*id).map(|r| r.status))
            .collect::<Result<_, _>>()?;
        if now != last {
            let line: Vec<String> = names
                .iter()
                .zip(&now)
                .map(|(n, s)| format!("{n}: {s}"))
                .collect();
            println!(
                "  [{:>5} ms] {}",
                started.elapsed().as_millis(),
                line.join(", ")
            );
            last = now;
        }
        let monitored = scheduler
            .runs(
                &RunFilter::new()
                    .task(monitor.id)
                    .status(RunStatus::Completed),
            )?
            .len();
        let deadline = Duration::from_secs(25);
        if (last.iter().all(|s| s.is_finished()) && monitored >= 3) || started.elapsed() > deadline
        {
            break;
        }
        // Look again at the next event of the scheduler (a run started or ended), or
        // after half a second at most (a cascade's cancellations come without one).
        let _ = events.recv_timeout(
            deadline
                .saturating_sub(started.elapsed())
                .min(Duration::from_millis(500)),
        );
    }

    println!();
    println!("{:<16} {:<10} {:>8}  reason", "step", "status", "attempts");
    for (name, id) in names.iter().zip(&runs) {
        let run = scheduler.run(*id)?;
        let reason = run
            .cancel_reason
            .clone()
            .or_else(|| run.last_error.clone())
            .unwrap_or_default();
        println!(
            "{name:<16} {:<10} {:>8}  {reason}",
            run.status.as_str(),
            run.attempt
        );
    }
    let graph = scheduler.dependency_graph(runs[0])?;
    println!("\nthe graph of extract has {} edges", graph.len());

    // The monitor schedule is this demo's: remove it so the database keeps no schedule
    // whose job type other programs sharing it do not know.
    scheduler.unschedule("workflow-monitor")?;
    scheduler.shutdown(Duration::from_secs(5))?;
    Ok(())
}
