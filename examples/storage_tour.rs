//! A tour of the storage layer on the embedded default database file: opens (creating
//! and migrating) `scheduler.db` in the current folder, enqueues a run, claims it under a
//! lease, completes it with the fencing token, and prints the run and the schema version.
//!
//! ```text
//! cargo run --example storage_tour
//! ```

use std::time::Duration;

use runloom::clock::HostInstant;
use runloom::{
    Clock, SystemClock,
    store::{AttemptOutcome, JobTypeFilter, NewRun, NewWorker, Store, StoreOptions},
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(StoreOptions::file("scheduler.db"))?;
    let clock = SystemClock;
    println!("schema version {}", store.schema_version()?);

    let now = clock.now();
    let worker = store.write(|tx| {
        let me = NewWorker::new("storage-tour", "localhost", 1);
        tx.register_worker(&me, now, HostInstant::now())
    })?;
    let enqueued =
        store.write(|tx| tx.insert_run(&NewRun::new("greet", r#"{"name":"world"}"#, now), now))?;
    println!("enqueued run {}", enqueued.id);

    let claimed = store.write(|tx| {
        tx.claim_runs(
            worker,
            10,
            clock.now(),
            HostInstant::now(),
            Duration::from_secs(30),
            &JobTypeFilter::any(),
        )
    })?;
    for run in &claimed {
        println!(
            "claimed run {} (attempt {}, lease token {})",
            run.id, run.attempt, run.token
        );
        let outcome = AttemptOutcome::Completed {
            result: r#""hello, world""#.to_owned(),
        };
        store.write(|tx| tx.finish_attempt(run.id, run.token, &outcome, None, clock.now()))?;
    }

    let run = store.read(|tx| tx.get_run(enqueued.id))?;
    println!(
        "run {} is {} with result {:?}",
        run.id, run.status, run.result
    );
    let counts = store.read(|tx| tx.count_runs_by_status())?;
    println!(
        "runs in the database: {} ({} completed)",
        counts.total(),
        counts.completed
    );
    store.write(|tx| tx.mark_worker_offline(worker, clock.now()))?;
    Ok(())
}
