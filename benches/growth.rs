//! Growth: the storage layer's claim + complete cycle (100 runs per transaction) with
//! 10 000, 100 000 and 1 000 000 finished runs already in the table. The cost must stay
//! flat: the hot path reads indexes, never scans (the query plans are checked by the
//! store's unit tests). `synchronous=NORMAL` and `FULL`.
//!
//! ```text
//! cargo bench -p runloom-benches --bench growth
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use runloom_benches::{BenchDb, NOW, Synchronous, fixture, ours::Cycle, sync_label};

fn growth(c: &mut Criterion) {
    const PER_TX: usize = 100;
    for sync in [Synchronous::Normal, Synchronous::Full] {
        let mut g = c.benchmark_group(format!(
            "growth/{}/claim_complete_100_per_tx",
            sync_label(sync)
        ));
        g.sample_size(20);
        g.throughput(Throughput::Elements(PER_TX as u64));
        for finished in [10_000usize, 100_000, 1_000_000] {
            let db = BenchDb::new();
            let cycle = Cycle::open(&db, sync).unwrap();
            fixture::insert_finished(cycle.store(), finished, NOW - time::Duration::hours(1))
                .unwrap();
            g.bench_function(format!("{finished}_finished"), |b| {
                b.iter_custom(|iters| {
                    fixture::insert_pending(cycle.store(), iters as usize * PER_TX).unwrap();
                    cycle.run(PER_TX, iters as usize).unwrap()
                });
            });
        }
        g.finish();
    }
}

criterion_group!(benches, growth);
criterion_main!(benches);
