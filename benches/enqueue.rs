//! Enqueue: one job per transaction, and 1 000 jobs in one transaction, through the
//! public API (`Scheduler::enqueue` and `enqueue_many`) with claiming paused, next to
//! the raw insert of the same number of rows; `synchronous=NORMAL` and `FULL`.
//!
//! ```text
//! cargo bench -p runloom-benches --bench enqueue
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use runloom_benches::{
    BenchDb, Synchronous,
    ours::{Harness, Setup},
    raw::Raw,
    sync_label,
};

fn enqueue(c: &mut Criterion) {
    for sync in [Synchronous::Normal, Synchronous::Full] {
        let mut g = c.benchmark_group(format!("enqueue/{}", sync_label(sync)));
        g.sample_size(20);
        let h = Harness::start(Setup::new(1, sync)).unwrap();
        let db = BenchDb::new();
        let raw = Raw::open(&db, sync).unwrap();

        g.throughput(Throughput::Elements(1));
        g.bench_function("raw_1_per_tx", |b| b.iter(|| raw.insert_one().unwrap()));
        g.bench_function("ours_1_per_tx", |b| {
            b.iter_custom(|iters| h.enqueue_single(iters as usize).unwrap());
        });
        g.throughput(Throughput::Elements(1000));
        g.bench_function("raw_1000_per_tx", |b| {
            b.iter_custom(|iters| {
                let t0 = Instant::now();
                for _ in 0..iters {
                    raw.insert_batch(1000).unwrap();
                }
                t0.elapsed()
            });
        });
        g.bench_function("ours_1000_per_tx", |b| {
            b.iter_custom(|iters| h.enqueue_batches(iters as usize, 1000).unwrap());
        });
        g.finish();
        h.stop().unwrap();
    }
}

criterion_group!(benches, enqueue);
criterion_main!(benches);
