//! End-to-end throughput of no-op jobs: 10 000 and 100 000 runs already pending, drained
//! by 1, 2 and 4 worker threads, from `resume()` to the last completion committed; next
//! to the raw claim + complete cycle of 100 runs per transaction on the same number of
//! runs; `synchronous=NORMAL` and `FULL`.
//!
//! ```text
//! cargo bench -p runloom-benches --bench throughput
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use runloom_benches::{
    BenchDb, Synchronous,
    ours::{Harness, Setup},
    raw::Raw,
    sync_label,
};

fn throughput(c: &mut Criterion) {
    for sync in [Synchronous::Normal, Synchronous::Full] {
        for n in [10_000usize, 100_000] {
            let mut g = c.benchmark_group(format!("throughput/{}/{n}", sync_label(sync)));
            g.sample_size(10);
            g.warm_up_time(Duration::from_millis(500));
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function("raw_100_per_tx", |b| {
                b.iter_custom(|iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let db = BenchDb::new();
                        let raw = Raw::open(&db, sync).unwrap();
                        raw.fill(n).unwrap();
                        let t0 = Instant::now();
                        assert_eq!(raw.drain(100).unwrap(), n);
                        took += t0.elapsed();
                    }
                    took
                });
            });
            for threads in [1usize, 2, 4] {
                g.bench_function(format!("ours_{threads}_threads"), |b| {
                    b.iter_custom(|iters| {
                        let h = Harness::start(Setup::new(threads, sync)).unwrap();
                        let mut took = Duration::ZERO;
                        for _ in 0..iters {
                            took += h.drain(n).unwrap();
                        }
                        h.stop().unwrap();
                        took
                    });
                });
            }
            g.finish();
        }
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
