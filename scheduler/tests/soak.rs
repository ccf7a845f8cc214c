//! Soak: two scheduler processes on one file, thousands of jobs with failures, panics,
//! timeouts and dependency chains, and one process killed with SIGKILL and restarted
//! several times. At the end the invariants are checked and one line of figures is
//! printed.
//!
//! A short version runs with the suite. The long one:
//!
//! ```text
//! cargo test --release -p runloom --test soak -- --ignored --nocapture soak_long
//! ```

mod common;

use std::{
    collections::{HashMap, HashSet},
    io::Write,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{Lcg, T0, TestDb};
use runloom::sqlite::JobContextExt as _;
use runloom::{
    Job, JobContext, JobError, JobOptions, MaintenanceConfig, Perform, RunStatus, Scheduler,
    store::{DependencyLimits, NewDependency, NewRun, RunFilter, Store, WorkerId},
};
use serde::{Deserialize, Serialize};

const DB: &str = "SOAK_DB";
const LOG: &str = "SOAK_LOG";
const STOP: &str = "SOAK_STOP";

/// What a soak job does, chosen by the orchestrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Kind {
    Ok,
    FailOnce,
    PanicOnce,
    TimeoutOnce,
    AlwaysFail,
}

#[derive(Serialize, Deserialize)]
struct SoakJob {
    kind: Kind,
    work_ms: u64,
}

impl Job for SoakJob {
    const NAME: &'static str = "soak";
    fn options() -> JobOptions {
        JobOptions::new()
            .max_attempts(4)
            .timeout(Duration::from_millis(300))
            .backoff(Duration::from_millis(20))
    }
}

impl Perform for SoakJob {
    type Output = ();
    fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        // Every start is logged before any work: a kill after this line shows.
        let log = std::env::var(LOG).map_err(|e| JobError::fail(e.to_string()))?;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(log)?;
        f.write_all(
            format!(
                "{} {} {}\n",
                ctx.run_id(),
                ctx.attempt(),
                std::process::id()
            )
            .as_bytes(),
        )?;
        drop(f);
        let first = ctx.attempt() == 1;
        match self.kind {
            Kind::FailOnce if first => return Err(JobError::retry("planned failure")),
            Kind::PanicOnce if first => panic!("planned panic"),
            Kind::TimeoutOnce if first => {
                ctx.sleep(Duration::from_secs(5))?;
            }
            Kind::AlwaysFail => return Err(JobError::retry("always fails")),
            _ => {}
        }
        ctx.sleep(Duration::from_millis(self.work_ms))?;
        // The job's effect on the database commits with its completion, or not at all.
        ctx.transaction(|db| {
            db.execute(
                "INSERT INTO soak_effects (run_id, attempt) VALUES (?1, ?2)",
                [ctx.run_id().get(), i64::from(ctx.attempt())],
            )?;
            Ok(())
        })
    }
}

fn scheduler_on(db: &Path) -> Scheduler {
    Scheduler::builder()
        .database(db)
        .worker_threads(4)
        .max_in_flight(8)
        .poll_interval(Duration::from_millis(20))
        .lease_duration(Duration::from_secs(1))
        .heartbeat_interval(Duration::from_millis(200))
        .maintenance(
            MaintenanceConfig::default()
                .lease_rescue_interval(Duration::from_millis(100))
                .worker_check_interval(Duration::from_millis(200))
                .stale_worker_after(Duration::from_millis(900)),
        )
        .register::<SoakJob>()
        .start()
        .unwrap()
}

/// A soak process: runs until its stop file appears (or it is killed).
#[test]
#[ignore = "started as a child process by the soak tests"]
fn soak_child() {
    let Ok(db) = std::env::var(DB) else { return };
    std::panic::set_hook(Box::new(|_| {})); // planned panics: keep the output readable
    let stop = PathBuf::from(std::env::var(STOP).unwrap());
    let s = scheduler_on(Path::new(&db));
    while !stop.exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
    s.shutdown(Duration::from_secs(10)).unwrap();
}

fn spawn(db: &TestDb, log: &Path, stop: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "soak_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--quiet",
        ])
        .env(DB, &db.path)
        .env(LOG, log)
        .env(STOP, stop)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Enqueues `n` jobs: a mix of kinds, a fifth of them in chains of five.
fn enqueue(store: &Store, n: usize, seed: u64) -> HashMap<i64, Kind> {
    let mut rng = Lcg(seed);
    let mut kinds = Vec::with_capacity(n);
    let runs: Vec<NewRun> = (0..n)
        .map(|_| {
            let kind = match rng.next() % 100 {
                0..=69 => Kind::Ok,
                70..=79 => Kind::FailOnce,
                80..=86 => Kind::PanicOnce,
                87..=93 => Kind::TimeoutOnce,
                _ => Kind::AlwaysFail,
            };
            kinds.push(kind);
            let job = SoakJob {
                kind,
                work_ms: 2 + rng.next() % 10,
            };
            let mut run = NewRun::new("soak", serde_json::to_string(&job).unwrap(), T0);
            run.max_attempts = 4;
            run.timeout = Some(Duration::from_millis(300));
            run.backoff = Duration::from_millis(20);
            run
        })
        .collect();
    let ids: Vec<i64> = store
        .write(|tx| tx.insert_runs(&runs, T0))
        .unwrap()
        .iter()
        .map(|i| i.id.get())
        .collect();
    let chained = n / 5 / 5 * 5;
    let edges: Vec<NewDependency> = (0..chained)
        .filter(|i| i % 5 != 0)
        .map(|i| NewDependency::new(runloom::RunId::new(ids[i]), runloom::RunId::new(ids[i - 1])))
        .collect();
    store
        .write(|tx| tx.add_dependencies(&edges, &DependencyLimits::default(), T0))
        .unwrap();
    ids.into_iter().zip(kinds).collect()
}

struct Figures {
    duplicate_effects: usize,
    enqueued: usize,
    completed: usize,
    failed: usize,
    cancelled: usize,
    lost: usize,
    reexecuted_after_kill: usize,
    kills: usize,
    longest_recovery: Duration,
    elapsed: Duration,
}

fn soak(n: usize, kills: usize, kill_every: Duration) -> Figures {
    let db = TestDb::new();
    let store = db.open();
    db.raw()
        .execute_batch(
            "CREATE TABLE soak_effects (run_id INTEGER NOT NULL, attempt INTEGER NOT NULL)",
        )
        .unwrap();
    let kinds = enqueue(&store, n, 0x5eed + n as u64);
    let log = db.dir.path().join("executions.log");
    let stop = db.dir.path().join("stop");
    let started = Instant::now();
    let steady = spawn(&db, &log, &stop);
    let mut victim = spawn(&db, &log, &stop);
    let mut killed_pids: HashSet<u32> = HashSet::new();
    let mut recoveries = Vec::new();
    let deadline = started + Duration::from_secs(600);
    let all_final = |store: &Store| {
        let c = store.read(|tx| tx.count_runs_by_status()).unwrap();
        c.blocked + c.pending + c.running == 0
    };

    for _ in 0..kills {
        let kill_at = Instant::now() + kill_every;
        while Instant::now() < kill_at && !all_final(&store) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if all_final(&store) {
            break;
        }
        // The victim's worker row and the runs it holds at the kill.
        let victim_worker: Option<WorkerId> = store
            .read(|tx| tx.list_workers(false))
            .unwrap()
            .into_iter()
            .find(|w| w.pid == victim.id())
            .map(|w| w.id);
        victim.kill().unwrap();
        victim.wait().unwrap();
        killed_pids.insert(victim.id());
        let killed_at = Instant::now();
        if let Some(w) = victim_worker {
            let held: Vec<_> = store.read(|tx| tx.leases_of_worker(w)).unwrap();
            victim = spawn(&db, &log, &stop);
            // Recovered when none of those runs is held by the dead worker any more.
            while Instant::now() < deadline {
                let still = held
                    .iter()
                    .filter(|l| {
                        store
                            .read(|tx| tx.lease_of(l.run_id))
                            .unwrap()
                            .is_some_and(|x| x.worker_id == w)
                    })
                    .count();
                if still == 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            recoveries.push(killed_at.elapsed());
        } else {
            victim = spawn(&db, &log, &stop);
        }
    }
    while Instant::now() < deadline && !all_final(&store) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(&stop, b"").unwrap();
    for mut c in [steady, victim] {
        let _ = c.wait();
    }
    let elapsed = started.elapsed();

    // Invariants.
    let runs = store
        .read(|tx| tx.list_runs(&RunFilter::new().limit(u32::MAX)))
        .unwrap();
    assert_eq!(runs.len(), n);
    let by_status = |st: RunStatus| runs.iter().filter(|r| r.status == st).count();
    let lost = runs.iter().filter(|r| !r.status.is_finished()).count();
    let mut executions: HashMap<i64, Vec<(u32, u32)>> = HashMap::new();
    for line in std::fs::read_to_string(&log).unwrap_or_default().lines() {
        let f: Vec<&str> = line.split(' ').collect();
        executions
            .entry(f[0].parse().unwrap())
            .or_default()
            .push((f[1].parse().unwrap(), f[2].parse().unwrap()));
    }
    let mut effects: HashMap<i64, usize> = HashMap::new();
    {
        let conn = db.raw();
        let mut stmt = conn.prepare("SELECT run_id FROM soak_effects").unwrap();
        for id in stmt.query_map([], |r| r.get::<_, i64>(0)).unwrap() {
            *effects.entry(id.unwrap()).or_default() += 1;
        }
    }
    let duplicate_effects = effects.values().filter(|n| **n > 1).count();
    let mut reexecuted_after_kill = 0;
    for r in &runs {
        // Exactly one effect for each completed run, none for the others.
        let expected = usize::from(r.status == RunStatus::Completed);
        assert_eq!(
            effects.get(&r.id.get()).copied().unwrap_or(0),
            expected,
            "run {} effects",
            r.id
        );
        let kind = kinds[&r.id.get()];
        let ex = executions.get(&r.id.get()).cloned().unwrap_or_default();
        // One lease per execution: no attempt of a run ever started twice.
        let attempts: HashSet<u32> = ex.iter().map(|(a, _)| *a).collect();
        assert_eq!(
            attempts.len(),
            ex.len(),
            "run {} started one attempt twice: {ex:?}",
            r.id
        );
        assert!(
            ex.len() as u32 <= r.attempt,
            "run {}: more starts than attempts",
            r.id
        );
        match r.status {
            RunStatus::Completed => assert_ne!(kind, Kind::AlwaysFail, "run {}", r.id),
            RunStatus::Failed => assert_eq!(
                kind,
                Kind::AlwaysFail,
                "run {} failed: {:?}",
                r.id,
                r.errors
            ),
            RunStatus::Cancelled => assert_eq!(
                r.cancel_reason.as_deref(),
                Some("upstream_failed"),
                "run {}",
                r.id
            ),
            other => assert!(!other.is_finished()),
        }
        // Every start beyond those the job's kind asks for followed a kill.
        let planned = match kind {
            Kind::Ok => 1,
            Kind::FailOnce | Kind::PanicOnce | Kind::TimeoutOnce => 2,
            Kind::AlwaysFail => 4,
        };
        if ex.len() > planned {
            let killed_starts = ex
                .iter()
                .filter(|(_, pid)| killed_pids.contains(pid))
                .count();
            assert!(
                killed_starts > 0,
                "run {} started {} times with no kill: {ex:?}",
                r.id,
                ex.len()
            );
            reexecuted_after_kill += 1;
        }
    }
    assert_eq!(lost, 0, "runs lost");
    assert_eq!(duplicate_effects, 0);
    Figures {
        duplicate_effects,
        enqueued: n,
        completed: by_status(RunStatus::Completed),
        failed: by_status(RunStatus::Failed),
        cancelled: by_status(RunStatus::Cancelled),
        lost,
        reexecuted_after_kill,
        kills: recoveries.len(),
        longest_recovery: recoveries.into_iter().max().unwrap_or_default(),
        elapsed,
    }
}

fn report(f: &Figures) {
    println!(
        "soak: enqueued {}, completed {}, failed {}, cancelled {}, lost {}, executed more than once {} \
         (each after a kill of its process), DB-local duplicate effects {}, kills {}, longest recovery \
         {:.2?} (lease 1 s), took {:.1?}",
        f.enqueued,
        f.completed,
        f.failed,
        f.cancelled,
        f.lost,
        f.reexecuted_after_kill,
        f.duplicate_effects,
        f.kills,
        f.longest_recovery,
        f.elapsed
    );
}

#[test]
fn soak_short() {
    let f = soak(1500, 2, Duration::from_millis(800));
    report(&f);
    assert_eq!(f.lost, 0);
    assert!(f.kills >= 1, "the soak ended before a kill");
}

#[test]
#[ignore = "long: run with the command in the module doc"]
fn soak_long() {
    let f = soak(30_000, 8, Duration::from_secs(4));
    report(&f);
    assert_eq!(f.lost, 0);
}
