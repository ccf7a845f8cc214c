//! Pickup latency: a job enqueued into an idle scheduler in the same process, from just
//! before `enqueue` to the start of its code; next to the raw baseline (insert, signal a
//! waiting thread, which claims the run under a lease). Criterion reports the mean;
//! the p50 and p99 over 1 000 samples of each are printed first (and by the summary).
//!
//! ```text
//! cargo bench -p runloom-benches --bench latency
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use runloom_benches::{
    BenchDb, Synchronous,
    ours::{Harness, Setup},
    raw, stats, sync_label,
};

fn show(name: &str, samples: &[Duration]) {
    eprintln!(
        "{name}: p50 {:?}, p99 {:?} over {} samples",
        stats::percentile(samples, 50.0),
        stats::percentile(samples, 99.0),
        samples.len()
    );
}

fn latency(c: &mut Criterion) {
    for sync in [Synchronous::Normal, Synchronous::Full] {
        let label = sync_label(sync);
        let db = BenchDb::new();
        let h = Harness::start(Setup::new(4, sync)).unwrap();
        h.pickup(20).unwrap();
        show(
            &format!("pickup/{label}/raw"),
            &raw::pickup(&db, sync, 1000).unwrap(),
        );
        show(&format!("pickup/{label}/ours"), &h.pickup(1000).unwrap());

        let mut g = c.benchmark_group(format!("pickup/{label}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("raw", |b| {
            b.iter_custom(|iters| {
                raw::pickup(&db, sync, iters as usize)
                    .unwrap()
                    .iter()
                    .sum::<Duration>()
            });
        });
        g.bench_function("ours", |b| {
            b.iter_custom(|iters| h.pickup(iters as usize).unwrap().iter().sum::<Duration>());
        });
        g.finish();
        h.stop().unwrap();
    }
}

criterion_group!(benches, latency);
criterion_main!(benches);
