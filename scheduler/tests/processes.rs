//! Several processes on one database file, with real child processes: the test binary
//! runs itself again as a scheduler (`child_scheduler`, ignored when run directly).

mod common;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{TestDb, wait_for};
use runloom::{
    Job, JobContext, JobError, MaintenanceConfig, Perform, RunStatus, Scheduler,
    store::{AttemptErrorKind, NewRun, RunFilter, Store, WorkerStatus},
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

const CHILD_DB: &str = "SCHEDULER_TEST_CHILD_DB";
const CHILD_MODE: &str = "SCHEDULER_TEST_CHILD_MODE";
const CHILD_STOP: &str = "SCHEDULER_TEST_CHILD_STOP";
const CHILD_SCHEDULE: &str = "SCHEDULER_TEST_CHILD_SCHEDULE";

/// In a child started with mode `hold`, it never returns (the child is killed);
/// otherwise it works a few milliseconds and returns the id of its process.
#[derive(Serialize, Deserialize)]
struct Work {
    n: u32,
}

impl Job for Work {
    const NAME: &'static str = "work";
}

impl Perform for Work {
    type Output = u32;
    fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
        if std::env::var(CHILD_MODE).as_deref() == Ok("hold") {
            loop {
                ctx.sleep(Duration::from_secs(3600))?;
            }
        }
        std::thread::sleep(Duration::from_millis(3));
        Ok(std::process::id())
    }
}

fn quick_builder(path: &Path) -> runloom::SchedulerBuilder {
    let builder = Scheduler::builder().database(path);
    // Mode `queues`: the default queue and `mail`, a thread each.
    let builder = if std::env::var(CHILD_MODE).as_deref() == Ok("queues") {
        builder.queue("default", 1).queue("mail", 1)
    } else {
        builder.worker_threads(2)
    };
    builder
        .max_in_flight(4)
        .poll_interval(Duration::from_millis(20))
        .lease_duration(Duration::from_secs(2))
        .heartbeat_interval(Duration::from_millis(200))
        .maintenance(
            MaintenanceConfig::default()
                .lease_rescue_interval(Duration::from_millis(100))
                .worker_check_interval(Duration::from_millis(200))
                .stale_worker_after(Duration::from_secs(1)),
        )
        .register::<Work>()
}

/// The child process's scheduler: runs until killed or until its stop file appears.
#[test]
#[ignore = "started as a child process by the multi-process tests"]
fn child_scheduler() {
    let Ok(path) = std::env::var(CHILD_DB) else {
        return;
    };
    let stop = std::env::var(CHILD_STOP).unwrap();
    let s = quick_builder(Path::new(&path)).start().unwrap();
    if std::env::var(CHILD_SCHEDULE).is_ok() {
        // Every child registers the same schedule, as every instance of a host would.
        s.schedule(
            "every-second",
            Work { n: 0 },
            runloom::ScheduleSpec::cron("* * * * * *"),
        )
        .unwrap();
    }
    while !Path::new(&stop).exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
    s.shutdown(Duration::from_secs(5)).unwrap();
}

fn spawn_child(db: &TestDb, mode: &str, stop: &Path) -> Child {
    child_command(db, mode, stop).spawn().unwrap()
}

/// The test binary, started again to run only `child_scheduler`.
fn child_command(db: &TestDb, mode: &str, stop: &Path) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "child_scheduler",
        "--exact",
        "--ignored",
        "--test-threads=1",
        "--quiet",
    ])
    .env(CHILD_DB, &db.path)
    .env(CHILD_MODE, mode)
    .env(CHILD_STOP, stop)
    .stdout(Stdio::null())
    .stderr(Stdio::inherit());
    c
}

fn enqueue(store: &Store, n: u32) {
    enqueue_in(store, n, "default");
}

/// `n` runs waiting in `queue`; their ids.
fn enqueue_in(store: &Store, n: u32, queue: &str) -> Vec<runloom::RunId> {
    let now = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1);
    let runs: Vec<NewRun> = (0..n)
        .map(|i| {
            let mut run = NewRun::new("work", format!(r#"{{"n":{i}}}"#), now);
            run.queue = queue.to_owned();
            run
        })
        .collect();
    store
        .write(|tx| tx.insert_runs(&runs, now))
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect()
}

#[test]
fn a_queue_paused_by_an_operator_waits_in_every_process_and_resumes() {
    let db = TestDb::new();
    let store = db.open();
    let operator = runloom::Admin::open(&db.path).unwrap();
    let stop = db.dir.path().join("stop");
    let mut children = [
        spawn_child(&db, "queues", &stop),
        spawn_child(&db, "queues", &stop),
    ];
    assert!(operator.pause_queue("mail").unwrap());
    let mail = enqueue_in(&store, 20, "mail");
    let other = enqueue_in(&store, 20, "default");
    let status = |id: &runloom::RunId| store.read(|tx| tx.get_run(*id)).unwrap().status;
    let done = |ids: &[runloom::RunId]| ids.iter().all(|id| status(id) == RunStatus::Completed);
    assert!(
        wait_for(Duration::from_secs(60), || done(&other)),
        "the default queue goes on while mail is paused"
    );
    // Both processes have polled many times since (20 ms polls): mail never started.
    let waited = Instant::now();
    assert!(!wait_for(Duration::from_millis(500), || mail
        .iter()
        .any(|id| status(id) != RunStatus::Pending)));
    assert!(waited.elapsed() >= Duration::from_millis(500));
    assert!(operator.resume_queue("mail").unwrap());
    assert!(
        wait_for(Duration::from_secs(60), || done(&mail)),
        "mail resumed"
    );
    std::fs::write(&stop, b"").unwrap();
    for c in &mut children {
        assert!(c.wait().unwrap().success());
    }
    let pids: std::collections::HashSet<String> = mail
        .iter()
        .map(|id| store.read(|tx| tx.get_run(*id)).unwrap().result.unwrap())
        .collect();
    let children: std::collections::HashSet<String> =
        children.iter().map(|c| c.id().to_string()).collect();
    assert!(pids.is_subset(&children), "{pids:?} ran the mail runs");
}

/// The instance leading maintenance, from its lease in `system_state`.
fn leader(store: &Store) -> Option<runloom::store::WorkerId> {
    let v = store
        .read(|tx| tx.get_state("maintenance.leader"))
        .unwrap()?;
    let v: serde_json::Value = serde_json::from_str(&v).ok()?;
    v.get("worker")?.as_i64().map(runloom::store::WorkerId::new)
}

fn all_runs(store: &Store) -> Vec<runloom::Run> {
    store
        .read(|tx| tx.list_runs(&RunFilter::new().limit(10_000)))
        .unwrap()
}

#[test]
fn two_processes_on_one_file_both_make_progress_and_run_everything_once() {
    let db = TestDb::new();
    let store = db.open();
    enqueue(&store, 300);
    let stop = db.dir.path().join("stop");
    let mut children = [
        spawn_child(&db, "work", &stop),
        spawn_child(&db, "work", &stop),
    ];
    let done = wait_for(Duration::from_secs(60), || {
        store
            .read(|tx| tx.count_runs_by_status())
            .unwrap()
            .completed
            == 300
    });
    std::fs::write(&stop, b"").unwrap();
    for c in &mut children {
        assert!(c.wait().unwrap().success());
    }
    assert!(done, "not every run completed");
    let runs = all_runs(&store);
    assert!(
        runs.iter()
            .all(|r| r.status == RunStatus::Completed && r.attempt == 1)
    );
    let pids: std::collections::HashSet<String> =
        runs.iter().map(|r| r.result.clone().unwrap()).collect();
    let expected: std::collections::HashSet<String> =
        children.iter().map(|c| c.id().to_string()).collect();
    assert_eq!(pids, expected, "both processes ran jobs");
    let workers = store.read(|tx| tx.list_workers(true)).unwrap();
    assert_eq!(workers.len(), 2);
    assert!(
        workers
            .iter()
            .all(|w| w.status == WorkerStatus::Offline && w.leases_held == 0)
    );
}

#[test]
fn runs_of_a_killed_process_are_finished_by_the_other_with_the_attempt_counted() {
    let db = TestDb::new();
    let store = db.open();
    enqueue(&store, 4);
    let stop = db.dir.path().join("stop");
    let mut child = spawn_child(&db, "hold", &stop);
    let child_pid = child.id();
    // The child holds all four runs (two running, two in its local queue).
    assert!(wait_for(Duration::from_secs(30), || {
        let runs = all_runs(&store);
        runs.iter().all(|r| r.status == RunStatus::Running)
    }));
    let child_worker = store.read(|tx| tx.list_workers(false)).unwrap()[0].clone();
    assert_eq!(child_worker.pid, child_pid);
    assert!(
        wait_for(Duration::from_secs(10), || leader(&store)
            == Some(child_worker.id)),
        "the child leads maintenance"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let killed_at = Instant::now();

    let parent = quick_builder(&db.path).start().unwrap();
    assert!(wait_for(Duration::from_secs(30), || {
        all_runs(&store)
            .iter()
            .all(|r| r.status == RunStatus::Completed)
    }));
    let recovery = killed_at.elapsed();
    eprintln!("recovered 4 runs of a killed process in {recovery:.2?} (lease 2 s)");
    for run in all_runs(&store) {
        assert_eq!(run.attempt, 2, "the killed attempt counts");
        assert_eq!(run.errors.len(), 1);
        assert_eq!(run.errors[0].kind, AttemptErrorKind::LeaseExpired);
        assert_eq!(run.worker_id, Some(parent.worker_id()));
        assert_eq!(run.result, Some(std::process::id().to_string()));
    }
    assert_eq!(
        leader(&store),
        Some(parent.worker_id()),
        "the survivor took over maintenance"
    );
    let dead = store.read(|tx| tx.get_worker(child_worker.id)).unwrap();
    assert_eq!(
        dead.status,
        WorkerStatus::Offline,
        "the killed instance was marked offline"
    );
    assert_eq!(dead.leases_held, 0);
    parent.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn two_processes_on_one_schedule_create_each_occurrence_once() {
    let db = TestDb::new();
    let store = db.open();
    let stop = db.dir.path().join("stop");
    let mut children: Vec<Child> = (0..2)
        .map(|_| {
            child_command(&db, "work", &stop)
                .env(CHILD_SCHEDULE, "1")
                .spawn()
                .unwrap()
        })
        .collect();
    // Let both run the every-second schedule for a few seconds.
    let task_runs = || {
        let task = store
            .read(|tx| tx.find_task_by_name("every-second"))
            .unwrap();
        task.map(|t| {
            store
                .read(|tx| tx.list_runs(&RunFilter::new().task(t.id).limit(10_000)))
                .unwrap()
        })
        .unwrap_or_default()
    };
    assert!(wait_for(Duration::from_secs(30), || task_runs().len() >= 5));
    std::fs::write(&stop, b"").unwrap();
    for c in &mut children {
        assert!(c.wait().unwrap().success());
    }
    let mut at: Vec<OffsetDateTime> = task_runs().iter().map(|r| r.scheduled_at).collect();
    at.sort();
    let n = at.len();
    at.dedup();
    assert_eq!(at.len(), n, "an occurrence was created twice");
    for w in at.windows(2) {
        assert_eq!(
            w[1] - w[0],
            time::Duration::SECOND,
            "every second in between exists: {at:?}"
        );
    }
    assert_eq!(
        store.read(|tx| tx.list_tasks(false)).unwrap().len(),
        1,
        "one schedule, registered twice"
    );
}
