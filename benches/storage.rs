//! The storage layer's hot path next to the raw SQLite doing the same work, on the same
//! kind of file (WAL, `synchronous=NORMAL`), in the same run:
//!
//! * `enqueue/*`: one run per transaction, and 1 000 runs in one transaction;
//! * `claim_complete/*`: claim one run under a lease and complete it (two transactions),
//!   and the same for 100 runs per transaction.
//!
//! The raw side runs the minimal statements of the same work on the same schema; the
//! ratio between the two is the figure to trust on a shared, noisy machine.
//!
//! ```text
//! cargo bench -p scheduler-benches --bench storage
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use scheduler::store::{
    AttemptOutcome, JobTypeFilter, NewRun, NewWorker, Store, StoreOptions, WorkerId,
};
use tempfile::TempDir;
use time::{OffsetDateTime, macros::datetime};

const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);
const NOW_MS: i64 = 1_767_225_600_000;
const LEASE: Duration = Duration::from_secs(30);

fn store() -> (TempDir, Store, WorkerId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreOptions::file(dir.path().join("bench.db"))).unwrap();
    let w = store
        .write(|tx| tx.register_worker(&NewWorker::new("bench", "localhost", 4), NOW))
        .unwrap();
    (dir, store, w)
}

/// A raw connection on a file migrated by the store, set up like the store's writer.
fn raw() -> (TempDir, Connection, i64) {
    let (dir, store, w) = store();
    drop(store);
    let conn = Connection::open(dir.path().join("bench.db")).unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    (dir, conn, w.get())
}

const RAW_INSERT: &str = "INSERT INTO task_runs (job_type, payload, scheduled_at, created_at) \
                          VALUES ('noop', '{}', ?1, ?1)";
const RAW_CLAIM: &str = "UPDATE task_runs SET status = 'running', attempt = attempt + 1, \
                         lease_token = lease_token + 1, worker_id = ?1 \
                         WHERE id IN (SELECT id FROM task_runs WHERE status = 'pending' \
                         AND priority = 0 AND scheduled_at <= ?2 ORDER BY scheduled_at, id LIMIT ?3) \
                         RETURNING id, lease_token";
const RAW_LOCK: &str = "INSERT INTO task_locks (run_id, worker_id, token, acquired_at, expires_at) \
                        VALUES (?1, ?2, ?3, ?4, ?4 + 30000)";
const RAW_COMPLETE: &str = "UPDATE task_runs SET status = 'completed', result = 'null', finished_at = ?2 \
                            WHERE id = ?1 AND status = 'running'";
const RAW_UNLOCK: &str = "DELETE FROM task_locks WHERE run_id = ?1";

fn immediate(conn: &Connection) -> Transaction<'_> {
    Transaction::new_unchecked(conn, TransactionBehavior::Immediate).unwrap()
}

fn raw_claim_complete(conn: &Connection, w: i64, n: i64) {
    let tx = immediate(conn);
    let claimed: Vec<(i64, i64)> = tx
        .prepare_cached(RAW_CLAIM)
        .unwrap()
        .query_map(params![w, NOW_MS, n], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (id, token) in &claimed {
        tx.prepare_cached(RAW_LOCK)
            .unwrap()
            .execute(params![id, w, token, NOW_MS])
            .unwrap();
    }
    tx.commit().unwrap();
    let tx = immediate(conn);
    for (id, _) in &claimed {
        tx.prepare_cached(RAW_COMPLETE)
            .unwrap()
            .execute(params![id, NOW_MS])
            .unwrap();
        tx.prepare_cached(RAW_UNLOCK)
            .unwrap()
            .execute(params![id])
            .unwrap();
    }
    tx.commit().unwrap();
}

fn enqueue(c: &mut Criterion) {
    let mut g = c.benchmark_group("enqueue");
    g.throughput(Throughput::Elements(1));
    {
        let (_dir, conn, _) = raw();
        g.bench_function("raw_single", |b| {
            b.iter(|| {
                let tx = immediate(&conn);
                tx.prepare_cached(RAW_INSERT)
                    .unwrap()
                    .execute([NOW_MS])
                    .unwrap();
                tx.commit().unwrap();
            });
        });
    }
    {
        let (_dir, store, _) = store();
        let run = NewRun::new("noop", "{}", NOW);
        g.bench_function("store_single", |b| {
            b.iter(|| store.write(|tx| tx.insert_run(&run, NOW)).unwrap());
        });
    }
    g.throughput(Throughput::Elements(1000));
    {
        let (_dir, conn, _) = raw();
        g.bench_function("raw_batch_1000", |b| {
            b.iter(|| {
                let tx = immediate(&conn);
                {
                    let mut stmt = tx.prepare_cached(RAW_INSERT).unwrap();
                    for _ in 0..1000 {
                        stmt.execute([NOW_MS]).unwrap();
                    }
                }
                tx.commit().unwrap();
            });
        });
    }
    {
        let (_dir, store, _) = store();
        let runs: Vec<NewRun> = (0..1000).map(|_| NewRun::new("noop", "{}", NOW)).collect();
        g.bench_function("store_batch_1000", |b| {
            b.iter(|| store.write(|tx| tx.insert_runs(&runs, NOW)).unwrap());
        });
    }
    g.finish();
}

fn claim_complete(c: &mut Criterion) {
    let mut g = c.benchmark_group("claim_complete");
    g.sample_size(20);
    for per_tx in [1usize, 100] {
        g.throughput(Throughput::Elements(per_tx as u64));
        {
            let (_dir, conn, w) = raw();
            g.bench_function(format!("raw_{per_tx}_per_tx"), |b| {
                b.iter_batched(
                    || {
                        let tx = immediate(&conn);
                        for _ in 0..per_tx {
                            tx.prepare_cached(RAW_INSERT)
                                .unwrap()
                                .execute([NOW_MS])
                                .unwrap();
                        }
                        tx.commit().unwrap();
                    },
                    |()| raw_claim_complete(&conn, w, per_tx as i64),
                    BatchSize::PerIteration,
                );
            });
        }
        {
            let (_dir, store, w) = store();
            let runs: Vec<NewRun> = (0..per_tx)
                .map(|_| NewRun::new("noop", "{}", NOW))
                .collect();
            let done = AttemptOutcome::Completed {
                result: "null".into(),
            };
            g.bench_function(format!("store_{per_tx}_per_tx"), |b| {
                b.iter_batched(
                    || store.write(|tx| tx.insert_runs(&runs, NOW)).unwrap(),
                    |_| {
                        let claimed = store
                            .write(|tx| tx.claim_runs(w, per_tx, NOW, LEASE, &JobTypeFilter::any()))
                            .unwrap();
                        store
                            .write(|tx| {
                                for c in &claimed {
                                    tx.finish_attempt(c.id, c.token, &done, None, NOW)?;
                                }
                                Ok(())
                            })
                            .unwrap();
                    },
                    BatchSize::PerIteration,
                );
            });
        }
    }
    g.finish();
}

criterion_group!(benches, enqueue, claim_complete);
criterion_main!(benches);
