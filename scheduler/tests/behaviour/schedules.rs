//! Schedules on a manual clock, on any backend: cron and interval occurrences,
//! persistence across a restart, exactly-once occurrences with two schedulers on one
//! database, misfire policies after downtime, updates, and refusals.

use crate::common::{self, backend::TestBackend};

use std::{sync::Arc, time::Duration};

use crate::common::{
    jobs::{Count, Gate},
    wait_for,
};
use runloom::{
    Error, ManualClock, MisfirePolicy, RunFilter, RunStatus, ScheduleSpec, Scheduler, Task,
};
use time::{OffsetDateTime, macros::datetime};

const WAIT: Duration = Duration::from_secs(15);

fn start(db: &dyn TestBackend, clock: &Arc<ManualClock>) -> Scheduler {
    db.builder()
        .clock(clock.clone())
        .register::<Count>()
        .start()
        .unwrap()
}

/// The scheduled times of the task's runs, oldest first.
fn occurrences(s: &Scheduler, task: &Task) -> Vec<OffsetDateTime> {
    let mut v: Vec<OffsetDateTime> = s
        .runs(&RunFilter::new().task(task.id).limit(10_000))
        .unwrap()
        .iter()
        .map(|r| r.scheduled_at)
        .collect();
    v.sort();
    v
}

/// The task's next occurrence, as the operator API reads it.
fn next_run_at(s: &Scheduler, task: &Task) -> Option<OffsetDateTime> {
    s.admin()
        .tasks(true)
        .unwrap()
        .into_iter()
        .find(|t| t.id == task.id)
        .unwrap()
        .next_run_at
}

/// Moves the clock and waits until the task has `n` occurrences.
fn advance_to(
    s: &Scheduler,
    clock: &ManualClock,
    task: &Task,
    at: OffsetDateTime,
    n: usize,
) -> Vec<OffsetDateTime> {
    clock.set(at);
    s.notify();
    assert!(
        wait_for(WAIT, || occurrences(s, task).len() >= n),
        "expected {n} occurrences at {at}, got {:?}",
        occurrences(s, task)
    );
    occurrences(s, task)
}

pub(crate) fn a_cron_schedule_creates_each_occurrence_on_time_and_they_run(db: &dyn TestBackend) {
    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let s = start(db, &clock);
    let task = s
        .schedule(
            "every-5s",
            Count {
                key: "cron-5s".into(),
            },
            ScheduleSpec::cron("*/5 * * * * *"),
        )
        .unwrap();
    assert_eq!(task.next_run_at, Some(t0), "12:00:00 matches */5");
    // Each step of the clock brings exactly the occurrences that became due.
    let got = advance_to(&s, &clock, &task, t0 + Duration::from_millis(500), 1);
    assert_eq!(got, vec![t0]);
    let got = advance_to(&s, &clock, &task, t0 + Duration::from_secs(12), 3);
    assert_eq!(
        got,
        vec![
            t0,
            t0 + Duration::from_secs(5),
            t0 + Duration::from_secs(10)
        ]
    );
    for r in s.runs(&RunFilter::new().task(task.id)).unwrap() {
        assert_eq!(s.wait(r.id, WAIT).unwrap().status, RunStatus::Completed);
    }
    assert_eq!(
        s.next_fire_times("every-5s", 3).unwrap(),
        vec![
            t0 + Duration::from_secs(15),
            t0 + Duration::from_secs(20),
            t0 + Duration::from_secs(25)
        ]
    );
}

pub(crate) fn an_interval_schedule_fires_one_interval_after_it_is_created(db: &dyn TestBackend) {
    let t0 = datetime!(2026-06-01 12:00:00.250 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let s = start(db, &clock);
    let task = s
        .schedule(
            "every-10s",
            Count {
                key: "interval".into(),
            },
            ScheduleSpec::every(Duration::from_secs(10)),
        )
        .unwrap();
    assert_eq!(task.next_run_at, Some(t0 + Duration::from_secs(10)));
    let got = advance_to(&s, &clock, &task, t0 + Duration::from_secs(21), 2);
    assert_eq!(
        got,
        vec![t0 + Duration::from_secs(10), t0 + Duration::from_secs(20)]
    );
}

pub(crate) fn a_restart_continues_the_same_schedule_without_duplicates(db: &dyn TestBackend) {
    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let spec = || ScheduleSpec::cron("*/10 * * * * *");
    let task = {
        let s = start(db, &clock);
        let task = s
            .schedule(
                "ten",
                Count {
                    key: "restart".into(),
                },
                spec(),
            )
            .unwrap();
        advance_to(&s, &clock, &task, t0 + Duration::from_secs(11), 2);
        s.shutdown(Duration::from_secs(5)).unwrap();
        task
    };
    // Registered again at start (as a host does every time): no change, no duplicate.
    let s = start(db, &clock);
    let again = s
        .schedule(
            "ten",
            Count {
                key: "restart".into(),
            },
            spec(),
        )
        .unwrap();
    assert_eq!((again.id, again.version), (task.id, task.version));
    let got = advance_to(&s, &clock, &task, t0 + Duration::from_secs(21), 3);
    assert_eq!(
        got,
        vec![
            t0,
            t0 + Duration::from_secs(10),
            t0 + Duration::from_secs(20)
        ]
    );
}

pub(crate) fn two_schedulers_on_one_file_create_each_occurrence_once(db: &dyn TestBackend) {
    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let a = start(db, &clock);
    let b = start(db, &clock);
    let spec = || ScheduleSpec::cron("* * * * * *");
    let task = a
        .schedule("every-second", Count { key: "two".into() }, spec())
        .unwrap();
    assert_eq!(
        b.schedule("every-second", Count { key: "two".into() }, spec())
            .unwrap()
            .id,
        task.id
    );
    for i in 1..=20u64 {
        clock.set(t0 + Duration::from_secs(i));
        a.notify();
        b.notify();
        // Both dispatchers materialise; let a couple of poll intervals pass each step.
        assert!(wait_for(WAIT, || occurrences(&a, &task).len() as u64 > i));
    }
    // Occurrences are created up to a second ahead, so 12:00:21 may exist too; what
    // matters is that every second is there exactly once.
    let got = occurrences(&a, &task);
    assert!(got.len() == 21 || got.len() == 22, "{got:?}");
    let expected: Vec<OffsetDateTime> = (0..got.len() as u64)
        .map(|i| t0 + Duration::from_secs(i))
        .collect();
    assert_eq!(got, expected, "each second exactly once");
}

/// Creates a schedule at `t0`, stops the scheduler (downtime), moves the clock to
/// `back`, starts again, and returns the occurrences once they settle.
fn after_downtime(
    db: &dyn TestBackend,
    name: &str,
    policy: MisfirePolicy,
    cap: u32,
) -> (Vec<OffsetDateTime>, Option<OffsetDateTime>) {
    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let spec = ScheduleSpec::cron("0 * * * * *")
        .misfire(policy)
        .misfire_cap(cap);
    let task = {
        let s = start(db, &clock);
        let task = s
            .schedule(
                name,
                Count {
                    key: format!("misfire-{name}"),
                },
                spec,
            )
            .unwrap();
        assert!(wait_for(WAIT, || occurrences(&s, &task).len() == 1));
        s.shutdown(Duration::from_secs(5)).unwrap();
        task
    };
    // Down for an hour and ten seconds: 60 occurrences (12:01 .. 13:00) were missed.
    let back = t0 + Duration::from_secs(3610);
    clock.set(back);
    let s = start(db, &clock);
    assert!(wait_for(WAIT, || { next_run_at(&s, &task) > Some(back) }));
    let next = next_run_at(&s, &task);
    let got = occurrences(&s, &task);
    // A later call on the same database starts from no live schedule.
    s.unschedule(name).unwrap();
    (got, next)
}

pub(crate) fn misfire_run_once_creates_one_run_for_the_missed_period(db: &dyn TestBackend) {
    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let (got, next) = after_downtime(db, "run-once", MisfirePolicy::RunOnce, 100);
    assert_eq!(
        got,
        vec![t0, datetime!(2026-06-01 13:00:00 UTC)],
        "the latest missed one"
    );
    assert_eq!(next, Some(datetime!(2026-06-01 13:01:00 UTC)));
}

pub(crate) fn misfire_run_all_creates_the_latest_missed_occurrences_up_to_the_cap(
    db: &dyn TestBackend,
) {
    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let (got, next) = after_downtime(db, "run-all-5", MisfirePolicy::RunAll, 5);
    let mut expected = vec![t0];
    expected.extend((56..=60).map(|m| t0 + Duration::from_secs(60 * m)));
    assert_eq!(got, expected);
    assert_eq!(next, Some(datetime!(2026-06-01 13:01:00 UTC)));
    let (got, _) = after_downtime(db, "run-all-1000", MisfirePolicy::RunAll, 1000);
    assert_eq!(got.len(), 61, "all 60 missed plus the first");
}

pub(crate) fn misfire_skip_creates_none_of_the_missed_occurrences(db: &dyn TestBackend) {
    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let (got, next) = after_downtime(db, "skip", MisfirePolicy::Skip, 100);
    assert_eq!(got, vec![t0]);
    assert_eq!(next, Some(datetime!(2026-06-01 13:01:00 UTC)));
}

pub(crate) fn updating_and_removing_a_schedule(db: &dyn TestBackend) {
    let t0 = datetime!(2026-06-01 12:10:00 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let s = start(db, &clock);
    let v1 = s
        .schedule(
            "report",
            Count { key: "upd".into() },
            ScheduleSpec::cron("0 0 * * * *"),
        )
        .unwrap();
    let v2 = s
        .schedule(
            "report",
            Count { key: "upd".into() },
            ScheduleSpec::cron("0 30 * * * *").priority(7),
        )
        .unwrap();
    assert_eq!(v2.id, v1.id);
    assert_eq!(v2.version, v1.version + 1);
    assert_eq!(v2.priority, 7);
    assert_eq!(
        v2.next_run_at,
        Some(datetime!(2026-06-01 12:30:00 UTC)),
        "recomputed for the new timing"
    );
    // Only the options change: the next occurrence stays.
    let v3 = s
        .schedule(
            "report",
            Count { key: "upd".into() },
            ScheduleSpec::cron("0 30 * * * *").priority(8),
        )
        .unwrap();
    assert_eq!(v3.next_run_at, v2.next_run_at);
    assert_eq!(s.schedules().unwrap().len(), 1);
    assert!(s.unschedule("report").unwrap());
    assert!(!s.unschedule("report").unwrap());
    assert!(s.schedules().unwrap().is_empty());
    clock.set(datetime!(2026-06-01 14:00:00 UTC));
    s.notify();
    assert!(!wait_for(Duration::from_millis(200), || !occurrences(
        &s, &v1
    )
    .is_empty()));
}

pub(crate) fn a_unique_key_keeps_occurrences_from_overlapping(db: &dyn TestBackend) {
    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let s = start(db, &clock);
    s.pause().unwrap(); // nothing finishes: each occurrence would overlap the previous
    let task = s
        .schedule(
            "no-overlap",
            Count {
                key: "overlap".into(),
            },
            ScheduleSpec::cron("* * * * * *").unique_key("no-overlap"),
        )
        .unwrap();
    for i in 1..=5u64 {
        clock.set(t0 + Duration::from_secs(i));
        s.notify();
        assert!(wait_for(WAIT, || {
            next_run_at(&s, &task) > Some(t0 + Duration::from_secs(i))
        }));
    }
    assert_eq!(
        occurrences(&s, &task),
        vec![t0],
        "later occurrences were skipped while it waited"
    );
}

pub(crate) fn bad_schedules_are_refused_with_the_reason_and_nothing_is_written(
    db: &dyn TestBackend,
) {
    let clock = Arc::new(ManualClock::new(datetime!(2026-06-01 12:00 UTC)));
    let s = start(db, &clock);
    let job = || Count { key: "bad".into() };
    match s
        .schedule("x", job(), ScheduleSpec::cron("0 61 * * * *"))
        .unwrap_err()
    {
        Error::InvalidCron { expr, message } => {
            assert_eq!(expr, "0 61 * * * *");
            assert!(message.contains("Minutes"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.schedule("x", job(), ScheduleSpec::cron("0 0 * * * *").time_zone("Europe/Atlantis")),
        Err(Error::UnknownTimeZone(ref z)) if z == "Europe/Atlantis"
    ));
    assert!(matches!(
        s.schedule(
            "x",
            job(),
            ScheduleSpec::every(Duration::from_secs(1)).time_zone("UTC")
        ),
        Err(Error::InvalidArgument {
            name: "timezone",
            ..
        })
    ));
    assert!(matches!(
        s.schedule("x", job(), ScheduleSpec::every(Duration::ZERO)),
        Err(Error::InvalidArgument {
            name: "interval",
            ..
        })
    ));
    assert!(matches!(
        s.schedule("x", job(), ScheduleSpec::cron("* * * * *").misfire_cap(0)),
        Err(Error::InvalidArgument {
            name: "misfire_cap",
            ..
        })
    ));
    assert!(matches!(
        s.schedule(
            "x",
            common::jobs::Unregistered,
            ScheduleSpec::cron("* * * * *")
        ),
        Err(Error::UnknownJobType(_))
    ));
    assert!(s.schedules().unwrap().is_empty());
    assert!(matches!(
        s.next_fire_times("x", 1),
        Err(Error::TaskNameNotFound(_))
    ));
}

pub(crate) fn occurrences_not_started_follow_the_schedules_latest_definition(db: &dyn TestBackend) {
    let t0 = datetime!(2026-06-01 12:00:10 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let s = db
        .builder()
        .clock(clock.clone())
        .register::<Count>()
        .register::<Gate>()
        .start()
        .unwrap();
    // Paused: occurrences are created but wait, as behind busy workers.
    s.pause().unwrap();
    let every_minute = || ScheduleSpec::cron("0 * * * * *");
    let task = s
        .schedule("edit-me", Count { key: "old".into() }, every_minute())
        .unwrap();
    let waiting = |s: &Scheduler| -> Vec<runloom::Run> {
        s.runs(&RunFilter::new().task(task.id).status(RunStatus::Pending))
            .unwrap()
    };
    let run_at = |s: &Scheduler, at: OffsetDateTime| -> runloom::Run {
        s.runs(&RunFilter::new().task(task.id))
            .unwrap()
            .into_iter()
            .find(|r| r.scheduled_at == at)
            .unwrap()
    };
    let first = datetime!(2026-06-01 12:01:00 UTC);
    advance_to(&s, &clock, &task, first - Duration::from_millis(500), 1);

    // New payload and options: the waiting occurrence takes them.
    s.schedule(
        "edit-me",
        Count { key: "new".into() },
        every_minute().priority(9),
    )
    .unwrap();
    let r = run_at(&s, first);
    // As a document: a backend may render the stored text its own way (jsonb).
    let payload: serde_json::Value = serde_json::from_str(&r.payload).unwrap();
    assert_eq!(
        (payload, r.priority, r.status),
        (serde_json::json!({ "key": "new" }), 9, RunStatus::Pending)
    );
    // New timing that still fires at its time: it stays.
    s.schedule(
        "edit-me",
        Count { key: "new".into() },
        ScheduleSpec::cron("0 */1 * * * *").priority(9),
    )
    .unwrap();
    assert_eq!(run_at(&s, first).status, RunStatus::Pending);
    // New timing without its time: cancelled.
    s.schedule(
        "edit-me",
        Count { key: "new".into() },
        ScheduleSpec::cron("30 * * * * *"),
    )
    .unwrap();
    let r = run_at(&s, first);
    assert_eq!(
        (r.status, r.cancel_reason.as_deref()),
        (RunStatus::Cancelled, Some(runloom::SCHEDULE_CHANGED))
    );
    // Disabled: the next waiting occurrence is cancelled.
    let second = datetime!(2026-06-01 12:01:30 UTC);
    advance_to(&s, &clock, &task, second - Duration::from_millis(500), 2);
    s.schedule(
        "edit-me",
        Count { key: "new".into() },
        ScheduleSpec::cron("30 * * * * *").enabled(false),
    )
    .unwrap();
    let r = run_at(&s, second);
    assert_eq!(
        (r.status, r.cancel_reason.as_deref()),
        (RunStatus::Cancelled, Some(runloom::SCHEDULE_DISABLED))
    );
    assert!(waiting(&s).is_empty());
    // Enabled again (explicitly: a spec that leaves the switch unset keeps it off),
    // then removed: cancelled too.
    let off = s
        .schedule(
            "edit-me",
            Count { key: "new".into() },
            ScheduleSpec::cron("30 * * * * *"),
        )
        .unwrap();
    assert!(!off.enabled);
    s.schedule(
        "edit-me",
        Count { key: "new".into() },
        ScheduleSpec::cron("30 * * * * *").enabled(true),
    )
    .unwrap();
    let third = datetime!(2026-06-01 12:02:30 UTC);
    advance_to(&s, &clock, &task, third - Duration::from_millis(500), 3);
    assert!(s.unschedule("edit-me").unwrap());
    let r = run_at(&s, third);
    assert_eq!(
        (r.status, r.cancel_reason.as_deref()),
        (RunStatus::Cancelled, Some(runloom::SCHEDULE_REMOVED))
    );
    assert!(waiting(&s).is_empty());
    // Nothing ran: every occurrence was cancelled before it started.
    assert_eq!(common::jobs::attempts_of("new"), 0);
}

pub(crate) fn an_occurrence_that_started_runs_to_its_end_when_its_schedule_is_removed(
    db: &dyn TestBackend,
) {
    let t0 = datetime!(2026-06-01 12:00:10 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let s = db
        .builder()
        .clock(clock.clone())
        .register::<Gate>()
        .start()
        .unwrap();
    let gate = "started-occurrence";
    let task = s
        .schedule(
            "long",
            Gate {
                gate: gate.into(),
                max_ms: 30_000,
                cooperative: true,
            },
            ScheduleSpec::cron("0 * * * * *"),
        )
        .unwrap();
    advance_to(&s, &clock, &task, datetime!(2026-06-01 12:01:00 UTC), 1);
    assert!(
        wait_for(WAIT, || common::jobs::attempts_of(&format!(
            "{gate}:started"
        )) == 1),
        "{:?}",
        s.runs(&RunFilter::new().task(task.id)).unwrap()
    );
    assert!(s.unschedule("long").unwrap());
    common::jobs::open_gate(gate);
    let id = occurrences_runs(&s, &task)[0];
    assert_eq!(s.wait(id, WAIT).unwrap().status, RunStatus::Completed);
}

fn occurrences_runs(s: &Scheduler, task: &Task) -> Vec<runloom::RunId> {
    s.runs(&RunFilter::new().task(task.id))
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect()
}

pub(crate) fn a_long_catch_up_is_created_in_bounded_transactions_and_misses_nothing(
    db: &dyn TestBackend,
) {
    let t0 = datetime!(2026-06-01 12:00:00 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let spec = ScheduleSpec::every(Duration::from_secs(1))
        .misfire(MisfirePolicy::RunAll)
        .misfire_cap(1_500);
    let task = {
        let s = start(db, &clock);
        let task = s
            .schedule("catch-up", Count { key: "c".into() }, spec)
            .unwrap();
        s.shutdown(Duration::from_secs(5)).unwrap();
        task
    };
    // Down for 2 000 s: 2 000 occurrences were missed; the latest 1 500 are to run,
    // more than one transaction creates.
    let back = t0 + Duration::from_secs(2_000) + Duration::from_millis(500);
    clock.set(back);
    // This process runs no job type: the occurrences are created and wait.
    let s = db.builder().clock(clock.clone()).start().unwrap();
    assert!(
        wait_for(WAIT, || occurrences(&s, &task).len() >= 1_500),
        "{} occurrences",
        occurrences(&s, &task).len()
    );
    let got = occurrences(&s, &task);
    // Missed: after the one created before the downtime (t0 + 1 s), older than the
    // misfire threshold (5 s) at the restart.
    let before_downtime = t0 + Duration::from_secs(1);
    let missed_before = back - runloom::schedule::DEFAULT_MISFIRE_THRESHOLD;
    let missed: Vec<OffsetDateTime> = got
        .iter()
        .copied()
        .filter(|t| *t > before_downtime && *t < missed_before)
        .collect();
    assert_eq!(missed.len(), 1_500, "exactly the cap");
    let first = t0 + Duration::from_secs(1_995 - 1_500 + 1);
    let expected: Vec<OffsetDateTime> =
        (0..1_500).map(|i| first + Duration::from_secs(i)).collect();
    assert_eq!(
        missed, expected,
        "the latest 1 500, none twice, none skipped"
    );
    // And the ones on time after them, once each.
    let on_time: Vec<OffsetDateTime> = got.into_iter().filter(|t| *t >= missed_before).collect();
    assert_eq!(
        on_time,
        (1_996..=2_001)
            .map(|s| t0 + Duration::from_secs(s))
            .collect::<Vec<_>>()
    );
}

/// Falling back, the repeated hour fires once.
pub(crate) fn daylight_saving_in_new_york_falling_back(db: &dyn TestBackend) {
    // 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:00-01:59 happen twice.
    let start_at = datetime!(2026-11-01 04:50 UTC); // 00:50 EDT
    let clock = Arc::new(ManualClock::new(start_at));
    let s = start(db, &clock);
    let task = s
        .schedule(
            "half-hourly-ny",
            Count {
                key: "dst-fall".into(),
            },
            ScheduleSpec::cron("0 */30 * * * *").time_zone("America/New_York"),
        )
        .unwrap();
    let mut t = start_at;
    while t < datetime!(2026-11-01 08:05 UTC) {
        t += Duration::from_secs(300);
        clock.set(t);
        s.notify();
        assert!(wait_for(WAIT, || { next_run_at(&s, &task) > Some(t) }));
    }
    assert_eq!(
        occurrences(&s, &task),
        vec![
            datetime!(2026-11-01 05:00 UTC), // 01:00 EDT
            datetime!(2026-11-01 05:30 UTC), // 01:30 EDT; 01:00 and 01:30 EST do not fire again
            datetime!(2026-11-01 07:00 UTC), // 02:00 EST
            datetime!(2026-11-01 07:30 UTC), // 02:30 EST
            datetime!(2026-11-01 08:00 UTC), // 03:00 EST
        ]
    );
}

/// Springing forward, a time that does not exist that night is skipped.
pub(crate) fn daylight_saving_in_new_york_springing_forward(db: &dyn TestBackend) {
    // 2026-03-08: 02:30 does not exist in New York and is skipped.
    let clock = Arc::new(ManualClock::new(datetime!(2026-03-07 12:00 UTC)));
    let s = start(db, &clock);
    let task = s
        .schedule(
            "nightly-ny",
            Count {
                key: "dst-spring".into(),
            },
            ScheduleSpec::cron("0 30 2 * * *").time_zone("America/New_York"),
        )
        .unwrap();
    assert_eq!(
        task.next_run_at,
        Some(datetime!(2026-03-09 06:30 UTC)),
        "the 8th is skipped"
    );
    assert_eq!(
        s.next_fire_times("nightly-ny", 2).unwrap(),
        vec![
            datetime!(2026-03-09 06:30 UTC),
            datetime!(2026-03-10 06:30 UTC)
        ]
    );
}

/// Disabled, a schedule creates nothing and its waiting occurrence is cancelled; enabled
/// again, it continues from that moment without catching up.
pub(crate) fn disabling_a_schedule_cancels_what_waits_and_enabling_continues_from_now(
    db: &dyn TestBackend,
) {
    let t0 = datetime!(2026-06-01 12:00:10 UTC);
    let clock = Arc::new(ManualClock::new(t0));
    let s = start(db, &clock);
    let key = format!("{}-switch", db.name());
    let task = s
        .schedule(
            "switch",
            Count { key: key.clone() },
            ScheduleSpec::cron("0 * * * * *"),
        )
        .unwrap();
    // Just before 12:01 its occurrence exists, waiting for its time.
    let first = advance_to(&s, &clock, &task, t0 + Duration::from_millis(49_500), 1);
    assert_eq!(first, vec![datetime!(2026-06-01 12:01:00 UTC)]);
    // The scheduler's own handle: it shares the test's manual clock.
    let admin = s.admin();
    let disabled = admin.disable_schedule("switch").unwrap();
    assert!(!disabled.enabled);
    let waiting = s.runs(&RunFilter::new().task(task.id)).unwrap();
    assert_eq!(waiting[0].status, RunStatus::Cancelled);
    assert_eq!(
        waiting[0].cancel_reason.as_deref(),
        Some(runloom::SCHEDULE_DISABLED)
    );
    assert!(
        admin.disable_schedule("switch").is_ok(),
        "twice is no error"
    );

    // Four fire times pass while it is disabled. A run enqueued after the clock moved
    // completes only after the dispatcher has looked at the schedules again.
    clock.set(datetime!(2026-06-01 12:05:30 UTC));
    s.notify();
    let marker = s
        .enqueue(Count {
            key: format!("{key}-marker"),
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || {
        s.run(marker).unwrap().status == RunStatus::Completed
    }));
    assert_eq!(
        occurrences(&s, &task).len(),
        1,
        "nothing created while disabled"
    );

    let enabled = admin.enable_schedule("switch").unwrap();
    assert!(enabled.enabled);
    assert_eq!(
        enabled.next_run_at,
        Some(datetime!(2026-06-01 12:06:00 UTC)),
        "the first fire time after enabling, not the missed ones"
    );
    let after = advance_to(&s, &clock, &task, datetime!(2026-06-01 12:06:00 UTC), 2);
    assert_eq!(
        after,
        vec![
            datetime!(2026-06-01 12:01:00 UTC),
            datetime!(2026-06-01 12:06:00 UTC)
        ]
    );
    assert!(matches!(
        admin.enable_schedule("no-such-task"),
        Err(Error::TaskNameNotFound(_))
    ));
}

/// A host that declares its schedule at every start does not undo an operator's
/// switch, unless its spec says so.
pub(crate) fn a_host_start_leaves_an_operators_switch_alone_unless_its_spec_says_otherwise(
    db: &dyn TestBackend,
) {
    let clock = Arc::new(ManualClock::new(datetime!(2026-06-01 12:00:00 UTC)));
    let s = start(db, &clock);
    let job = || Count {
        key: format!("{}-declared", db.name()),
    };
    let spec = ScheduleSpec::every(Duration::from_secs(3600));
    assert!(s.schedule("declared", job(), spec.clone()).unwrap().enabled);
    s.disable_schedule("declared").unwrap();
    let again = s.schedule("declared", job(), spec.clone()).unwrap();
    assert!(!again.enabled, "the operator's disable stands");
    let forced = s
        .schedule("declared", job(), spec.clone().enabled(true))
        .unwrap();
    assert!(forced.enabled, "the code asked for it explicitly");
    let created_off = s
        .schedule("declared-off", job(), spec.enabled(false))
        .unwrap();
    assert!(!created_off.enabled);
    assert!(s.next_fire_times("declared-off", 3).unwrap().is_empty());
}

/// A trigger is one run of the task now; the schedule's own occurrences do not move,
/// and the task's unique key holds.
pub(crate) fn triggering_a_task_runs_it_now_and_leaves_its_schedule_alone(db: &dyn TestBackend) {
    let clock = Arc::new(ManualClock::new(datetime!(2026-06-01 12:00:00 UTC)));
    let s = start(db, &clock);
    let key = format!("{}-trigger", db.name());
    let task = s
        .schedule(
            "hourly-report",
            Count { key: key.clone() },
            ScheduleSpec::every(Duration::from_secs(3600)).priority(7),
        )
        .unwrap();
    let next = task.next_run_at;
    let ins = s.trigger("hourly-report").unwrap();
    assert!(ins.created);
    assert!(wait_for(WAIT, || {
        s.run(ins.id).unwrap().status == RunStatus::Completed
    }));
    let run = s.run(ins.id).unwrap();
    assert_eq!(run.task_id, Some(task.id));
    assert_eq!(run.job_type, "count");
    assert_eq!(run.priority, 7);
    assert_eq!(
        run.scheduled_at,
        datetime!(2026-06-01 12:00:00 UTC),
        "due now"
    );
    assert_eq!(run.result_json().unwrap(), Some(serde_json::json!(1)));
    assert_eq!(next_run_at(&s, &task), next, "the schedule did not move");

    // With a unique key, a second trigger while the first waits returns that run.
    s.schedule(
        "keyed",
        Count {
            key: format!("{key}-keyed"),
        },
        ScheduleSpec::every(Duration::from_secs(3600)).unique_key("keyed-report"),
    )
    .unwrap();
    s.pause().unwrap();
    let first = s.trigger("keyed").unwrap();
    let second = db.admin().trigger("keyed").unwrap();
    assert!(first.created && !second.created);
    assert_eq!(second.id, first.id);
    assert!(matches!(
        s.trigger("nothing-by-that-name"),
        Err(Error::TaskNameNotFound(_))
    ));
}
