//! Cron: creating the due occurrence of 10 000 schedules (the dispatcher's
//! materialisation, claiming paused), next to the raw SQL of the same work (insert a
//! run and move the schedule to its next time, 256 schedules per transaction);
//! `synchronous=NORMAL` and `FULL`.
//!
//! ```text
//! cargo bench -p runloom-benches --bench cron
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

fn cron(c: &mut Criterion) {
    const SCHEDULES: usize = 10_000;
    for sync in [Synchronous::Normal, Synchronous::Full] {
        let mut g = c.benchmark_group(format!("cron/{}/10000_schedules", sync_label(sync)));
        g.sample_size(10);
        g.throughput(Throughput::Elements(SCHEDULES as u64));
        g.bench_function("raw", |b| {
            b.iter_custom(|iters| {
                let mut took = Duration::ZERO;
                for _ in 0..iters {
                    let db = BenchDb::new();
                    let raw = Raw::open(&db, sync).unwrap();
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
                    let mut setup = Setup::new(4, sync);
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
}

criterion_group!(benches, cron);
criterion_main!(benches);
