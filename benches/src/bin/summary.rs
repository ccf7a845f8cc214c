//! One table of every figure, next to the raw-SQLite baseline measured in the same run:
//!
//! ```text
//! cargo run --release -p runloom-benches --bin summary
//! ```
//!
//! A short version of the criterion benches (fewer samples, the same measurements from
//! `runloom_benches`). The machine is shared and noisy, so every ratio compares two
//! figures measured back to back, each the median of several tries, and the ratio is
//! the figure to trust. `ratio` is relative speed: 1.00 means as fast (or as small) as
//! the baseline, higher is better. Set `BENCH_TMPDIR` to measure on another disk.

use std::{
    io::Write as _,
    process::Command,
    time::{Duration, Instant},
};

use runloom::{Service, Synchronous, maintenance::Counts};
use runloom_benches::{
    BenchDb, fixture,
    ours::{Cycle, Harness, Setup, Shape},
    pg::{self, PgBench},
    raw::{self, Raw, RawMaintenance},
    stats::{percentile, rate},
    sync_label,
};

type Res<T> = runloom_benches::Result<T>;
/// One section of the table.
type Section = fn(&mut Table) -> Res<()>;

/// How many times each quick figure is measured; the median is kept.
const TRIES: usize = 3;

#[derive(Clone, Copy, Debug)]
enum Value {
    /// Per second.
    Rate(f64),
    Time(Duration),
    Bytes(u64),
}

impl Value {
    fn show(self) -> String {
        match self {
            Value::Rate(r) => format!("{} /s", thousands(r)),
            Value::Time(d) if d < Duration::from_millis(10) => {
                format!("{:.3} ms", d.as_secs_f64() * 1e3)
            }
            Value::Time(d) => format!("{:.1} ms", d.as_secs_f64() * 1e3),
            Value::Bytes(b) => format!("{:.1} MB", b as f64 / 1e6),
        }
    }

    /// Relative speed against `base`: higher is better.
    fn ratio(self, base: Value) -> Option<f64> {
        match (self, base) {
            (Value::Rate(o), Value::Rate(b)) if b > 0.0 => Some(o / b),
            (Value::Time(o), Value::Time(b)) if !o.is_zero() => {
                Some(b.as_secs_f64() / o.as_secs_f64())
            }
            (Value::Bytes(o), Value::Bytes(b)) if o > 0 => Some(b as f64 / o as f64),
            _ => None,
        }
    }
}

fn thousands(r: f64) -> String {
    let n = r.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Target {
    None,
    /// The ratio must be at least this.
    Ratio(f64),
    /// At least this many per second.
    AtLeast(f64),
    /// At most this long.
    AtMost(Duration),
    /// At most this many bytes.
    AtMostBytes(u64),
}

struct Row {
    figure: String,
    ours: Value,
    baseline: String,
    base: Option<Value>,
    target: Target,
}

impl Row {
    fn ratio(&self) -> Option<f64> {
        self.base.and_then(|b| self.ours.ratio(b))
    }

    fn met(&self) -> Option<bool> {
        match self.target {
            Target::None => None,
            Target::Ratio(r) => self.ratio().map(|x| x >= r),
            Target::AtLeast(v) => match self.ours {
                Value::Rate(o) => Some(o >= v),
                _ => None,
            },
            Target::AtMost(d) => match self.ours {
                Value::Time(o) => Some(o <= d),
                _ => None,
            },
            Target::AtMostBytes(b) => match self.ours {
                Value::Bytes(o) => Some(o <= b),
                _ => None,
            },
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::None => String::new(),
            Target::Ratio(r) => format!("ratio ≥ {r:.2}"),
            Target::AtLeast(v) => format!("≥ {} /s", thousands(v)),
            Target::AtMost(d) => format!("≤ {}", Value::Time(d).show()),
            Target::AtMostBytes(b) => format!("≤ {}", Value::Bytes(b).show()),
        }
    }
}

struct Table {
    rows: Vec<Row>,
    started: Instant,
}

impl Table {
    fn push(&mut self, row: Row) {
        let ratio = row
            .ratio()
            .map_or_else(|| "-".into(), |r| format!("{r:.2}"));
        eprintln!(
            "  [{:>5.0}s] {}: {} (baseline {}: {}; ratio {ratio})",
            self.started.elapsed().as_secs_f64(),
            row.figure,
            row.ours.show(),
            row.baseline,
            row.base.map_or_else(|| "-".into(), |b| b.show()),
        );
        self.rows.push(row);
    }

    fn print(&self) {
        let head = [
            "figure",
            "ours",
            "baseline",
            "baseline value",
            "ratio",
            "target",
            "met",
        ];
        let cells: Vec<[String; 7]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.figure.clone(),
                    r.ours.show(),
                    r.baseline.clone(),
                    r.base.map_or_else(|| "-".into(), |b| b.show()),
                    r.ratio().map_or_else(|| "-".into(), |x| format!("{x:.2}")),
                    r.target_text(),
                    match r.met() {
                        Some(true) => "yes".into(),
                        Some(false) => "NO".into(),
                        None => String::new(),
                    },
                ]
            })
            .collect();
        let mut widths = head.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cols: &[String]| {
            let mut s = String::from("|");
            for (c, w) in cols.iter().zip(widths) {
                let pad = w - c.chars().count();
                s.push_str(&format!(" {c}{} |", " ".repeat(pad)));
            }
            s
        };
        println!("{}", line(&head.map(String::from)));
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        println!("{}", line(&rule).replace(' ', "-"));
        for row in &cells {
            println!("{}", line(row));
        }
    }
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

/// Measures `ours` and `base` alternately `TRIES` times and keeps each median, so a
/// noisy moment hits both sides alike.
fn paired(
    mut ours: impl FnMut() -> Res<Value>,
    mut base: impl FnMut() -> Res<Value>,
) -> Res<(Value, Value)> {
    let (mut o, mut b) = (Vec::new(), Vec::new());
    for _ in 0..TRIES {
        b.push(base()?);
        o.push(ours()?);
    }
    Ok((med(o), med(b)))
}

fn med(v: Vec<Value>) -> Value {
    match v.first() {
        Some(Value::Rate(_)) => Value::Rate(median(
            v.iter()
                .map(|x| if let Value::Rate(r) = x { *r } else { 0.0 })
                .collect(),
        )),
        Some(Value::Time(_)) => Value::Time(median(
            v.iter()
                .map(|x| {
                    if let Value::Time(t) = x {
                        *t
                    } else {
                        Duration::ZERO
                    }
                })
                .collect(),
        )),
        Some(Value::Bytes(_)) => Value::Bytes(median(
            v.iter()
                .map(|x| if let Value::Bytes(b) = x { *b } else { 0 })
                .collect(),
        )),
        None => Value::Rate(0.0),
    }
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--rss-child") {
        return rss_child(&args[2..]);
    }
    if args.get(1).map(String::as_str) == Some(runloom_benches::hosts::HOST_ARG) {
        return runloom_benches::hosts::host_main(&args[2..]);
    }
    let started = Instant::now();
    let mut t = Table {
        rows: Vec::new(),
        started,
    };
    // `summary SECTION…` measures only those sections (while working on one figure).
    let only: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    let sections: [(&str, Section); 12] = [
        ("enqueue", enqueue),
        ("cycles", cycles),
        ("throughput", throughput),
        ("pickup", pickup),
        ("dependencies", dependencies),
        ("growth", growth),
        ("cron", cron),
        ("maintenance", maintenance),
        ("holds", holds),
        ("memory", memory),
        ("postgres", postgres),
        ("postgres-maintenance", postgres_maintenance),
    ];
    let names: Vec<&str> = sections.iter().map(|(n, _)| *n).collect();
    if only.iter().any(|o| *o == "--help" || *o == "-h") {
        println!(
            "usage: summary [SECTION...]\n\nMeasures every section (or only those named) and \
             prints one table.\nSections: {}\nBENCH_TMPDIR=DIR puts the database files in DIR.",
            names.join(", ")
        );
        return Ok(());
    }
    if let Some(unknown) = only.iter().find(|o| !names.contains(o)) {
        return Err(format!(
            "unknown section {unknown:?}; sections: {}",
            names.join(", ")
        )
        .into());
    }
    eprintln!(
        "scheduler benchmark summary: {} CPUs, SQLite {}, measuring…",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        rusqlite::version()
    );
    for (name, section) in sections {
        if only.is_empty() || only.contains(&name) {
            section(&mut t)?;
        }
    }
    println!();
    t.print();
    println!(
        "\nratio = speed relative to the baseline measured in the same run (1.00 = as \
         fast or as small; higher is better). Took {:.0} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn enqueue(t: &mut Table) -> Res<()> {
    const SINGLE: usize = 2_000;
    const BATCHES: usize = 20;
    let (ours, base) = paired(
        || {
            let h = Harness::start(Setup::new(1, Synchronous::Normal))?;
            let took = h.enqueue_single(SINGLE)?;
            h.stop()?;
            Ok(Value::Rate(rate(SINGLE, took)))
        },
        || raw_inserts(false, 1, SINGLE),
    )?;
    t.push(Row {
        figure: "enqueue, 1 job per transaction".into(),
        ours,
        baseline: "raw insert, 1 per tx".into(),
        base: Some(base),
        target: Target::Ratio(0.70),
    });
    let (ours, base) = paired(
        || {
            let h = Harness::start(Setup::new(1, Synchronous::Normal))?;
            let took = h.enqueue_batches(BATCHES, 1_000)?;
            h.stop()?;
            Ok(Value::Rate(rate(BATCHES * 1_000, took)))
        },
        || raw_inserts(false, 1_000, BATCHES),
    )?;
    t.push(Row {
        figure: "enqueue, 1 000 jobs per transaction".into(),
        ours,
        baseline: "raw insert, 1 000 per tx".into(),
        base: Some(base),
        target: Target::Ratio(0.60),
    });
    // What the schema itself costs: the same raw statements on the scheduler's tables.
    for (per_tx, batches) in [(1usize, SINGLE), (1_000, BATCHES)] {
        let (ours, base) = paired(
            || raw_inserts(true, per_tx, batches),
            || raw_inserts(false, per_tx, batches),
        )?;
        t.push(Row {
            figure: format!(
                "(schema cost) raw insert on the scheduler's tables, {} per tx",
                thousands(per_tx as f64)
            ),
            ours,
            baseline: format!("raw insert, {} per tx", thousands(per_tx as f64)),
            base: Some(base),
            target: Target::None,
        });
    }
    Ok(())
}

/// `batches` raw transactions of `per_tx` inserts, on the minimal schema or on the
/// scheduler's.
fn raw_inserts(scheduler_schema: bool, per_tx: usize, batches: usize) -> Res<Value> {
    let db = BenchDb::new();
    let raw = if scheduler_schema {
        Raw::open_scheduler_schema(&db, Synchronous::Normal)?
    } else {
        Raw::open(&db, Synchronous::Normal)?
    };
    let t0 = Instant::now();
    for _ in 0..batches {
        raw.insert_batch(per_tx)?;
    }
    Ok(Value::Rate(rate(per_tx * batches, t0.elapsed())))
}

/// The raw claim + complete cycle, `per_tx` runs per transaction, over `n` runs.
fn raw_cycle(sync: Synchronous, per_tx: usize, n: usize) -> Res<Value> {
    raw_cycle_on(false, sync, per_tx, n)
}

/// [`raw_cycle`] on the minimal schema or on the scheduler's.
fn raw_cycle_on(scheduler_schema: bool, sync: Synchronous, per_tx: usize, n: usize) -> Res<Value> {
    let db = BenchDb::new();
    let raw = if scheduler_schema {
        Raw::open_scheduler_schema(&db, sync)?
    } else {
        Raw::open(&db, sync)?
    };
    raw.fill(n)?;
    let t0 = Instant::now();
    let done = raw.drain(per_tx)?;
    Ok(Value::Rate(rate(done, t0.elapsed())))
}

fn cycles(t: &mut Table) -> Res<()> {
    for (per_tx, n) in [(1usize, 2_000usize), (100, 20_000)] {
        let (ours, base) = paired(
            || {
                let db = BenchDb::new();
                let cycle = Cycle::open(&db, Synchronous::Normal)?;
                fixture::insert_pending(cycle.store(), n)?;
                let took = cycle.run(per_tx, n / per_tx)?;
                Ok(Value::Rate(rate(n, took)))
            },
            || raw_cycle(Synchronous::Normal, per_tx, n),
        )?;
        t.push(Row {
            figure: format!("storage layer: claim + complete, {per_tx} per tx"),
            ours,
            baseline: format!("raw cycle, {per_tx} per tx"),
            base: Some(base),
            target: Target::None,
        });
    }
    let (ours, base) = paired(
        || raw_cycle_on(true, Synchronous::Normal, 100, 20_000),
        || raw_cycle(Synchronous::Normal, 100, 20_000),
    )?;
    t.push(Row {
        figure: "(schema cost) raw cycle on the scheduler's tables, 100 per tx".into(),
        ours,
        baseline: "raw cycle, 100 per tx".into(),
        base: Some(base),
        target: Target::None,
    });
    Ok(())
}

fn throughput(t: &mut Table) -> Res<()> {
    let cases = [
        (1, Synchronous::Normal, 10_000, Target::None),
        (2, Synchronous::Normal, 10_000, Target::None),
        (4, Synchronous::Normal, 10_000, Target::Ratio(0.80)),
        (4, Synchronous::Normal, 100_000, Target::Ratio(0.80)),
        (4, Synchronous::Full, 10_000, Target::AtLeast(10_000.0)),
    ];
    for (threads, sync, n, target) in cases {
        let tries = if n >= 100_000 { 1 } else { TRIES };
        let (mut o, mut b) = (Vec::new(), Vec::new());
        for _ in 0..tries {
            b.push(raw_cycle(sync, 100, n)?);
            let h = Harness::start(Setup::new(threads, sync))?;
            let took = h.drain(n)?;
            h.stop()?;
            o.push(Value::Rate(rate(n, took)));
        }
        t.push(Row {
            figure: format!(
                "end to end, {threads} thread{}, {} jobs, {}",
                if threads == 1 { "" } else { "s" },
                thousands(n as f64),
                sync_label(sync)
            ),
            ours: med(o),
            baseline: format!("raw cycle, 100 per tx, {}", sync_label(sync)),
            base: Some(med(b)),
            target,
        });
    }
    Ok(())
}

fn pickup(t: &mut Table) -> Res<()> {
    const SAMPLES: usize = 1_000;
    let db = BenchDb::new();
    let base = raw::pickup(&db, Synchronous::Normal, SAMPLES)?;
    let h = Harness::start(Setup::new(4, Synchronous::Normal))?;
    // A few unmeasured rounds first: thread start-up and statement preparation.
    h.pickup(20)?;
    let ours = h.pickup(SAMPLES)?;
    h.stop()?;
    for (p, limit) in [(50.0, 0.25), (99.0, 0.5)] {
        t.push(Row {
            figure: format!("pickup latency p{p:.0}, idle, {SAMPLES} samples"),
            ours: Value::Time(percentile(&ours, p)),
            baseline: "raw insert → claim".into(),
            base: Some(Value::Time(percentile(&base, p))),
            target: Target::AtMost(Duration::from_secs_f64(limit / 1e3)),
        });
    }
    Ok(())
}

fn dependencies(t: &mut Table) -> Res<()> {
    let cases = [
        (Shape::Chain, 1_000, "chain of 1 000"),
        (Shape::FanOut, 10_000, "fan-out 1 → 10 000"),
        (Shape::FanIn, 10_000, "fan-in 10 000 → 1"),
    ];
    for (shape, n, name) in cases {
        let runs = if shape == Shape::Chain { n } else { n + 1 };
        let (ours, base) = paired(
            || {
                let h = Harness::start(Setup::new(4, Synchronous::Normal))?;
                let took = h.dag(shape, n)?;
                h.stop()?;
                Ok(Value::Rate(rate(runs, took)))
            },
            || {
                let h = Harness::start(Setup::new(4, Synchronous::Normal))?;
                let took = h.dag(Shape::Flat, runs)?;
                h.stop()?;
                Ok(Value::Rate(rate(runs, took)))
            },
        )?;
        t.push(Row {
            figure: format!("DAG drain, {name}, 4 threads"),
            ours,
            baseline: format!("ours, {} runs without edges", thousands(runs as f64)),
            base: Some(base),
            target: Target::Ratio(0.50),
        });
    }
    Ok(())
}

fn growth(t: &mut Table) -> Res<()> {
    const PER_TX: usize = 100;
    const ROUNDS: usize = 50;
    let mut rates = Vec::new();
    for finished in [10_000usize, 100_000, 1_000_000] {
        let db = BenchDb::new();
        let cycle = Cycle::open(&db, Synchronous::Normal)?;
        fixture::insert_finished(
            cycle.store(),
            finished,
            runloom_benches::NOW - time::Duration::hours(1),
        )?;
        fixture::insert_pending(cycle.store(), PER_TX * ROUNDS * TRIES)?;
        let mut tries = Vec::new();
        for _ in 0..TRIES {
            let took = cycle.run(PER_TX, ROUNDS)?;
            tries.push(Value::Rate(rate(PER_TX * ROUNDS, took)));
        }
        rates.push((finished, med(tries)));
    }
    let base = rates[0].1;
    for (finished, ours) in rates.into_iter().skip(1) {
        t.push(Row {
            figure: format!(
                "claim + complete with {} finished runs in the table",
                thousands(finished as f64)
            ),
            ours,
            baseline: "ours, with 10 000".into(),
            base: Some(base),
            target: Target::Ratio(1.0 / 1.2),
        });
    }
    Ok(())
}

fn cron(t: &mut Table) -> Res<()> {
    const SCHEDULES: usize = 10_000;
    let (ours, base) = paired(
        || {
            let mut setup = Setup::new(4, Synchronous::Normal);
            setup.poll = Duration::from_secs(60);
            let h = Harness::start(setup)?;
            let took = h.materialize(SCHEDULES)?;
            h.stop()?;
            Ok(Value::Rate(rate(SCHEDULES, took)))
        },
        || {
            let db = BenchDb::new();
            let raw = Raw::open(&db, Synchronous::Normal)?;
            raw.fill_schedules(SCHEDULES)?;
            let t0 = Instant::now();
            let n = raw.materialize(256)?;
            Ok(Value::Rate(rate(n, t0.elapsed())))
        },
    )?;
    t.push(Row {
        figure: "cron: occurrences of 10 000 due schedules".into(),
        ours,
        baseline: "raw insert + advance, 256 per tx".into(),
        base: Some(base),
        target: Target::None,
    });
    Ok(())
}

fn maintenance(t: &mut Table) -> Res<()> {
    const ROWS: usize = 1_000_000;
    let db = BenchDb::new();
    {
        let cycle = Cycle::open(&db, Synchronous::Normal)?;
        fixture::fill_maintenance(cycle.store(), ROWS)?;
    }
    let raw = Raw::open(&db, Synchronous::Normal)?;
    raw.fill_maintenance(ROWS)?;
    let mut setup = Setup::new(4, Synchronous::Normal);
    setup.manual_maintenance = true;
    let h = Harness::start_on(db, setup)?;
    let services = [
        (
            Service::LeaseRescue,
            RawMaintenance::RescueLeases,
            "lease expiry",
        ),
        (
            Service::RunRetention,
            RawMaintenance::DeleteFinished,
            "retention",
        ),
        (
            Service::TokenPurge,
            RawMaintenance::PurgeTokens,
            "token cleanup",
        ),
        (
            Service::StaleWorkers,
            RawMaintenance::StaleWorkers,
            "stale workers",
        ),
    ];
    for (service, raw_job, name) in services {
        let (_, raw_longest) =
            raw.maintenance(raw_job, runloom::maintenance::DEFAULT_BATCH_SIZE)?;
        let report = h.maintenance(service)?;
        // Rows acted on (a rescued run is requeued or failed; unblocked dependents are
        // other rows).
        let acted: u64 = match report.counts {
            Counts::LeaseRescue(c) => c.requeued + c.failed,
            Counts::StaleWorkers(c) => c.offline,
            Counts::TokenPurge(c) => c.purged,
            Counts::RunRetention(c) => c.removed(),
            _ => 0,
        };
        eprintln!(
            "  {name}: {} batches, {acted} rows, {} ms in all",
            report.batches, report.duration_ms
        );
        t.push(Row {
            figure: format!("maintenance, {name}, 1M rows: longest write-lock hold"),
            ours: Value::Time(Duration::from_millis(report.longest_batch_ms)),
            baseline: "raw batch of 1 000".into(),
            base: Some(Value::Time(raw_longest)),
            target: Target::AtMost(Duration::from_millis(50)),
        });
    }
    h.stop()?;
    Ok(())
}

/// The longest write-lock hold of large pieces of work beside maintenance (retention
/// is in the maintenance section): dependency insertion, a cancellation cascade, a
/// schedule's catch-up.
fn holds(t: &mut Table) -> Res<()> {
    type Measure = fn(usize) -> Res<(Duration, Duration)>;
    let cases: [(&str, &str, Measure); 3] = [
        (
            "dependency insertion, chain of 10 000 onto existing runs, one call",
            "raw inserts + updates, one tx",
            runloom_benches::holds::add_chain,
        ),
        (
            "cancellation cascade through a chain of 10 000",
            "raw: all cancelled in one tx",
            runloom_benches::holds::cascade,
        ),
        (
            "schedule catch-up, 10 000 missed occurrences (RunAll)",
            "raw inserts, one tx",
            runloom_benches::holds::catch_up,
        ),
    ];
    for (name, baseline, measure) in cases {
        let mut ours = Vec::new();
        let mut base = Vec::new();
        for _ in 0..TRIES {
            let (o, b) = measure(10_000)?;
            ours.push(Value::Time(o));
            base.push(Value::Time(b));
        }
        t.push(Row {
            figure: format!("{name}: longest write-lock hold"),
            ours: med(ours),
            baseline: baseline.into(),
            base: Some(med(base)),
            target: Target::AtMost(Duration::from_millis(50)),
        });
    }
    Ok(())
}

/// Peak RSS of a child process working on a database with 1M pending runs: the
/// scheduler (4 threads, completing 20 000 of them), and the raw baseline doing the
/// same claims and completions.
fn memory(t: &mut Table) -> Res<()> {
    const PENDING: usize = 1_000_000;
    let db = BenchDb::new();
    {
        let cycle = Cycle::open(&db, Synchronous::Normal)?;
        fixture::insert_pending(cycle.store(), PENDING)?;
        let raw = Raw::open(&db, Synchronous::Normal)?;
        raw.fill(PENDING)?;
    }
    let exe = std::env::current_exe()?;
    let run = |kind: &str, path: &std::path::Path| -> Res<Option<u64>> {
        let out = Command::new(&exe)
            .args(["--rss-child", kind])
            .arg(path)
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "rss child {kind} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse().ok())
    };
    let ours = run("ours", &db.path())?;
    let base = run("raw", &db.raw_path())?;
    match ours {
        Some(ours) => t.push(Row {
            figure: "peak RSS, 1M pending runs, 4 threads".into(),
            ours: Value::Bytes(ours),
            baseline: "raw process, same work".into(),
            base: base.map(Value::Bytes),
            target: Target::AtMostBytes(50_000_000),
        }),
        None => eprintln!("  peak RSS: not available on this platform"),
    }
    Ok(())
}

/// Peak resident set of this process in bytes (Linux `VmHWM`).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn rss_child(args: &[String]) -> Res<()> {
    const WORK: usize = 20_000;
    let (Some(kind), Some(path)) = (args.first(), args.get(1)) else {
        return Err("usage: summary --rss-child ours|raw PATH".into());
    };
    match kind.as_str() {
        "ours" => {
            let h = Harness::open_existing(path.into(), Setup::new(4, Synchronous::Normal))?;
            h.wait_for_completions(WORK)?;
            h.stop()?;
        }
        _ => {
            let raw = Raw::open_path(path.as_ref(), Synchronous::Normal)?;
            let mut done = 0;
            while done < WORK {
                done += raw.claim_complete(100)?;
            }
        }
    }
    let rss = peak_rss().map_or_else(String::new, |b| b.to_string());
    let mut out = std::io::stdout().lock();
    writeln!(out, "{rss}")?;
    Ok(())
}

/// The scheduler on PostgreSQL next to the raw baseline on the same server (skipped,
/// with a line saying so, where PostgreSQL is not installed).
fn postgres(t: &mut Table) -> Res<()> {
    const SINGLE: usize = 1_000;
    const BATCHES: usize = 10;
    const N: usize = 10_000;
    const SAMPLES: usize = 500;
    let Some(bench) = PgBench::start() else {
        eprintln!("  postgres: no PostgreSQL server binaries installed; skipped");
        return Ok(());
    };
    let (ours, base) = paired(
        || Ok(Value::Rate(rate(SINGLE, pg::enqueue(&bench, 1, SINGLE)?))),
        || Ok(Value::Rate(bench.raw(false)?.inserts(1, SINGLE)?)),
    )?;
    t.push(Row {
        figure: "PostgreSQL: enqueue, 1 job per transaction".into(),
        ours,
        baseline: "raw PostgreSQL insert, 1 per tx".into(),
        base: Some(base),
        target: Target::None,
    });
    let (ours, base) = paired(
        || {
            Ok(Value::Rate(rate(
                1_000 * BATCHES,
                pg::enqueue(&bench, 1_000, BATCHES)?,
            )))
        },
        || Ok(Value::Rate(bench.raw(false)?.inserts(1_000, BATCHES)?)),
    )?;
    t.push(Row {
        figure: "PostgreSQL: enqueue, 1 000 jobs per transaction".into(),
        ours,
        baseline: "raw PostgreSQL insert, 1 000 per tx".into(),
        base: Some(base),
        target: Target::Ratio(0.5),
    });
    let (ours, base) = paired(
        || {
            Ok(Value::Rate(rate(
                1_000 * BATCHES,
                pg::enqueue(&bench, 1_000, BATCHES)?,
            )))
        },
        || {
            Ok(Value::Rate(
                bench.raw(false)?.inserts_one_statement(1_000, BATCHES)?,
            ))
        },
    )?;
    t.push(Row {
        figure: "PostgreSQL: enqueue, 1 000 jobs per transaction (vs one raw statement)".into(),
        ours,
        baseline: "raw PostgreSQL insert, 1 000 in one statement".into(),
        base: Some(base),
        target: Target::None,
    });
    // What the schema costs: its constraints, indexes and the notifying trigger.
    let (ours, base) = paired(
        || Ok(Value::Rate(bench.raw(true)?.inserts(1_000, BATCHES)?)),
        || Ok(Value::Rate(bench.raw(false)?.inserts(1_000, BATCHES)?)),
    )?;
    t.push(Row {
        figure: "PostgreSQL: (schema cost) raw insert on the scheduler's tables, 1 000 per tx"
            .into(),
        ours,
        baseline: "raw PostgreSQL insert, 1 000 per tx".into(),
        base: Some(base),
        target: Target::None,
    });
    // Hosts beyond one are operating-system processes (this binary, as a host), each
    // with its own pool, worker row and listener, as separate machines would run.
    let exe = std::env::current_exe()?;
    for (hosts, threads) in [(1usize, 4usize), (2, 2), (3, 4)] {
        let (ours, base) = paired(
            || {
                let took = if hosts == 1 {
                    pg::drain(&bench, hosts, threads, N)?
                } else {
                    pg::drain_processes(&bench, &exe, hosts, threads, N)?
                };
                Ok(Value::Rate(rate(N, took)))
            },
            || Ok(Value::Rate(bench.raw(false)?.cycle(100, N)?)),
        )?;
        t.push(Row {
            figure: format!(
                "PostgreSQL: end to end, {hosts} process{} × {threads} threads, {} jobs",
                if hosts == 1 { "" } else { "es" },
                thousands(N as f64)
            ),
            ours,
            baseline: "raw PostgreSQL cycle, 100 per tx".into(),
            base: Some(base),
            target: Target::Ratio(0.5),
        });
    }
    let ours = pg::pickup_processes(&bench, &exe, SAMPLES)?;
    let base = bench.raw_pickup(SAMPLES)?;
    for p in [50.0, 99.0] {
        t.push(Row {
            figure: format!(
                "PostgreSQL: pickup latency p{p:.0} across processes, {SAMPLES} samples"
            ),
            ours: Value::Time(percentile(&ours, p)),
            baseline: "raw insert + NOTIFY → LISTEN, claim".into(),
            base: Some(Value::Time(percentile(&base, p))),
            target: if p < 60.0 {
                Target::AtMost(Duration::from_millis(2))
            } else {
                Target::None
            },
        });
    }
    const DRAINED: usize = 5_000;
    let small = med((0..TRIES)
        .map(|_| {
            Ok(Value::Rate(rate(
                DRAINED,
                pg::drain_with_history(&bench, 10_000, DRAINED)?,
            )))
        })
        .collect::<Res<Vec<_>>>()?);
    let large = Value::Rate(rate(
        DRAINED,
        pg::drain_with_history(&bench, 1_000_000, DRAINED)?,
    ));
    t.push(Row {
        figure: "PostgreSQL: end to end with 1 000 000 finished runs in the table".into(),
        ours: large,
        baseline: "ours, with 10 000".into(),
        base: Some(small),
        target: Target::Ratio(1.0 / 1.2),
    });
    Ok(())
}

/// The longest write transaction of each PostgreSQL maintenance pass, next to a raw
/// batch.
fn postgres_maintenance(t: &mut Table) -> Res<()> {
    const MAINTAINED: usize = 200_000;
    let Some(bench) = PgBench::start() else {
        eprintln!("  postgres-maintenance: no PostgreSQL server binaries installed; skipped");
        return Ok(());
    };
    let holds = pg::maintenance(&bench, MAINTAINED)?;
    let names = [
        "lease expiry",
        "stale workers",
        "retention",
        "token cleanup",
    ];
    for (hold, name) in holds.iter().zip(names) {
        eprintln!("  postgres {name}: {} rows", hold.rows);
        t.push(Row {
            figure: format!(
                "PostgreSQL: maintenance, {name}, {} rows: longest write transaction",
                thousands(MAINTAINED as f64)
            ),
            ours: Value::Time(hold.ours),
            baseline: "raw batch of 1 000".into(),
            base: Some(Value::Time(hold.raw)),
            target: Target::AtMost(Duration::from_millis(50)),
        });
    }
    Ok(())
}
