//! Snooze, on any backend: a job that asks to be tried later goes back to pending, due
//! after its delay, without using an attempt or adding to its errors; the snoozes are
//! counted on the run and announced as events; past `max_snoozes` a snooze is a failed
//! attempt like any other, so a job that snoozes for ever ends instead of looping.

use std::{sync::Arc, time::Duration};

use crate::common::{
    T0,
    backend::TestBackend,
    jobs::{Snoozes, attempts_of},
    wait_for,
};
use runloom::{Event, ManualClock, RunStatus};

const WAIT: Duration = Duration::from_secs(20);

pub(crate) fn a_snoozed_run_is_tried_again_without_using_an_attempt(db: &dyn TestBackend) {
    let s = db.builder().register::<Snoozes>().start().unwrap();
    let events = s.subscribe(64);
    let key = "snooze-thrice";
    let id = s
        .enqueue(Snoozes {
            key: key.into(),
            times: 3,
            ms: 0,
        })
        .unwrap()
        .id;
    let run = s.wait(id, WAIT).unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(
        run.result::<u32>().unwrap(),
        4,
        "three snoozes, then the 4th try"
    );
    assert_eq!(attempts_of(key), 4);
    assert_eq!(run.attempt, 1, "snoozes give their attempt back");
    assert_eq!(run.snoozes, 3);
    assert!(
        run.errors.is_empty(),
        "a snooze is not a failure: {:?}",
        run.errors
    );
    assert_eq!(run.last_error, None);
    let snoozed: Vec<u32> = events
        .try_iter()
        .filter_map(|e| match e {
            Event::Snoozed { run, snoozes, .. } if run == id => Some(snoozes),
            _ => None,
        })
        .collect();
    assert_eq!(snoozed, [1, 2, 3]);
    let stats = s.stats().unwrap();
    assert_eq!(
        (stats.snoozed, stats.retried),
        (3, 0),
        "a snooze is no retry"
    );
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn a_snooze_waits_its_delay_on_the_injected_clock(db: &dyn TestBackend) {
    let t0 = T0;
    let clock = Arc::new(ManualClock::new(t0));
    let s = db
        .builder()
        .clock(clock.clone())
        .register::<Snoozes>()
        .start()
        .unwrap();
    let key = "snooze-an-hour";
    let id = s
        .enqueue(Snoozes {
            key: key.into(),
            times: 1,
            ms: 3_600_000,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || s.run(id).unwrap().snoozes == 1));
    let run = s.run(id).unwrap();
    assert_eq!(
        (run.status, run.snoozes, run.attempt),
        (RunStatus::Pending, 1, 0)
    );
    assert_eq!(run.scheduled_at, t0 + Duration::from_secs(3600));
    // Not due before its hour (the wait returns when it times out, unchanged).
    assert!(s.wait(id, Duration::from_millis(300)).is_err());
    assert_eq!(attempts_of(key), 1);
    clock.advance(Duration::from_secs(3600));
    s.notify();
    let run = s.wait(id, WAIT).unwrap();
    assert_eq!(
        (run.status, run.attempt, run.snoozes),
        (RunStatus::Completed, 1, 1)
    );
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn snoozes_past_the_limit_count_as_failed_attempts(db: &dyn TestBackend) {
    let s = db
        .builder()
        .max_snoozes(2)
        .retry_policy(runloom::ExponentialBackoff::new(Duration::ZERO))
        .register::<Snoozes>()
        .start()
        .unwrap();
    let key = "snooze-for-ever";
    let id = s
        .enqueue(Snoozes {
            key: key.into(),
            times: u32::MAX,
            ms: 0,
        })
        .unwrap()
        .id;
    let run = s.wait(id, WAIT).unwrap();
    // Two snoozes, then each further snooze is a failed attempt: two attempts (the job
    // type's max_attempts), and the run fails with the reason.
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!((run.snoozes, run.attempt), (2, 2));
    assert_eq!(attempts_of(key), 4);
    assert_eq!(run.errors.len(), 2);
    for e in &run.errors {
        assert!(e.message.contains("snoozed 2 times"), "{}", e.message);
    }
    s.shutdown(WAIT).unwrap();
}
