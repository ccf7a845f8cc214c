//! An idle dispatcher sleeps: with every slot busy, while paused with due runs, or with
//! only runs of job types it does not run, it must wait for an event or its poll
//! interval, not spin. Measured as the dispatcher thread's own CPU time (Linux), in a
//! test binary of its own so that no other scheduler's threads are counted.

#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use common::{
    T0, TestDb, builder,
    jobs::{Gate, Noop, attempts_of, open_gate},
    wait_for,
};
use runloom::store::NewRun;

/// CPU time (user + system, in clock ticks) of this process's dispatcher threads.
fn dispatcher_ticks() -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc/self/task").unwrap() {
        let stat = std::fs::read_to_string(entry.unwrap().path().join("stat")).unwrap_or_default();
        // pid (comm) state ...: comm may hold spaces, so split after the last ')'.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = &stat[stat.find('(').unwrap_or(0) + 1..close];
        if !comm.starts_with("runloom-disp") {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        // After the comm: state is field 3; utime and stime are fields 14 and 15.
        let utime: u64 = fields[11].parse().unwrap();
        let stime: u64 = fields[12].parse().unwrap();
        total += utime + stime;
    }
    total
}

/// Dispatcher CPU ticks spent over `wall` (100 ticks = one busy core-second).
fn ticks_over(wall: Duration) -> u64 {
    let before = dispatcher_ticks();
    std::thread::sleep(wall); // measuring an interval: nothing to wait for
    dispatcher_ticks() - before
}

#[test]
fn an_idle_dispatcher_does_not_spin() {
    let db = TestDb::new();
    let s = builder(&db)
        .worker_threads(1)
        .max_in_flight(1)
        .register::<Gate>()
        .register::<Noop>()
        .start()
        .unwrap();
    let wall = Duration::from_secs(1);
    // A spinning loop costs about 100 ticks a second; polling every 20 ms, about 0-3.
    let limit = 30;

    // Every slot busy, more runs due.
    let gate = "idle-busy";
    s.enqueue(Gate {
        gate: gate.into(),
        max_ms: 30_000,
        cooperative: false,
    })
    .unwrap();
    assert!(wait_for(Duration::from_secs(10), || attempts_of(&format!(
        "{gate}:started"
    )) == 1));
    for _ in 0..3 {
        s.enqueue(Noop).unwrap();
    }
    let busy = ticks_over(wall);
    open_gate(gate);

    // Paused with runs due.
    assert!(wait_for(Duration::from_secs(10), || s
        .stats()
        .unwrap()
        .counts
        .pending
        == 0));
    s.pause().unwrap();
    for _ in 0..3 {
        s.enqueue(Noop).unwrap();
    }
    let paused = ticks_over(wall);
    s.resume().unwrap();
    assert!(wait_for(Duration::from_secs(10), || s
        .stats()
        .unwrap()
        .counts
        .pending
        == 0));

    // Only runs of a job type this process does not run are due.
    s.store()
        .write(|tx| tx.insert_run(&NewRun::new("someone_elses_job", "{}", T0), T0))
        .unwrap();
    s.notify();
    let foreign = ticks_over(wall);

    eprintln!("dispatcher CPU ticks over 1 s: busy {busy}, paused {paused}, foreign {foreign}");
    assert!(busy < limit, "spins while every slot is busy: {busy} ticks");
    assert!(paused < limit, "spins while paused: {paused} ticks");
    assert!(
        foreign < limit,
        "spins on runs it cannot take: {foreign} ticks"
    );
}
