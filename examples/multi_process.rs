//! Two processes on one database file; one is killed with SIGKILL in the middle of its
//! runs, and the other finishes them once their leases expire.
//!
//! The program starts itself twice as a worker process (`multi_process worker`),
//! enqueues work, kills one worker while it holds runs, and prints who finished what.
//! It uses its own database file (`./multi_process.db`, recreated at each run).
//!
//! ```text
//! cargo run --example multi_process
//! ```

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Child, Command},
    time::{Duration, Instant},
};

use runloom::{
    Admin, EnqueueOptions, Job, JobContext, JobError, MaintenanceConfig, Perform, RunFilter,
    RunStatus, Scheduler,
};
use serde::{Deserialize, Serialize};

const DB: &str = "multi_process.db";
const STOP: &str = "multi_process.stop";

/// Works for a while and reports which process ran it.
#[derive(Serialize, Deserialize, Job)]
struct Slow {
    n: u32,
}

impl Perform for Slow {
    type Output = u32;
    fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
        ctx.sleep(Duration::from_millis(400))?;
        Ok(std::process::id())
    }
}

/// A worker process: a scheduler on the shared file until the stop file appears.
fn worker() -> Result<(), Box<dyn std::error::Error>> {
    let s = Scheduler::builder()
        .database(DB)
        .worker_threads(2)
        .lease_duration(Duration::from_secs(2))
        .heartbeat_interval(Duration::from_millis(500))
        .poll_interval(Duration::from_millis(50))
        .maintenance(
            MaintenanceConfig::default()
                .lease_rescue_interval(Duration::from_millis(200))
                .worker_check_interval(Duration::from_millis(500))
                .stale_worker_after(Duration::from_millis(1500)),
        )
        .register::<Slow>()
        .start()?;
    while !Path::new(STOP).exists() {
        std::thread::sleep(Duration::from_millis(50));
    }
    s.shutdown(Duration::from_secs(5))?;
    Ok(())
}

fn spawn() -> Result<Child, std::io::Error> {
    Command::new(std::env::current_exe()?).arg("worker").spawn()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("worker") {
        return worker();
    }
    for f in [DB, &format!("{DB}-wal"), &format!("{DB}-shm"), STOP] {
        let _ = std::fs::remove_file(f);
    }
    // This process runs no scheduler: it creates the database and enqueues by name, as
    // an operator's tool does, before any worker has registered the job type.
    let admin = Admin::builder(DB).create()?;
    admin.migrate_up(None, false)?;
    let mut runs = Vec::new();
    for n in 0..16 {
        let payload = format!(r#"{{"n":{n}}}"#);
        runs.push(admin.enqueue_json_any_type(Slow::NAME, &payload, &EnqueueOptions::new())?);
    }
    println!("enqueued {} runs of 400 ms each into {DB}", runs.len());

    let mut a = spawn()?;
    let mut b = spawn()?;
    println!("started worker processes {} and {}", a.id(), b.id());
    // Wait until process b has finished some runs and holds others, then kill it in
    // the middle of them.
    let started = Instant::now();
    let b_pid = b.id().to_string();
    let held = loop {
        let b_done = admin
            .runs(&RunFilter::new().status(RunStatus::Completed))?
            .iter()
            .filter(|r| r.result.as_deref() == Some(b_pid.as_str()))
            .count();
        let workers = admin.workers(false)?;
        if let Some(w) = workers
            .into_iter()
            .find(|w| w.worker.pid == b.id() && !w.runs.is_empty() && b_done >= 2)
        {
            break w.runs;
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err("worker b never took a run".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    b.kill()?;
    b.wait()?;
    let killed_at = Instant::now();
    let held_list: Vec<String> = held.iter().map(ToString::to_string).collect();
    println!(
        "killed process {} with SIGKILL while it held runs {}",
        b.id(),
        held_list.join(", ")
    );

    // The other process finishes them: this admin has no events of its own and sees
    // each ending by re-reading (at most 100 ms apart).
    let ids: Vec<runloom::RunId> = runs.iter().map(|r| r.id).collect();
    let finished = admin.wait_all(&ids, Duration::from_secs(25))?;
    if finished.iter().any(|r| r.status != RunStatus::Completed) {
        return Err("a run did not complete".into());
    }
    println!(
        "all runs completed {:.1} s after the kill (lease 2 s)\n",
        killed_at.elapsed().as_secs_f64()
    );
    std::fs::write(STOP, b"")?;
    a.wait()?;

    let mut by_pid: BTreeMap<String, u32> = BTreeMap::new();
    println!(
        "{:<5} {:<10} {:>8}  finished by process",
        "run", "status", "attempts"
    );
    for run in admin.runs(&RunFilter::new().limit(100))?.iter().rev() {
        let pid = run.result.clone().unwrap_or_default();
        *by_pid.entry(pid.clone()).or_default() += 1;
        let note = if held.contains(&run.id) {
            "  <- held by the killed process, taken over"
        } else {
            ""
        };
        println!(
            "{:<5} {:<10} {:>8}  {pid}{note}",
            run.id,
            run.status.as_str(),
            run.attempt
        );
        if run.status != RunStatus::Completed {
            return Err(format!("run {} did not complete", run.id).into());
        }
    }
    println!("\nruns per process: {by_pid:?}; runs lost: 0");
    let _ = std::fs::remove_file(STOP);
    Ok(())
}
