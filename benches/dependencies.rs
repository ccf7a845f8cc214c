//! Dependencies: time to drain a chain, a fan-out (1 → n) and a fan-in (n → 1) with 4
//! worker threads, next to the same number of runs without edges; `synchronous=NORMAL`
//! and `FULL`. Two sizes of each
//! shape: the time per run must stay flat as the graph grows (each completion touches
//! only its own edges).
//!
//! ```text
//! cargo bench -p runloom-benches --bench dependencies
//! ```
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use runloom_benches::{
    Synchronous,
    ours::{Harness, Setup, Shape},
    sync_label,
};

fn dependencies(c: &mut Criterion) {
    let cases = [
        (Shape::Flat, "flat", [1_000usize, 10_000]),
        (Shape::Chain, "chain", [100, 1_000]),
        (Shape::FanOut, "fan_out", [1_000, 10_000]),
        (Shape::FanIn, "fan_in", [1_000, 10_000]),
    ];
    for sync in [Synchronous::Normal, Synchronous::Full] {
        for (shape, name, sizes) in cases {
            let mut g = c.benchmark_group(format!("dependencies/{}/{name}", sync_label(sync)));
            g.sample_size(10);
            g.warm_up_time(Duration::from_millis(500));
            for n in sizes {
                let runs = match shape {
                    Shape::Flat | Shape::Chain => n,
                    Shape::FanOut | Shape::FanIn => n + 1,
                };
                g.throughput(Throughput::Elements(runs as u64));
                g.bench_function(n.to_string(), |b| {
                    b.iter_custom(|iters| {
                        let h = Harness::start(Setup::new(4, sync)).unwrap();
                        let mut took = Duration::ZERO;
                        for _ in 0..iters {
                            took += h.dag(shape, n).unwrap();
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

criterion_group!(benches, dependencies);
criterion_main!(benches);
