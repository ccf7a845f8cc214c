//! Cron: creating the due occurrence of 10 000 schedules (the dispatcher's
//! materialisation, claiming paused), next to the raw SQL of the same work (insert a
//! run and move the schedule to its next time, 256 schedules per transaction).
//!
//! ```text
//! cargo bench -p scheduler-benches --bench cron
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scheduler_benches::{
    BenchDb, Synchronous,
    ours::{Harness, Setup},
    raw::Raw,
};

fn cron(c: &mut Criterion) {
    const SCHEDULES: usize = 10_000;
    let mut g = c.benchmark_group("cron/10000_schedules");
    g.sample_size(10);
    g.throughput(Throughput::Elements(SCHEDULES as u64));
    g.bench_function("raw", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                let db = BenchDb::new();
                let raw = Raw::open(&db, Synchronous::Normal).unwrap();
                raw.fill_schedules(SCHEDULES).unwrap();
                let t0 = Instant::now();
                assert_eq!(raw.materialize(256).unwrap(), SCHEDULES);
                took += t0.elapsed();
            }
            took
        });
    });
    g.bench_function("ours", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                let mut setup = Setup::new(4, Synchronous::Normal);
                setup.poll = Duration::from_secs(60);
                let h = Harness::start(setup).unwrap();
                took += h.materialize(SCHEDULES).unwrap();
                h.stop().unwrap();
            }
            took
        });
    });
    g.finish();
}

criterion_group!(benches, cron);
criterion_main!(benches);
