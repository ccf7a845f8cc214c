//! Maintenance: one pass of each service over 1 000 000 rows to act on (finished runs
//! past retention, expired leases, expired tokens, workers that stopped beating), in
//! the default batches (up to 1 000 rows, 10 ms apart) through
//! `Scheduler::run_maintenance`, next to the raw statements of the same work. The longest batch of each pass (how long it held the write lock) is
//! printed: it must stay under 50 ms. `synchronous=NORMAL` and `FULL`.
//!
//! Each sample starts from a copy of one prepared file, so the million rows are
//! generated once.
//!
//! ```text
//! cargo bench -p runloom-benches --bench maintenance
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use runloom::{Service, Synchronous};
use runloom_benches::{
    BenchDb, fixture,
    ours::{Cycle, Harness, Setup},
    raw::{Raw, RawMaintenance},
    sync_label,
};

const ROWS: usize = 1_000_000;

fn copy_of(template: &BenchDb) -> BenchDb {
    let db = BenchDb::new();
    std::fs::copy(template.path(), db.path()).unwrap();
    std::fs::copy(template.raw_path(), db.raw_path()).unwrap();
    db
}

fn maintenance(c: &mut Criterion) {
    let template = BenchDb::new();
    {
        let cycle = Cycle::open(&template, Synchronous::Normal).unwrap();
        fixture::fill_maintenance(cycle.store(), ROWS).unwrap();
        Raw::open(&template, Synchronous::Normal)
            .unwrap()
            .fill_maintenance(ROWS)
            .unwrap();
    }
    let services = [
        (Service::LeaseRescue, RawMaintenance::RescueLeases),
        (Service::RunRetention, RawMaintenance::DeleteFinished),
        (Service::TokenPurge, RawMaintenance::PurgeTokens),
        (Service::StaleWorkers, RawMaintenance::StaleWorkers),
    ];
    for sync in [Synchronous::Normal, Synchronous::Full] {
        for (service, job) in services {
            let mut g = c.benchmark_group(format!(
                "maintenance/{}/{}",
                sync_label(sync),
                service.name()
            ));
            g.sample_size(10);
            g.warm_up_time(Duration::from_millis(100));
            let mut longest = (Duration::ZERO, Duration::ZERO);
            g.bench_function("raw", |b| {
                b.iter_custom(|iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let db = copy_of(&template);
                        let raw = Raw::open(&db, sync).unwrap();
                        let t0 = Instant::now();
                        let (_, l) = raw.maintenance(job, 1000).unwrap();
                        took += t0.elapsed();
                        longest.0 = longest.0.max(l);
                    }
                    took
                });
            });
            g.bench_function("ours", |b| {
                b.iter_custom(|iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let mut setup = Setup::new(1, sync);
                        setup.manual_maintenance = true;
                        let h = Harness::start_on(copy_of(&template), setup).unwrap();
                        let t0 = Instant::now();
                        let report = h.maintenance(service).unwrap();
                        took += t0.elapsed();
                        longest.1 = longest
                            .1
                            .max(Duration::from_millis(report.longest_batch_ms));
                        h.stop().unwrap();
                    }
                    took
                });
            });
            g.finish();
            eprintln!(
                "maintenance/{}/{}: longest batch raw {:?}, ours {:?} (limit 50 ms)",
                sync_label(sync),
                service.name(),
                longest.0,
                longest.1
            );
        }
    }
}

criterion_group!(benches, maintenance);
criterion_main!(benches);
