//! The runtime, on any backend: builder checks, the run lifecycle, priorities, delays,
//! unique keys, retries and backoff, panics, timeouts, cancellation (also from another
//! handle on the database), enqueue refusals, stats and events.

use crate::common::{self, backend::TestBackend};

use std::{sync::Arc, time::Duration};

use crate::common::{
    T0,
    jobs::{
        Count, Decides, Double, Flaky, Gate, Nap, Noop, Panics, Record, Unregistered, attempts_of,
        log_of, open_gate,
    },
    wait_event, wait_for,
};
use runloom::{
    CancelOutcome, EnqueueOptions, Error, Event, Job, JobContext, JobError, ManualClock, Perform,
    RunFilter, RunStatus, Scheduler,
    store::{AttemptErrorKind, WorkerStatus},
};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(15);

fn wait_status(s: &Scheduler, id: runloom::RunId, status: RunStatus) -> bool {
    if status.is_finished() {
        // A finished status is final until someone acts on the run: wait for it.
        return s.wait(id, WAIT).is_ok_and(|r| r.status == status);
    }
    wait_for(WAIT, || {
        s.run(id).map(|r| r.status == status).unwrap_or(false)
    })
}

pub(crate) fn registering_a_job_type_twice_is_refused(db: &dyn TestBackend) {
    let err = db
        .builder()
        .register::<Noop>()
        .register::<Noop>()
        .start()
        .unwrap_err();
    assert!(
        matches!(err, Error::DuplicateJobType(ref n) if n == "noop"),
        "{err:?}"
    );
}

pub(crate) fn a_run_goes_from_enqueued_to_completed_with_its_result_and_events(
    db: &dyn TestBackend,
) {
    let s = db.builder().register::<Double>().start().unwrap();
    let events = s.subscribe(64);
    let ins = s.enqueue(Double { value: 21 }).unwrap();
    assert!(ins.created);
    assert!(wait_status(&s, ins.id, RunStatus::Completed));
    let run = s.run(ins.id).unwrap();
    assert_eq!(run.result_json().unwrap(), Some(serde_json::json!(42)));
    assert_eq!(run.attempt, 1);
    assert!(run.duration.is_some() && run.started_at.is_some() && run.finished_at.is_some());
    assert_eq!(run.worker_id, Some(s.worker_id()));
    let mut seen = Vec::new();
    while let Some(e) = wait_event(&events, WAIT, |_| true) {
        let done = matches!(e, Event::Completed { .. });
        seen.push(e);
        if done {
            break;
        }
    }
    assert!(matches!(seen[0], Event::Enqueued { run, created: true, .. } if run == ins.id));
    assert!(matches!(seen[1], Event::Started { run, attempt: 1, .. } if run == ins.id));
    assert!(matches!(seen[2], Event::Completed { run, .. } if run == ins.id));
    assert!(s.admin().run_details(ins.id).unwrap().lease.is_none());

    let report = s.shutdown(Duration::from_secs(5)).unwrap();
    assert!(report.released.is_empty() && report.stuck.is_empty());
    let me = common::backend::worker(&db.admin(), s.worker_id());
    assert_eq!(me.status, WorkerStatus::Offline);
    assert!(matches!(
        s.enqueue(Double { value: 1 }),
        Err(Error::ShutDown)
    ));
}

pub(crate) fn higher_priority_runs_start_first_then_older_ones(db: &dyn TestBackend) {
    let test = "priorities";
    let s = db
        .builder()
        .worker_threads(1)
        .max_in_flight(1)
        .register::<Record>()
        .start()
        .unwrap();
    s.pause().unwrap();
    let rec = |label: &str| Record {
        test: test.into(),
        label: label.into(),
    };
    let mut ids = Vec::new();
    for (label, prio) in [
        ("low-1", 0),
        ("high-1", 9),
        ("mid", 5),
        ("high-2", 9),
        ("low-2", 0),
    ] {
        ids.push(
            s.enqueue_with(rec(label), EnqueueOptions::new().priority(prio))
                .unwrap()
                .id,
        );
    }
    s.resume().unwrap();
    for id in &ids {
        assert!(wait_status(&s, *id, RunStatus::Completed));
    }
    assert_eq!(
        log_of(test),
        vec!["high-1", "high-2", "mid", "low-1", "low-2"]
    );
}

pub(crate) fn a_delayed_run_waits_for_its_time_on_the_injected_clock(db: &dyn TestBackend) {
    let clock = Arc::new(ManualClock::new(T0));
    let s = db
        .builder()
        .clock(clock.clone())
        .register::<Count>()
        .start()
        .unwrap();
    let key = "delayed";
    let id = s
        .enqueue_with(
            Count { key: key.into() },
            EnqueueOptions::new().delay(Duration::from_secs(3600)),
        )
        .unwrap()
        .id;
    let run = s.run(id).unwrap();
    assert_eq!(run.scheduled_at, T0 + Duration::from_secs(3600));
    // Several poll intervals pass in real time: nothing runs, the clock has not moved.
    assert!(!wait_for(Duration::from_millis(200), || attempts_of(key) > 0));
    assert_eq!(s.run(id).unwrap().status, RunStatus::Pending);
    clock.advance(Duration::from_secs(3600));
    s.notify();
    assert!(wait_status(&s, id, RunStatus::Completed));
    assert_eq!(attempts_of(key), 1);

    let at = T0 + Duration::from_secs(7200);
    let id2 = s
        .enqueue_with(Count { key: key.into() }, EnqueueOptions::new().at(at))
        .unwrap()
        .id;
    assert_eq!(s.run(id2).unwrap().scheduled_at, at);
    assert!(matches!(
        s.enqueue_with(
            Count { key: key.into() },
            EnqueueOptions::new().at(at).delay(Duration::from_secs(1))
        ),
        Err(Error::InvalidArgument { name: "delay", .. })
    ));
}

pub(crate) fn a_unique_key_returns_the_unfinished_run_instead_of_a_duplicate(db: &dyn TestBackend) {
    let s = db.builder().register::<Gate>().start().unwrap();
    let gate = "unique-gate";
    let job = || Gate {
        gate: gate.into(),
        max_ms: 10_000,
        cooperative: false,
    };
    let opts = EnqueueOptions::new().unique_key("nightly-report");
    let first = s.enqueue_with(job(), opts.clone()).unwrap();
    let second = s.enqueue_with(job(), opts.clone()).unwrap();
    assert!(first.created && !second.created);
    assert_eq!(first.id, second.id);
    open_gate(gate);
    assert!(wait_status(&s, first.id, RunStatus::Completed));
    let third = s.enqueue_with(job(), opts).unwrap();
    assert!(third.created);
    assert_ne!(third.id, first.id);
}

pub(crate) fn failed_attempts_are_retried_with_backoff_and_every_error_is_kept(
    db: &dyn TestBackend,
) {
    let s = db.builder().register::<Flaky>().start().unwrap();
    let key = "flaky-twice";
    let id = s
        .enqueue(Flaky {
            key: key.into(),
            fail: 2,
        })
        .unwrap()
        .id;
    assert!(wait_status(&s, id, RunStatus::Completed));
    let run = s.run(id).unwrap();
    assert_eq!(run.attempt, 3);
    assert_eq!(run.result.as_deref(), Some("3"));
    assert_eq!(run.errors.len(), 2);
    assert_eq!(run.errors[0].message, "failure 1 of 2");
    assert_eq!(run.errors[1].message, "failure 2 of 2");
    assert_eq!(run.errors[1].attempt, 2);
    assert!(run.errors.iter().all(|e| e.kind == AttemptErrorKind::Error));

    // Attempts exhausted: failed for good.
    let key = "flaky-always";
    let id = s
        .enqueue_with(
            Flaky {
                key: key.into(),
                fail: 99,
            },
            EnqueueOptions::new().max_attempts(3),
        )
        .unwrap()
        .id;
    assert!(wait_status(&s, id, RunStatus::Failed));
    let run = s.run(id).unwrap();
    assert_eq!((run.attempt, run.errors.len()), (3, 3));
    assert_eq!(attempts_of(key), 3);
}

pub(crate) fn the_backoff_delays_the_retry_on_the_injected_clock(db: &dyn TestBackend) {
    let clock = Arc::new(ManualClock::new(T0));
    let s = db
        .builder()
        .clock(clock.clone())
        .register::<Flaky>()
        .start()
        .unwrap();
    let key = "backoff";
    let id = s
        .enqueue_with(
            Flaky {
                key: key.into(),
                fail: 1,
            },
            EnqueueOptions::new().backoff(Duration::from_secs(60)),
        )
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || {
        let r = s.run(id).unwrap();
        r.status == RunStatus::Pending && r.attempt == 1
    }));
    let run = s.run(id).unwrap();
    // Attempt 1 failed: the retry waits between half and all of the 60 s base.
    let wait = run.scheduled_at - T0;
    assert!(
        wait >= time::Duration::seconds(30) && wait <= time::Duration::seconds(60),
        "{wait}"
    );
    assert!(!wait_for(Duration::from_millis(150), || attempts_of(key) > 1));
    clock.advance(Duration::from_secs(61));
    s.notify();
    assert!(wait_status(&s, id, RunStatus::Completed));
}

pub(crate) fn a_panic_fails_the_attempt_with_its_message_and_the_pool_survives(
    db: &dyn TestBackend,
) {
    let s = db
        .builder()
        .worker_threads(1)
        .register::<Panics>()
        .register::<Double>()
        .start()
        .unwrap();
    let id = s
        .enqueue(Panics {
            message: "kaboom 42".into(),
        })
        .unwrap()
        .id;
    assert!(wait_status(&s, id, RunStatus::Failed));
    let run = s.run(id).unwrap();
    assert_eq!(run.errors.len(), 2);
    assert!(run.errors.iter().all(|e| e.kind == AttemptErrorKind::Panic));
    assert_eq!(run.errors[0].message, "panicked: kaboom 42");
    // The single thread is still alive and runs the next job.
    let ok = s.enqueue(Double { value: 2 }).unwrap().id;
    assert!(wait_status(&s, ok, RunStatus::Completed));
    assert_eq!(s.stats().unwrap().panics, 2);
}

pub(crate) fn a_job_past_its_timeout_fails_its_attempt_as_a_timeout(db: &dyn TestBackend) {
    let s = db
        .builder()
        .register::<Gate>()
        .register::<Nap>()
        .start()
        .unwrap();
    let events = s.subscribe(64);
    // It ignores cancellation: the attempt fails at the deadline anyway.
    let gate = "timeout-stubborn";
    let id = s
        .enqueue_with(
            Gate {
                gate: gate.into(),
                max_ms: 2_000,
                cooperative: false,
            },
            EnqueueOptions::new()
                .timeout(Duration::from_millis(100))
                .max_attempts(1),
        )
        .unwrap()
        .id;
    assert!(wait_status(&s, id, RunStatus::Failed));
    let run = s.run(id).unwrap();
    assert_eq!(run.errors[0].kind, AttemptErrorKind::Timeout);
    assert!(
        run.errors[0].message.contains("timed out"),
        "{}",
        run.errors[0].message
    );
    assert!(
        wait_event(
            &events,
            WAIT,
            |e| matches!(e, Event::ThreadStuck { run, .. } if *run == id)
        )
        .is_some()
    );
    open_gate(gate);

    // A cooperative job wakes from its sleep when the deadline cancels it, and is retried.
    let id = s
        .enqueue_with(
            Nap { ms: 60_000 },
            EnqueueOptions::new()
                .timeout(Duration::from_millis(50))
                .max_attempts(2)
                .backoff(Duration::from_millis(1)),
        )
        .unwrap()
        .id;
    assert!(wait_status(&s, id, RunStatus::Failed));
    let run = s.run(id).unwrap();
    assert_eq!(run.attempt, 2);
    assert!(
        run.errors
            .iter()
            .all(|e| e.kind == AttemptErrorKind::Timeout)
    );
    assert!(s.stats().unwrap().timeouts >= 3);
}

pub(crate) fn cancelling_a_pending_run_and_a_running_one(db: &dyn TestBackend) {
    let s = db
        .builder()
        .register::<Gate>()
        .register::<Noop>()
        .start()
        .unwrap();
    let pending = s
        .enqueue_with(Noop, EnqueueOptions::new().delay(Duration::from_secs(3600)))
        .unwrap()
        .id;
    assert_eq!(s.cancel(pending).unwrap(), CancelOutcome::Cancelled);
    let run = s.run(pending).unwrap();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert!(matches!(
        s.cancel(pending),
        Err(Error::InvalidRunState { .. })
    ));
    assert!(matches!(
        s.cancel(runloom::RunId::new(987_654)),
        Err(Error::RunNotFound(_))
    ));

    let gate = "cancel-running";
    let running = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: true,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    assert_eq!(s.cancel(running).unwrap(), CancelOutcome::Requested);
    assert!(wait_status(&s, running, RunStatus::Cancelled));
    assert_eq!(log_of(gate), vec!["cancelled: Requested"]);
    let run = s.run(running).unwrap();
    assert_eq!(run.cancel_reason.as_deref(), Some("cancelled by request"));
    assert!(s.admin().run_details(running).unwrap().lease.is_none());
}

pub(crate) fn a_cancel_written_by_another_process_reaches_the_job_through_the_heartbeat(
    db: &dyn TestBackend,
) {
    let s = db.builder().register::<Gate>().start().unwrap();
    let events = s.subscribe(64);
    let gate = "cancel-remote";
    let id = s
        .enqueue(Gate {
            gate: gate.into(),
            max_ms: 30_000,
            cooperative: true,
        })
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || attempts_of(&format!("{gate}:started")) == 1));
    // Another handle on the database (as another process would) writes the request.
    assert_eq!(
        db.admin().cancel(id, "operator").unwrap(),
        CancelOutcome::Requested
    );
    assert!(wait_status(&s, id, RunStatus::Cancelled));
    let run = s.run(id).unwrap();
    assert_eq!(run.cancel_reason.as_deref(), Some("operator"));
    // The events say when it was due, and keep the operator's reason (not the job's).
    let started = wait_event(&events, WAIT, |e| matches!(e, Event::Started { .. }));
    assert!(
        matches!(&started, Some(Event::Started { scheduled_at, .. }) if *scheduled_at == run.scheduled_at),
        "{started:?}"
    );
    let cancelled = wait_event(&events, WAIT, |e| matches!(e, Event::Cancelled { .. }));
    assert_eq!(
        cancelled,
        Some(Event::Cancelled {
            run: id,
            job_type: "gate".into(),
            reason: "operator".into(),
        })
    );
}

pub(crate) fn a_job_can_cancel_itself_fail_for_good_or_ask_for_a_later_retry(db: &dyn TestBackend) {
    let clock = Arc::new(ManualClock::new(T0));
    let s = db
        .builder()
        .clock(clock.clone())
        .register::<Decides>()
        .start()
        .unwrap();
    let cancel = s
        .enqueue(Decides {
            how: "cancel".into(),
        })
        .unwrap()
        .id;
    let fail = s.enqueue(Decides { how: "fail".into() }).unwrap().id;
    let later = s
        .enqueue(Decides {
            how: "retry_after:90000".into(),
        })
        .unwrap()
        .id;
    assert!(wait_status(&s, cancel, RunStatus::Cancelled));
    assert_eq!(
        s.run(cancel).unwrap().cancel_reason.as_deref(),
        Some("not needed any more")
    );
    assert!(wait_status(&s, fail, RunStatus::Failed));
    let f = s.run(fail).unwrap();
    assert_eq!(
        (f.attempt, f.last_error.as_deref()),
        (1, Some("permanently broken")),
        "no retry"
    );
    assert!(wait_for(WAIT, || s.run(later).unwrap().attempt == 1
        && s.run(later).unwrap().status == RunStatus::Pending));
    assert_eq!(
        s.run(later).unwrap().scheduled_at,
        T0 + Duration::from_secs(90)
    );
}

pub(crate) fn a_bad_payload_fails_at_once_and_unknown_types_are_refused_at_enqueue(
    db: &dyn TestBackend,
) {
    let s = db.builder().register::<Double>().start().unwrap();
    // Typed enqueue of a type this scheduler does not run.
    assert!(
        matches!(s.enqueue(Unregistered), Err(Error::UnknownJobType(ref t)) if t == "unregistered")
    );
    // JSON enqueue: unknown type, payload that does not decode into the type.
    assert!(matches!(
        s.enqueue_json("nope", "{}", EnqueueOptions::new()),
        Err(Error::UnknownJobType(_))
    ));
    let err = s
        .enqueue_json(
            "double",
            r#"{"value":"not a number"}"#,
            EnqueueOptions::new(),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::Payload { ref job_type, .. } if job_type == "double"),
        "{err:?}"
    );
    let ok = s
        .enqueue_json("double", r#"{"value":5}"#, EnqueueOptions::new())
        .unwrap()
        .id;
    assert!(wait_status(&s, ok, RunStatus::Completed));
    assert_eq!(s.run(ok).unwrap().result.as_deref(), Some("10"));
    // Options out of range.
    assert!(matches!(
        s.enqueue_with(Double { value: 1 }, EnqueueOptions::new().priority(101)),
        Err(Error::InvalidArgument {
            name: "priority",
            ..
        })
    ));
    assert!(matches!(
        s.enqueue_with(Double { value: 1 }, EnqueueOptions::new().max_attempts(0)),
        Err(Error::InvalidArgument {
            name: "max_attempts",
            ..
        })
    ));
    assert!(matches!(
        s.enqueue_with(
            Double { value: 1 },
            EnqueueOptions::new().delay(Duration::MAX)
        ),
        Err(Error::InvalidArgument { name: "delay", .. })
    ));
    // A payload stored by someone else that does not decode fails at once, no retry.
    let raw = db
        .admin()
        .enqueue_json("double", r#"{"value":[]}"#, &EnqueueOptions::new())
        .unwrap()
        .id;
    s.notify();
    assert!(wait_status(&s, raw, RunStatus::Failed));
    let r = s.run(raw).unwrap();
    assert_eq!(r.attempt, 1);
    assert!(r.last_error.unwrap().contains("does not decode"));
    // Only the two good runs and the raw one exist.
    assert_eq!(s.stats().unwrap().counts.total(), 2);
}

#[derive(Serialize, Deserialize)]
struct BigPayload {
    data: String,
}

impl Job for BigPayload {
    const NAME: &'static str = "big";
}

impl Perform for BigPayload {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

/// Serialization fails: JSON object keys must be strings.
#[derive(Serialize, Deserialize)]
struct Unserializable {
    map: std::collections::HashMap<(u8, u8), u8>,
}

impl Job for Unserializable {
    const NAME: &'static str = "unserializable";
}

impl Perform for Unserializable {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

pub(crate) fn oversized_and_unserializable_payloads_are_refused_and_nothing_is_written(
    db: &dyn TestBackend,
) {
    let s = db
        .builder()
        .max_payload_bytes(1024)
        .register::<BigPayload>()
        .register::<Unserializable>()
        .start()
        .unwrap();
    let err = s
        .enqueue(BigPayload {
            data: "x".repeat(2000),
        })
        .unwrap_err();
    assert!(
        matches!(err, Error::PayloadTooLarge { limit: 1024, .. }),
        "{err:?}"
    );
    let mut map = std::collections::HashMap::new();
    map.insert((1, 2), 3);
    let err = s.enqueue(Unserializable { map }).unwrap_err();
    assert!(matches!(err, Error::Payload { .. }), "{err:?}");
    // A batch with one bad job writes nothing.
    let mut batch = s.batch();
    batch.add(BigPayload { data: "ok".into() }).unwrap();
    assert!(
        batch
            .add(BigPayload {
                data: "x".repeat(5000)
            })
            .is_err()
    );
    assert_eq!(batch.len(), 1);
    assert_eq!(s.stats().unwrap().counts.total(), 0);
    let ins = batch.submit().unwrap();
    assert_eq!(ins.len(), 1);
}

pub(crate) fn many_jobs_in_one_transaction(db: &dyn TestBackend) {
    let s = db.builder().register::<Double>().start().unwrap();
    let ins = s
        .enqueue_many((0..50).map(|value| Double { value }))
        .unwrap();
    assert_eq!(ins.len(), 50);
    for i in &ins {
        assert!(wait_status(&s, i.id, RunStatus::Completed));
    }
    let results: Vec<i64> = ins
        .iter()
        .map(|i| s.run(i.id).unwrap().result.unwrap().parse().unwrap())
        .collect();
    assert_eq!(results, (0..50).map(|v| v * 2).collect::<Vec<_>>());
}

pub(crate) fn retrying_a_failed_run_by_hand(db: &dyn TestBackend) {
    let s = db.builder().register::<Decides>().start().unwrap();
    let id = s.enqueue(Decides { how: "fail".into() }).unwrap().id;
    assert!(wait_status(&s, id, RunStatus::Failed));
    assert!(matches!(
        s.retry(runloom::RunId::new(999_999)),
        Err(Error::RunNotFound(_))
    ));
    s.retry(id).unwrap();
    assert!(wait_for(WAIT, || s.run(id).unwrap().attempt == 2
        && s.run(id).unwrap().status == RunStatus::Failed));
    assert_eq!(s.run(id).unwrap().errors.len(), 2);
}

pub(crate) fn stats_count_runs_and_rates(db: &dyn TestBackend) {
    let s = db
        .builder()
        .register::<Double>()
        .register::<Decides>()
        .start()
        .unwrap();
    let ok: Vec<_> = s
        .enqueue_many((0..20).map(|value| Double { value }))
        .unwrap();
    let bad = s.enqueue(Decides { how: "fail".into() }).unwrap().id;
    for i in &ok {
        assert!(wait_status(&s, i.id, RunStatus::Completed));
    }
    assert!(wait_status(&s, bad, RunStatus::Failed));
    // The instance's own counters follow each commit (the dispatcher records them
    // once its transaction committed, which a reader of the database can see first).
    assert!(wait_for(WAIT, || {
        let st = s.stats().unwrap();
        (st.completed, st.failed) == (20, 1)
    }));
    let st = s.stats().unwrap();
    assert_eq!((st.counts.completed, st.counts.failed), (20, 1));
    assert_eq!((st.completed, st.failed), (20, 1));
    assert_eq!(st.in_flight, 0);
    let listed = s.runs(&RunFilter::new().status(RunStatus::Failed)).unwrap();
    assert_eq!(listed.len(), 1);
}

pub(crate) fn a_panicking_event_hook_does_not_stop_the_scheduler(db: &dyn TestBackend) {
    let s = db
        .builder()
        .on_event(|e: &Event| {
            if matches!(e, Event::Started { .. }) {
                panic!("hook bug");
            }
        })
        .register::<Double>()
        .start()
        .unwrap();
    let id = s.enqueue(Double { value: 3 }).unwrap().id;
    assert!(wait_status(&s, id, RunStatus::Completed));
}

pub(crate) fn dropping_the_handle_shuts_down_and_leaves_no_lease(db: &dyn TestBackend) {
    let worker;
    {
        let s = db.builder().register::<Double>().start().unwrap();
        worker = s.worker_id();
        let id = s.enqueue(Double { value: 1 }).unwrap().id;
        assert!(wait_status(&s, id, RunStatus::Completed));
    }
    let admin = db.admin();
    assert_eq!(
        common::backend::worker(&admin, worker).status,
        WorkerStatus::Offline
    );
    let held = admin.workers(true).unwrap();
    assert!(
        held.iter()
            .all(|w| w.worker.id != worker || w.runs.is_empty())
    );
}

pub(crate) fn the_next_runs_are_claimed_as_soon_as_the_last_outcomes_are_written(
    db: &dyn TestBackend,
) {
    // With every slot held, the outcomes of a batch free their slots in the same
    // transaction that claims the next runs. Once, the claim came only with the next
    // poll: with a one-minute poll interval these 40 runs would take 40 minutes.
    let s = db
        .builder()
        .register::<Noop>()
        .worker_threads(1)
        .max_in_flight(1)
        .poll_interval(Duration::from_secs(60))
        .start()
        .unwrap();
    s.pause().unwrap();
    s.enqueue_many((0..40).map(|_| Noop)).unwrap();
    s.resume().unwrap();
    assert!(
        wait_for(WAIT, || s.stats().unwrap().counts.completed == 40),
        "{:?}",
        s.stats().unwrap().counts
    );
    s.shutdown(Duration::from_secs(5)).unwrap();
}

pub(crate) fn a_resume_in_this_process_starts_the_waiting_runs_at_once(db: &dyn TestBackend) {
    // While claiming is paused the dispatcher ignores the wake-ups of enqueues (they
    // would only find the pause again), but not the one of a resume: with a one-minute
    // poll interval, nothing else could start these runs in time.
    let s = db
        .builder()
        .register::<Noop>()
        .poll_interval(Duration::from_secs(60))
        .start()
        .unwrap();
    s.pause().unwrap();
    let first = s.enqueue(Noop).unwrap().id;
    // The dispatcher has seen the pause once this run was refused a claim; more
    // enqueues follow while it is paused.
    assert!(!wait_for(Duration::from_millis(200), || {
        s.run(first).unwrap().status != RunStatus::Pending
    }));
    let ids = s.enqueue_many((0..5).map(|_| Noop)).unwrap();
    s.resume().unwrap();
    assert!(wait_status(&s, first, RunStatus::Completed));
    for i in ids {
        assert!(wait_status(&s, i.id, RunStatus::Completed));
    }
    s.shutdown(Duration::from_secs(5)).unwrap();
}
