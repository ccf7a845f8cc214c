//! The raw-SQLite baseline on its own: the minimal SQL of the scheduler's work on a
//! minimal schema (`runloom_benches::raw`), with `synchronous=NORMAL` and `FULL`.
//! Every other bench prints its raw counterpart in the same group; this one gathers
//! them to read SQLite's own limits on this machine at a glance.
//!
//! ```text
//! cargo bench -p runloom-benches --bench baseline
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use runloom_benches::{BenchDb, Synchronous, raw, raw::Raw, sync_label};

fn baseline(c: &mut Criterion) {
    for sync in [Synchronous::Normal, Synchronous::Full] {
        let mut g = c.benchmark_group(format!("baseline/{}", sync_label(sync)));
        g.sample_size(20);
        let db = BenchDb::new();
        let conn = Raw::open(&db, sync).unwrap();
        g.throughput(Throughput::Elements(1));
        g.bench_function("insert_1_per_tx", |b| b.iter(|| conn.insert_one().unwrap()));
        g.throughput(Throughput::Elements(1000));
        g.bench_function("insert_1000_per_tx", |b| {
            b.iter(|| conn.insert_batch(1000).unwrap());
        });
        for per_tx in [1usize, 100] {
            g.throughput(Throughput::Elements(per_tx as u64));
            g.bench_function(format!("claim_complete_{per_tx}_per_tx"), |b| {
                b.iter_custom(|iters| {
                    let db = BenchDb::new();
                    let raw = Raw::open(&db, sync).unwrap();
                    raw.fill(iters as usize * per_tx).unwrap();
                    let t0 = Instant::now();
                    for _ in 0..iters {
                        assert_eq!(raw.claim_complete(per_tx).unwrap(), per_tx);
                    }
                    t0.elapsed()
                });
            });
        }
        g.throughput(Throughput::Elements(1));
        g.bench_function("pickup", |b| {
            b.iter_custom(|iters| {
                let db = BenchDb::new();
                raw::pickup(&db, sync, iters as usize)
                    .unwrap()
                    .iter()
                    .sum::<Duration>()
            });
        });
        g.finish();
    }
}

criterion_group!(benches, baseline);
criterion_main!(benches);
