//! How long the scheduler holds the database's write lock doing large pieces of work:
//! adding a long dependency chain, cancelling one (the cascade), and catching up on
//! thousands of missed schedule occurrences. Every other writer of the file (other
//! processes' heartbeats among them) waits that long. Each figure is the longest single
//! write transaction of the work ([`Store::take_longest_write_hold`]); the baseline is
//! the same rows written by the minimal SQL in one transaction, which is what doing the
//! work in one go costs at least.

use std::time::{Duration, Instant};

use runloom::{
    MisfirePolicy, RunId, Scheduler,
    store::{DependencyLimits, NewDependency, NewTask, Schedule, Store, StoreOptions},
};

use crate::{BenchDb, NOW, NOW_MS, Result, ours::noop_runs};

/// A store on a fresh file with `n` pending runs; their ids.
fn runs(db: &BenchDb, n: usize) -> Result<(Store, Vec<RunId>)> {
    let store = Store::open(StoreOptions::file(db.path()))?;
    let ids = store.write(|tx| {
        Ok(tx
            .insert_runs(&noop_runs(n, NOW), NOW)?
            .iter()
            .map(|i| i.id)
            .collect())
    })?;
    Ok((store, ids))
}

fn chain(ids: &[RunId]) -> Vec<NewDependency> {
    ids.windows(2)
        .map(|w| NewDependency::new(w[1], w[0]))
        .collect()
}

/// The minimal SQL of a chain of edges on the scheduler's schema, one transaction.
fn raw_chain(store: &Store, ids: &[RunId]) -> Result<Duration> {
    let t0 = Instant::now();
    store.write(|tx| {
        let c = tx.connection();
        let mut edge = c.prepare(
            "INSERT INTO task_dependencies (downstream_id, upstream_id, created_at)
             VALUES (?1, ?2, ?3)",
        )?;
        let mut block = c.prepare(
            "UPDATE task_runs SET blocked_on = blocked_on + 1, status = 'blocked' WHERE id = ?1",
        )?;
        for w in ids.windows(2) {
            edge.execute(rusqlite::params![w[1], w[0], NOW_MS])?;
            block.execute([w[1]])?;
        }
        Ok(())
    })?;
    Ok(t0.elapsed())
}

/// Adding an `n`-edge chain onto existing runs in one call: (ours, baseline).
///
/// # Errors
/// Database errors.
pub fn add_chain(n: usize) -> Result<(Duration, Duration)> {
    let db = BenchDb::new();
    let (store, ids) = runs(&db, n + 1)?;
    let _ = store.take_longest_write_hold();
    store.add_dependencies(&chain(&ids), &DependencyLimits::default(), NOW)?;
    let ours = store.take_longest_write_hold();
    let raw_db = BenchDb::new();
    let (raw_store, raw_ids) = runs(&raw_db, n + 1)?;
    Ok((ours, raw_chain(&raw_store, &raw_ids)?))
}

/// Cancelling the head of an `n`-run chain, until the whole chain is cancelled: the
/// longest transaction of the cascade (ours), and the baseline cancelling all of it in
/// one statement.
///
/// # Errors
/// Database errors.
pub fn cascade(n: usize) -> Result<(Duration, Duration)> {
    let db = BenchDb::new();
    let (store, ids) = runs(&db, n)?;
    store.write(|tx| tx.add_dependencies(&chain(&ids), &DependencyLimits::default(), NOW))?;
    let _ = store.take_longest_write_hold();
    store.write(|tx| tx.cancel_run(ids[0], "bench", NOW))?;
    while store.write(|tx| tx.settle_queued(NOW))? {}
    let ours = store.take_longest_write_hold();
    let raw_db = BenchDb::new();
    let (raw_store, raw_ids) = runs(&raw_db, n)?;
    raw_chain(&raw_store, &raw_ids)?;
    let t0 = Instant::now();
    raw_store.write(|tx| {
        let c = tx.connection();
        c.execute(
            "UPDATE task_runs SET status = 'cancelled', cancel_reason = 'upstream_failed',
                    finished_at = ?1
             WHERE id BETWEEN ?2 AND ?3",
            rusqlite::params![NOW_MS, raw_ids[0], raw_ids[raw_ids.len() - 1]],
        )?;
        c.execute("UPDATE task_dependencies SET resolved = 1", [])?;
        Ok(())
    })?;
    Ok((ours, t0.elapsed()))
}

/// A schedule catching up on `n` missed occurrences (interval 1 s, `RunAll`, cap `n`)
/// when a scheduler starts: its longest write transaction meanwhile (ours), and the
/// baseline inserting the `n` occurrences in one transaction.
///
/// # Errors
/// Database errors; occurrences not all created within a minute.
pub fn catch_up(n: usize) -> Result<(Duration, Duration)> {
    let db = BenchDb::new();
    let now = runloom::SystemClock;
    let store = Store::open(StoreOptions::file(db.path()))?;
    let start = runloom::Clock::now(&now);
    let missed_since = start - time::Duration::seconds(i64::try_from(n)? + 10);
    let cap = u32::try_from(n)?;
    let task = store.write(|tx| {
        let mut task = NewTask::new("catch-up", "noop", "{}");
        task.schedule = Schedule::Interval(Duration::from_secs(1));
        task.misfire_policy = MisfirePolicy::RunAll;
        task.misfire_cap = cap;
        task.next_run_at = Some(missed_since);
        tx.create_task(&task, start)
    })?;
    drop(store);
    // No job type registered: the occurrences are created and wait.
    let s = Scheduler::builder().database(db.path()).start()?;
    let _ = s.store().take_longest_write_hold();
    s.notify();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let created = s
            .runs(&runloom::RunFilter::new().task(task.id).limit(u32::MAX))?
            .len();
        if created >= n {
            break;
        }
        if Instant::now() >= deadline {
            return Err(format!("only {created} of {n} occurrences within a minute").into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let ours = s.store().take_longest_write_hold();
    s.shutdown(Duration::from_secs(5))?;
    let raw_db = BenchDb::new();
    let raw_store = Store::open(StoreOptions::file(raw_db.path()))?;
    let raw_task = raw_store.write(|tx| {
        let mut task = NewTask::new("catch-up", "noop", "{}");
        task.schedule = Schedule::Interval(Duration::from_secs(1));
        tx.create_task(&task, start)
    })?;
    let t0 = Instant::now();
    raw_store.write(|tx| {
        let mut insert = tx.connection().prepare(
            "INSERT INTO task_runs (task_id, job_type, payload, scheduled_at, created_at)
             VALUES (?1, 'noop', '{}', ?2, ?3)",
        )?;
        for i in 0..n {
            insert.execute(rusqlite::params![
                raw_task.id,
                NOW_MS + i64::try_from(i).unwrap_or(0) * 1000,
                NOW_MS
            ])?;
        }
        Ok(())
    })?;
    Ok((ours, t0.elapsed()))
}
