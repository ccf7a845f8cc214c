//! The first thing to run: a host binary that starts the scheduler on the embedded
//! default database (`./scheduler.db`) with three job types declared with
//! `#[derive(Job)]`:
//!
//! * `send_invoice` fails its first attempt (a flaky mail server) and is retried;
//! * `build_report` runs as a chain, fetch → render → publish, each step waiting for the
//!   one before;
//! * `collect_metrics` runs on a cron schedule every two seconds.
//!
//! It prints each event as it happens and a summary table, and exits on its own once the
//! work is done and the schedule has fired three times, with no run left running and no
//! lease left behind. Run it again: it works against the same database.
//!
//! ```text
//! cargo run --example quickstart
//! RUNLOOM_DB=postgres://postgres@127.0.0.1:5432/jobs cargo run --example quickstart
//! ```
//!
//! With `RUNLOOM_DB` set it runs on that database instead: a file, or a PostgreSQL URL
//! (`cargo run -p runloom-testkit --bin dev-postgres` starts a local server for it).

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use runloom::{Event, Job, JobContext, JobError, Perform, RunFilter, RunId, RunStatus, Scheduler};
use serde::{Deserialize, Serialize};

/// Fails its first attempt, then succeeds.
#[derive(Serialize, Deserialize, Job)]
#[job(max_attempts = 3, backoff = "300ms", priority = 10, unique = "invoice")]
struct SendInvoice {
    invoice: String,
}

impl Perform for SendInvoice {
    type Output = String;
    fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
        if ctx.attempt() == 1 {
            return Err(JobError::retry("mail server timed out"));
        }
        // The key is the same on every attempt: the mail provider deduplicates with it.
        Ok(format!(
            "{} sent (key {})",
            self.invoice,
            ctx.idempotency_key()
        ))
    }
}

/// One step of a report; the steps are chained.
#[derive(Serialize, Deserialize, Job)]
#[job(timeout = "10s")]
struct BuildReport {
    step: String,
}

impl Perform for BuildReport {
    type Output = String;
    fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
        ctx.sleep(Duration::from_millis(300))?;
        Ok(format!("{} done", self.step))
    }
}

/// Runs every two seconds from its own attribute.
#[derive(Serialize, Deserialize, Job)]
#[job(cron = "*/2 * * * * *", unique)]
struct CollectMetrics;

impl Perform for CollectMetrics {
    type Output = ();
    fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        println!("  [metrics] collected for {}", ctx.scheduled_at().time());
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The database defaults to ./scheduler.db; RUNLOOM_DB names a file or a PostgreSQL URL.
    let db = std::env::var("RUNLOOM_DB").ok().filter(|v| !v.is_empty());
    let (builder, shown) = match db.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            (Scheduler::builder().postgres(url), "PostgreSQL".to_owned())
        }
        Some(path) => (Scheduler::builder().database(path), path.to_owned()),
        None => (Scheduler::builder(), "./scheduler.db".to_owned()),
    };
    let scheduler = builder
        .worker_threads(4)
        .register::<SendInvoice>()
        .register::<BuildReport>()
        .register::<CollectMetrics>()
        .start()?;
    let events = scheduler.subscribe(1024);
    let started = Instant::now();
    let metrics = scheduler.schedule_default(CollectMetrics)?;

    let mut mine: Vec<RunId> = Vec::new();
    let mut chain = scheduler.batch();
    let fetch = chain.add(BuildReport {
        step: "fetch".into(),
    })?;
    let render = chain.add(BuildReport {
        step: "render".into(),
    })?;
    let publish = chain.add(BuildReport {
        step: "publish".into(),
    })?;
    chain
        .depends_on(render, fetch)?
        .depends_on(publish, render)?;
    mine.extend(chain.submit()?.iter().map(|r| r.id));
    let invoice = format!("INV-{}", std::process::id());
    mine.push(scheduler.enqueue(SendInvoice { invoice })?.id);
    println!(
        "enqueued {} runs and a schedule every 2 s into {shown}",
        mine.len()
    );

    let deadline = started + Duration::from_secs(25);
    // This session's runs of the schedule: created since this instance started (an
    // earlier session may have left some).
    let since = scheduler
        .admin()
        .workers(false)?
        .into_iter()
        .find(|w| w.worker.id == scheduler.worker_id())
        .ok_or("this instance is not in the workers table")?
        .worker
        .started_at;
    let metrics_runs = |status: Option<RunStatus>| -> Result<Vec<RunId>, runloom::Error> {
        Ok(scheduler
            .runs(&RunFilter::new().task(metrics.id).limit(1000))?
            .into_iter()
            .filter(|r| r.created_at >= since && status.is_none_or(|s| r.status == s))
            .map(|r| r.id)
            .collect())
    };
    loop {
        // Woken by each event (at most half a second apart, for the checks below).
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(500));
        if let Ok(e) = events.recv_timeout(wait) {
            let at = started.elapsed().as_millis();
            match e {
                Event::Started {
                    run,
                    job_type,
                    attempt,
                    ..
                } if job_type != "collect_metrics" => {
                    println!("  [{at:>5} ms] run {run} {job_type} started (attempt {attempt})");
                }
                Event::Completed {
                    run,
                    job_type,
                    duration,
                } if job_type != "collect_metrics" => {
                    println!("  [{at:>5} ms] run {run} {job_type} completed in {duration:.0?}");
                }
                Event::Retried {
                    run,
                    job_type,
                    attempt,
                    error,
                    ..
                } => {
                    println!(
                        "  [{at:>5} ms] run {run} {job_type} attempt {attempt} failed ({error}); retrying"
                    );
                }
                Event::Failed {
                    run,
                    job_type,
                    error,
                    ..
                } => {
                    println!("  [{at:>5} ms] run {run} {job_type} failed for good: {error}");
                }
                _ => {}
            }
        }
        let done = mine
            .iter()
            .filter(|id| {
                scheduler
                    .run(**id)
                    .map(|r| r.status.is_finished())
                    .unwrap_or(false)
            })
            .count();
        let fired = metrics_runs(Some(RunStatus::Completed))?.len();
        if (done == mine.len() && fired >= 3) || Instant::now() > deadline {
            break;
        }
    }

    // Summary of this session's runs (and of the schedule's runs since it started).
    let mut rows: Vec<RunId> = mine.clone();
    rows.extend(metrics_runs(None)?);
    let mut table: BTreeMap<(String, RunStatus), (u32, u32, Duration)> = BTreeMap::new();
    for id in rows {
        let run = scheduler.run(id)?;
        let row = table.entry((run.job_type.clone(), run.status)).or_default();
        row.0 += 1;
        row.1 += run.attempt;
        row.2 += run.duration.unwrap_or_default();
    }
    println!();
    println!(
        "{:<16} {:<10} {:>5} {:>9} {:>15}",
        "job type", "status", "runs", "attempts", "avg duration"
    );
    for ((job_type, status), (runs, attempts, total)) in &table {
        let avg_ms = total.as_secs_f64() * 1000.0 / f64::from(*runs);
        println!(
            "{job_type:<16} {:<10} {runs:>5} {attempts:>9} {avg_ms:>12.1} ms",
            status.as_str()
        );
    }
    let stats = scheduler.stats()?;
    println!(
        "\ndatabase now holds {} runs: {} completed, {} failed, {} pending, {} running",
        stats.counts.total(),
        stats.counts.completed,
        stats.counts.failed,
        stats.counts.pending,
        stats.counts.running
    );

    // The schedule is this demo's: remove it so the database keeps no schedule whose job
    // type the other examples sharing it do not run.
    scheduler.unschedule("collect_metrics")?;
    let report = scheduler.shutdown(Duration::from_secs(5))?;
    let leases: Vec<RunId> = scheduler
        .admin()
        .workers(true)?
        .into_iter()
        .filter(|w| w.worker.id == scheduler.worker_id())
        .flat_map(|w| w.runs)
        .collect();
    let running = mine
        .iter()
        .filter(|id| {
            scheduler
                .run(**id)
                .map(|r| r.status == RunStatus::Running)
                .unwrap_or(false)
        })
        .count();
    println!(
        "shut down after {:.1} s: {} released, {} running, {} leases left",
        started.elapsed().as_secs_f64(),
        report.released.len(),
        running,
        leases.len()
    );
    if running != 0 || !leases.is_empty() {
        return Err("runs left running or leases left behind".into());
    }
    Ok(())
}
