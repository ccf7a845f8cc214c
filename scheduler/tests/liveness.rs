//! A worker's liveness is judged by the promise it recorded itself, on the host's
//! monotonic clock: processes with different (valid) settings on one file, and a wall
//! clock that jumps by any amount, never take each other's live runs. Every case runs
//! real scheduler processes on one file.

mod common;

use std::{path::Path, sync::Arc, time::Duration};

use common::{
    TestDb,
    child::{Hold, JumpClock, Settings, set_offset, starts},
    wait_for,
};
use runloom::{
    Clock, MaintenanceConfig, RunId, RunStatus, Scheduler,
    store::{NewRun, RunFilter, Store},
};

#[test]
#[ignore = "started as a child process by the liveness tests"]
fn child() {
    common::child::run_child();
}

fn hold_runs(store: &Store, n: usize, ms: u64) -> Vec<RunId> {
    let now = runloom::SystemClock.now();
    let payload = serde_json::to_string(&Hold {
        ms,
        effect: false,
        panic_in_transaction: false,
    })
    .unwrap();
    store
        .write(|tx| {
            let runs: Vec<NewRun> = (0..n)
                .map(|_| NewRun::new("hold", payload.clone(), now))
                .collect();
            Ok(tx.insert_runs(&runs, now)?.iter().map(|i| i.id).collect())
        })
        .unwrap()
}

fn all_finished(store: &Store, ids: &[RunId]) -> bool {
    ids.iter().all(|id| {
        store
            .read(|tx| tx.get_run(*id))
            .unwrap()
            .status
            .is_finished()
    })
}

/// Every run completed on its first attempt, with no error recorded, its code started
/// once.
fn assert_each_ran_once(store: &Store, ids: &[RunId], log: &Path) {
    let starts = starts(log);
    for id in ids {
        let run = store.read(|tx| tx.get_run(*id)).unwrap();
        assert_eq!(
            (run.status, run.attempt),
            (RunStatus::Completed, 1),
            "run {id} was taken from its live worker: {:?}",
            run.errors
        );
        assert!(run.errors.is_empty(), "run {id}: {:?}", run.errors);
        let n = starts.iter().filter(|s| s.run == id.get()).count();
        assert_eq!(n, 1, "run {id} started {n} times");
    }
}

/// An observer in this process with aggressive settings that leads maintenance: it
/// heartbeats every 100 ms, calls itself stale after 300 ms, and checks every 20 ms. It
/// registers no job type of the holder's, so it never claims their runs.
fn aggressive_observer(db: &Path, clock: Arc<dyn Clock>) -> Scheduler {
    Scheduler::builder()
        .database(db)
        .clock(clock)
        .worker_threads(1)
        .lease_duration(Duration::from_millis(500))
        .heartbeat_interval(Duration::from_millis(100))
        .maintenance(
            MaintenanceConfig::default()
                .lease_rescue_interval(Duration::from_millis(20))
                .worker_check_interval(Duration::from_millis(20))
                .stale_worker_after(Duration::from_millis(300)),
        )
        .register::<common::jobs::Noop>()
        .start()
        .unwrap()
}

#[test]
fn a_process_with_other_settings_never_takes_live_runs() {
    let db = TestDb::new();
    let store = db.open();
    let ids = hold_runs(&store, 3, 2_500);
    // The holder heartbeats once a second (valid for its 3 s lease); the observer
    // calls anyone silent for 300 ms dead, by its own settings.
    let mut holder = Settings::scheduler(db.dir.path(), &db.path, "holder");
    holder.maintenance = false;
    let log = holder.log.clone();
    let observer = aggressive_observer(&db.path, Arc::new(runloom::SystemClock));
    let mut child = holder.spawn();
    assert!(
        wait_for(Duration::from_secs(60), || all_finished(&store, &ids)),
        "the runs did not finish"
    );
    std::fs::write(&holder.stop, b"").unwrap();
    child.wait().unwrap();
    // The observer did lead maintenance the whole time.
    let history = observer.maintenance_history().unwrap();
    assert!(
        history
            .iter()
            .any(|(s, _)| *s == runloom::Service::StaleWorkers),
        "{history:?}"
    );
    assert_each_ran_once(&store, &ids, &log);
}

#[test]
fn wall_clock_jumps_of_any_size_never_take_a_live_run() {
    let db = TestDb::new();
    let store = db.open();
    let ids = hold_runs(&store, 4, 4_000);
    let offset = db.dir.path().join("clock-offset");
    set_offset(&offset, 0);
    // Lease 1 s, heartbeat 200 ms: the setting. Both processes follow the same
    // system clock (the offset file) and both run maintenance often.
    let mut holder = Settings::scheduler(db.dir.path(), &db.path, "holder");
    holder.lease_ms = 1_000;
    holder.heartbeat_ms = 200;
    holder.stale_ms = 900;
    holder.rescue_ms = 10;
    holder.worker_check_ms = 10;
    holder.clock = Some(offset.clone());
    let log = holder.log.clone();
    let mut child = holder.spawn();
    let observer = aggressive_observer(&db.path, JumpClock::following(&offset));
    assert!(wait_for(Duration::from_secs(30), || starts(&log).len() == 4));
    // Forty steps forward of 1.5 s (more than the lease each), ten of a minute, then
    // back by an hour.
    let mut total: i64 = 0;
    for _ in 0..40 {
        total += 1_500;
        set_offset(&offset, total);
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..10 {
        total += 60_000;
        set_offset(&offset, total);
        std::thread::sleep(Duration::from_millis(20));
    }
    set_offset(&offset, total - 3_600_000);
    assert!(
        wait_for(Duration::from_secs(60), || all_finished(&store, &ids)),
        "the runs did not finish"
    );
    std::fs::write(&holder.stop, b"").unwrap();
    child.wait().unwrap();
    drop(observer);
    assert_each_ran_once(&store, &ids, &log);
    let runs = store
        .read(|tx| tx.list_runs(&RunFilter::new().status(RunStatus::Completed)))
        .unwrap();
    assert_eq!(runs.len(), 4);
}
