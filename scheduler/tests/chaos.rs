//! Chaos: three scheduler processes with different valid settings on one file (leases
//! of 300 ms, 1 s and 3 s), a rescuer process running lease rescue back to back, SIGSTOP
//! storms, SIGKILLs with restarts, and wall-clock steps forward and back around the
//! lease durations, all at once, over jobs that write their effect to the database in
//! the same transaction as their completion.
//!
//! At the end it reports, and checks: runs lost (not finished), runs stuck `running`,
//! duplicate database effects, completed runs without their effect, and executions
//! started on runs that had already finished: all must be 0. Re-executions are counted
//! and each must be explained by an attempt that ended without its result being kept
//! (its lease expired and the run was taken back, or it was handed back).
//!
//! A short run is part of the suite; the long one:
//!
//! ```text
//! cargo test --release -p runloom --test chaos -- --ignored --nocapture chaos_long
//! ```

#![cfg(target_os = "linux")]

mod common;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::Child,
    time::{Duration, Instant},
};

use common::{
    Lcg, TestDb,
    child::{EFFECTS_TABLE, Hold, Role, Settings, set_offset, starts},
};
use runloom::{
    Clock, RunId, RunStatus, SystemClock,
    store::{AttemptErrorKind, DependencyLimits, NewDependency, NewRun, RunFilter, Store},
};
use rustix::process::{Pid, Signal, kill_process};

#[test]
#[ignore = "started as a child process by the chaos tests"]
fn child() {
    common::child::run_child();
}

/// One process of the chaos, with what it was started with.
struct Proc {
    settings: Settings,
    child: Child,
    starts: u32,
}

impl Proc {
    fn spawn(settings: Settings) -> Proc {
        let child = settings.spawn();
        Proc {
            settings,
            child,
            starts: 1,
        }
    }

    fn signal(&self, sig: Signal) {
        if let Some(pid) = Pid::from_raw(i32::try_from(self.child.id()).unwrap()) {
            let _ = kill_process(pid, sig);
        }
    }

    fn kill_and_restart(&mut self) {
        self.signal(Signal::KILL);
        let _ = self.child.wait();
        self.child = self.settings.spawn();
        self.starts += 1;
    }
}

#[derive(Debug, Default)]
struct Figures {
    runs: usize,
    completed: usize,
    failed: usize,
    lost: usize,
    stuck_running: usize,
    duplicate_effects: usize,
    missing_effects: usize,
    started_on_finished: usize,
    reexecutions: usize,
    unexplained_reexecutions: usize,
    lease_expiries: usize,
    stops: usize,
    kills: usize,
    clock_steps: usize,
    elapsed: Duration,
}

fn schedulers(dir: &Path, db: &Path, offset: &Path) -> Vec<Settings> {
    let mut short = Settings::scheduler(dir, db, "short");
    short.lease_ms = 300;
    short.heartbeat_ms = 100;
    short.stale_ms = 400;
    short.threads = 2;
    short.rescue_ms = 50;
    short.worker_check_ms = 50;
    let mut medium = Settings::scheduler(dir, db, "medium");
    medium.lease_ms = 1_000;
    medium.heartbeat_ms = 200;
    medium.stale_ms = 900;
    medium.threads = 3;
    medium.rescue_ms = 20;
    medium.worker_check_ms = 100;
    let mut long = Settings::scheduler(dir, db, "long");
    long.lease_ms = 3_000;
    long.heartbeat_ms = 1_000;
    long.stale_ms = 10_000;
    long.threads = 2;
    long.rescue_ms = 500;
    long.worker_check_ms = 1_000;
    let mut all = vec![short, medium, long];
    for s in &mut all {
        s.clock = Some(offset.to_owned());
        s.grace_ms = 2_000;
        // A run taken back dozens of times would otherwise back off for hours (the
        // crash-loop protection): the test waits for every run to finish.
        s.max_backoff_ms = Some(1_000);
    }
    all
}

/// Enqueues `n` jobs of 20-120 ms, each writing its effect with its completion, a
/// fifth of them in chains of five.
fn enqueue(store: &Store, n: usize, rng: &mut Lcg) -> Vec<RunId> {
    let now = SystemClock.now();
    let runs: Vec<NewRun> = (0..n)
        .map(|_| {
            let job = Hold {
                ms: 20 + rng.below(100),
                effect: true,
                panic_in_transaction: false,
            };
            let mut run = NewRun::new("hold", serde_json::to_string(&job).unwrap(), now);
            run.max_attempts = 50;
            run.backoff = Duration::from_millis(10);
            run
        })
        .collect();
    let ids: Vec<RunId> = store
        .write(|tx| Ok(tx.insert_runs(&runs, now)?.iter().map(|i| i.id).collect()))
        .unwrap();
    let chained = n / 5 / 5 * 5;
    let edges: Vec<NewDependency> = (0..chained)
        .filter(|i| i % 5 != 0)
        .map(|i| NewDependency::new(ids[i], ids[i - 1]))
        .collect();
    store
        .write(|tx| tx.add_dependencies(&edges, &DependencyLimits::default(), now))
        .unwrap();
    ids
}

fn unfinished(store: &Store) -> u64 {
    let c = store.read(|tx| tx.count_runs_by_status()).unwrap();
    c.blocked + c.pending + c.running
}

fn chaos(n: usize, faults_for: Duration, seed: u64) -> Figures {
    let db = TestDb::new();
    let store = db.open();
    db.raw().execute_batch(EFFECTS_TABLE).unwrap();
    let mut rng = Lcg(seed);
    let ids = enqueue(&store, n, &mut rng);
    let dir = db.dir.path();
    let offset = dir.join("clock-offset");
    set_offset(&offset, 0);
    let log: PathBuf = dir.join("executions.log");
    let mut procs: Vec<Proc> = schedulers(dir, &db.path, &offset)
        .into_iter()
        .map(Proc::spawn)
        .collect();
    let mut rescuer = Settings::scheduler(dir, &db.path, "rescuer");
    rescuer.role = Role::Rescuer;
    rescuer.clock = Some(offset.clone());
    rescuer.max_backoff_ms = Some(1_000);
    let rescuer = Proc::spawn(rescuer);

    let mut f = Figures {
        runs: n,
        ..Figures::default()
    };
    let started = Instant::now();
    let mut clock_ms: i64 = 0;
    let mut highest: i64 = 0;
    let mut stopped: Option<(usize, Instant)> = None;
    while started.elapsed() < faults_for && unfinished(&store) > 0 {
        std::thread::sleep(Duration::from_millis(20 + rng.below(60)));
        // Resume a stopped process when its pause is over.
        if let Some((i, until)) = stopped {
            if Instant::now() >= until {
                procs[i].signal(Signal::CONT);
                stopped = None;
            }
            continue;
        }
        match rng.below(10) {
            // A pause of 100-600 ms: a SIGSTOP storm, one process at a time.
            0..=3 => {
                let i = usize::try_from(rng.below(procs.len() as u64)).unwrap();
                procs[i].signal(Signal::STOP);
                stopped = Some((
                    i,
                    Instant::now() + Duration::from_millis(100 + rng.below(500)),
                ));
                f.stops += 1;
            }
            // A crash, and the host starting again.
            4 => {
                let i = usize::try_from(rng.below(procs.len() as u64)).unwrap();
                procs[i].kill_and_restart();
                f.kills += 1;
            }
            // The system clock stepped, around the lease durations, forward and back.
            5..=8 => {
                let steps = [300, 1_000, 1_500, 3_000, 60_000, -500, -2_000];
                let step = steps[usize::try_from(rng.below(steps.len() as u64)).unwrap()];
                clock_ms += step;
                highest = highest.max(clock_ms);
                set_offset(&offset, clock_ms);
                f.clock_steps += 1;
            }
            _ => rescuer.signal(Signal::CONT),
        }
    }
    if let Some((i, _)) = stopped {
        procs[i].signal(Signal::CONT);
    }
    // The faults end with the clock at its highest, so every retry scheduled on a
    // stepped clock is due; then everything left is given time to finish.
    set_offset(&offset, highest);
    let settle = Instant::now() + Duration::from_secs(60);
    while unfinished(&store) > 0 && Instant::now() < settle {
        std::thread::sleep(Duration::from_millis(50));
    }
    for p in procs.iter().chain(std::iter::once(&rescuer)) {
        std::fs::write(&p.settings.stop, b"").unwrap();
    }
    for mut p in procs.into_iter().chain(std::iter::once(rescuer)) {
        let _ = p.child.wait();
    }
    f.elapsed = started.elapsed();

    let runs = store
        .read(|tx| tx.list_runs(&RunFilter::new().limit(u32::MAX)))
        .unwrap();
    assert_eq!(runs.len(), ids.len());
    let mut effects: HashMap<i64, usize> = HashMap::new();
    {
        let conn = db.raw();
        let mut stmt = conn.prepare("SELECT run_id FROM effects").unwrap();
        for id in stmt.query_map([], |r| r.get::<_, i64>(0)).unwrap() {
            *effects.entry(id.unwrap()).or_default() += 1;
        }
    }
    let mut executions: HashMap<i64, usize> = HashMap::new();
    for s in starts(&log) {
        *executions.entry(s.run).or_default() += 1;
        f.started_on_finished += usize::from(s.on_finished_run);
    }
    for r in &runs {
        let id = r.id.get();
        let effect = effects.get(&id).copied().unwrap_or(0);
        f.duplicate_effects += usize::from(effect > 1);
        match r.status {
            RunStatus::Completed => {
                f.completed += 1;
                f.missing_effects += usize::from(effect == 0);
            }
            RunStatus::Failed => f.failed += 1,
            RunStatus::Running => {
                f.stuck_running += 1;
                f.lost += 1;
                eprintln!("run {id} stuck running: {r:?}");
            }
            s if !s.is_finished() => {
                f.lost += 1;
                eprintln!(
                    "run {id} unfinished ({s}, due {}, attempt {}): {:?}",
                    r.scheduled_at, r.attempt, r.errors
                );
            }
            _ => {}
        }
        let expiries = r
            .errors
            .iter()
            .filter(|e| e.kind == AttemptErrorKind::LeaseExpired)
            .count();
        let released = r
            .errors
            .iter()
            .filter(|e| e.kind == AttemptErrorKind::Released)
            .count();
        f.lease_expiries += expiries;
        let extra = executions.get(&id).copied().unwrap_or(0).saturating_sub(1);
        f.reexecutions += extra;
        // Each execution after the first follows an attempt whose result was not kept:
        // its lease expired and the run was taken back, or it was handed back.
        if extra > expiries + released {
            f.unexplained_reexecutions += extra - expiries - released;
            eprintln!("run {id}: {extra} re-executions, errors {:?}", r.errors);
        }
    }
    f
}

fn report(f: &Figures) {
    println!(
        "chaos: {} runs, completed {}, failed {}, lost {}, stuck running {}, duplicate DB \
         effects {}, completed without effect {}, executions started on finished runs {}, \
         re-executions {} (all after a lost lease: {} lease expiries recorded; unexplained \
         {}), faults: {} SIGSTOPs, {} SIGKILLs, {} clock steps, took {:.1?}",
        f.runs,
        f.completed,
        f.failed,
        f.lost,
        f.stuck_running,
        f.duplicate_effects,
        f.missing_effects,
        f.started_on_finished,
        f.reexecutions,
        f.lease_expiries,
        f.unexplained_reexecutions,
        f.stops,
        f.kills,
        f.clock_steps,
        f.elapsed
    );
}

fn assert_promises(f: &Figures) {
    assert_eq!(f.lost, 0, "runs lost");
    assert_eq!(f.stuck_running, 0, "runs stuck running");
    assert_eq!(f.duplicate_effects, 0, "duplicate database effects");
    assert_eq!(f.missing_effects, 0, "completed runs without their effect");
    assert_eq!(
        f.started_on_finished, 0,
        "executions started on finished runs"
    );
    assert_eq!(
        f.unexplained_reexecutions, 0,
        "re-executions without a lost lease"
    );
}

#[test]
fn chaos_short() {
    let f = chaos(400, Duration::from_secs(8), 0xC4A05);
    report(&f);
    assert_promises(&f);
    assert!(
        f.stops + f.kills + f.clock_steps > 0,
        "no fault was injected"
    );
}

#[test]
#[ignore = "long: run with the command in the module doc"]
fn chaos_long() {
    let f = chaos(6_000, Duration::from_secs(120), 0x5EED_C4A0);
    report(&f);
    assert_promises(&f);
}
