//! The scheduler on PostgreSQL, next to the raw baseline on the same throwaway server
//! (started from the installed binaries, default durability): enqueue one job per
//! transaction and 1 000 per transaction, and the end-to-end drain of 10 000 no-op
//! runs by one host of 4 threads and by two hosts of 2, next to the raw claim +
//! complete cycle of 100 runs per transaction. Skipped where PostgreSQL is not
//! installed.
//!
//! ```text
//! cargo bench -p runloom-benches --bench postgres
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use runloom_benches::pg::{self, PgBench};

fn postgres(c: &mut Criterion) {
    let Some(bench) = PgBench::start() else {
        eprintln!("no PostgreSQL server binaries installed: the postgres bench is skipped");
        return;
    };
    for per_tx in [1usize, 1_000] {
        let calls = if per_tx == 1 { 1_000 } else { 10 };
        let mut g = c.benchmark_group(format!("postgres/enqueue/{per_tx}_per_tx"));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.throughput(Throughput::Elements((per_tx * calls) as u64));
        g.bench_function("raw", |b| {
            b.iter_custom(|iters| {
                let mut took = Duration::ZERO;
                for _ in 0..iters {
                    let mut raw = bench.raw(false).unwrap();
                    let t0 = Instant::now();
                    for _ in 0..calls {
                        raw.insert_batch(per_tx).unwrap();
                    }
                    took += t0.elapsed();
                }
                took
            });
        });
        g.bench_function("ours", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| pg::enqueue(&bench, per_tx, calls).unwrap())
                    .sum()
            });
        });
        g.finish();
    }
    let n = 10_000usize;
    let mut g = c.benchmark_group(format!("postgres/throughput/{n}"));
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("raw_100_per_tx", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                let mut raw = bench.raw(false).unwrap();
                raw.fill(n).unwrap();
                let t0 = Instant::now();
                assert_eq!(raw.drain(100).unwrap(), n);
                took += t0.elapsed();
            }
            took
        });
    });
    for (hosts, threads) in [(1usize, 4usize), (2, 2)] {
        g.bench_function(format!("ours_{hosts}_hosts_{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| pg::drain(&bench, hosts, threads, n).unwrap())
                    .sum()
            });
        });
    }
    g.finish();
}

criterion_group!(benches, postgres);
criterion_main!(benches);
