//! Schedules where the test needs the SQLite file itself: a schedule written straight
//! into the database by another tool. The behavioural schedule tests, on any backend,
//! are in `tests/behaviour/schedules.rs`.

mod common;

use std::{sync::Arc, time::Duration};

use common::{TestDb, builder, jobs::Count, wait_for};
use runloom::{ManualClock, RunFilter, RunStatus};
use time::macros::datetime;

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn notify_makes_the_dispatcher_look_at_schedules_written_around_it() {
    // A schedule written by another tool (here straight into the store) is seen within
    // the poll interval, or at once after `notify`: with a one-minute poll, only the
    // notification can create this occurrence in time.
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-01 12:00 UTC)));
    let s = builder(&db)
        .clock(clock.clone())
        .poll_interval(Duration::from_secs(60))
        .register::<Count>()
        .start()
        .unwrap();
    let now = runloom::Clock::now(clock.as_ref());
    let mut task = runloom::store::NewTask::new("written-around", "count", r#"{"key":"around"}"#);
    task.schedule = runloom::store::Schedule::Interval(Duration::from_secs(3600));
    task.next_run_at = Some(now);
    let task = s.store().write(|tx| tx.create_task(&task, now)).unwrap();
    s.notify();
    assert!(wait_for(WAIT, || {
        s.runs(&RunFilter::new().task(task.id))
            .unwrap()
            .iter()
            .any(|r| r.status == RunStatus::Completed)
    }));
    s.shutdown(Duration::from_secs(5)).unwrap();
}
