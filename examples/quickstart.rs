//! The first thing to run: a host binary that starts the scheduler on the embedded
//! default database (`./scheduler.db`), enqueues jobs of three kinds (one succeeds, one
//! fails once and is retried, one panics every time), shows progress while they run,
//! prints a summary, and shuts down cleanly with no run left running and no lease
//! left behind. Run it again and it works against the same database.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use scheduler::{
    EnqueueOptions, Event, Job, JobContext, JobError, JobOptions, Perform, RunId, RunStatus,
    Scheduler,
};
use serde::{Deserialize, Serialize};

/// Succeeds: returns the size of a made-up report.
#[derive(Serialize, Deserialize)]
struct BuildReport {
    day: u32,
}

impl Job for BuildReport {
    const NAME: &'static str = "build_report";
}

impl Perform for BuildReport {
    type Output = u32;
    fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
        ctx.sleep(Duration::from_millis(150))?;
        Ok(self.day * 1000 + 17)
    }
}

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails its first attempt (a flaky remote service), then succeeds.
#[derive(Serialize, Deserialize)]
struct SendInvoice {
    customer: String,
}

impl Job for SendInvoice {
    const NAME: &'static str = "send_invoice";
    fn options() -> JobOptions {
        JobOptions::new()
            .max_attempts(3)
            .backoff(Duration::from_millis(300))
    }
}

impl Perform for SendInvoice {
    type Output = String;
    fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
        FLAKY_CALLS.fetch_add(1, Ordering::Relaxed);
        if ctx.attempt() == 1 {
            return Err(JobError::retry("mail server timed out"));
        }
        // The key is the same on every attempt: the mail provider deduplicates with it.
        Ok(format!(
            "sent to {} (key {})",
            self.customer,
            ctx.idempotency_key()
        ))
    }
}

/// Panics every time: the scheduler records the panic and the run fails after its
/// attempts; the worker threads carry on.
#[derive(Serialize, Deserialize)]
struct ParseLegacyFile;

impl Job for ParseLegacyFile {
    const NAME: &'static str = "parse_legacy_file";
    fn options() -> JobOptions {
        JobOptions::new()
            .max_attempts(2)
            .backoff(Duration::from_millis(100))
    }
}

impl Perform for ParseLegacyFile {
    type Output = ();
    fn perform(&self, _ctx: &JobContext) -> Result<(), JobError> {
        panic!("unexpected byte 0xFF at offset 12");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Job panics are caught and recorded on the run; keep the default hook from printing
    // a backtrace banner for them in this demo.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("?");
        eprintln!("  (a job panicked: {message:?}; the scheduler records it and carries on)");
    }));

    let scheduler = Scheduler::builder() // the database defaults to ./scheduler.db
        .worker_threads(4)
        .register::<BuildReport>()
        .register::<SendInvoice>()
        .register::<ParseLegacyFile>()
        .start()?;
    let events = scheduler.subscribe(1024);

    let mut mine: Vec<(RunId, &str)> = Vec::new();
    let mut batch = scheduler.batch();
    for day in 1..=5 {
        batch.add(BuildReport { day })?;
    }
    let reports = batch.submit()?;
    mine.extend(reports.iter().map(|r| (r.id, "build_report")));
    let invoice = scheduler.enqueue_with(
        SendInvoice {
            customer: "ACME".into(),
        },
        EnqueueOptions::new().priority(10),
    )?;
    mine.push((invoice.id, "send_invoice"));
    mine.push((scheduler.enqueue(ParseLegacyFile)?.id, "parse_legacy_file"));
    println!("enqueued {} runs into ./scheduler.db", mine.len());

    let started = Instant::now();
    let deadline = started + Duration::from_secs(25);
    loop {
        while let Ok(e) = events.try_recv() {
            match e {
                Event::Completed {
                    run,
                    job_type,
                    duration,
                } => {
                    println!(
                        "  [{:>5} ms] run {run} {job_type} completed in {duration:.0?}",
                        started.elapsed().as_millis()
                    );
                }
                Event::Retried {
                    run,
                    job_type,
                    attempt,
                    error,
                    ..
                } => {
                    println!(
                        "  [{:>5} ms] run {run} {job_type} attempt {attempt} failed ({error}); retrying",
                        started.elapsed().as_millis()
                    );
                }
                Event::Failed {
                    run,
                    job_type,
                    attempt,
                    error,
                } => {
                    println!(
                        "  [{:>5} ms] run {run} {job_type} failed for good after {attempt} attempts: {error}",
                        started.elapsed().as_millis()
                    );
                }
                _ => {}
            }
        }
        let finished = mine
            .iter()
            .filter(|(id, _)| {
                scheduler
                    .run(*id)
                    .map(|r| r.status.is_finished())
                    .unwrap_or(false)
            })
            .count();
        if finished == mine.len() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    // Summary: this session's runs by job type and status.
    let mut table: BTreeMap<(&str, RunStatus), (u32, u32, Duration)> = BTreeMap::new();
    for (id, job_type) in &mine {
        let run = scheduler.run(*id)?;
        let row = table.entry((job_type, run.status)).or_default();
        row.0 += 1;
        row.1 += run.attempt;
        row.2 += run.duration.unwrap_or_default();
    }
    println!();
    println!(
        "{:<20} {:<10} {:>5} {:>9} {:>15}",
        "job type", "status", "runs", "attempts", "avg duration"
    );
    for ((job_type, status), (runs, attempts, total)) in &table {
        let avg_ms = total.as_secs_f64() * 1000.0 / f64::from(*runs);
        println!(
            "{job_type:<20} {:<10} {runs:>5} {attempts:>9} {avg_ms:>12.1} ms",
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

    let report = scheduler.shutdown(Duration::from_secs(5))?;
    let leases = scheduler
        .store()
        .read(|tx| tx.leases_of_worker(scheduler.worker_id()))?;
    let still_running = mine
        .iter()
        .filter(|(id, _)| {
            scheduler
                .run(*id)
                .map(|r| r.status == RunStatus::Running)
                .unwrap_or(false)
        })
        .count();
    println!(
        "shut down: {} released, {} running, {} leases left",
        report.released.len(),
        still_running,
        leases.len()
    );
    if still_running != 0 || !leases.is_empty() {
        return Err("runs left running or leases left behind".into());
    }
    Ok(())
}
