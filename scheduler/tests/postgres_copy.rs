//! Moving from a SQLite file to PostgreSQL with `runloom copy-to`: refused while a host
//! on the file is live (a SIGKILLed one too, until its own promise has lapsed) and on a
//! unique key the destination already holds, changing nothing either time; then the
//! schedule, the unfinished runs with their history (a retried run's attempt, a dead
//! host's rescued run) and the dependency graph arrive, the file is paused and a second
//! copy is refused, and a host on PostgreSQL runs the copies in dependency order.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    process::{Command, Output},
    time::Duration,
};

use common::{
    child::Settings,
    jobs::{Flaky, Noop, Record, attempts_of, log_of},
    postgres::fresh_db,
    wait_for,
};
use runloom::{
    Admin, AttemptErrorKind, EnqueueOptions, Error, RunFilter, RunStatus, ScheduleSpec, Scheduler,
};
use rustix::process::{Pid, Signal, kill_process};

#[test]
#[ignore = "started as a child process by the copy test"]
fn child() {
    common::child::run_child();
}

const WAIT: Duration = Duration::from_secs(30);

fn cli(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runloom"))
        .args(["--db", db])
        .args(args)
        .env_remove("RUNLOOM_DB")
        .output()
        .expect("the runloom binary starts")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn runs_of(admin: &Admin) -> Vec<runloom::Run> {
    admin.runs(&RunFilter::new().limit(1_000)).unwrap()
}

fn only(runs: &[runloom::Run], pred: impl Fn(&runloom::Run) -> bool) -> &runloom::Run {
    let found: Vec<_> = runs.iter().filter(|r| pred(r)).collect();
    assert_eq!(found.len(), 1, "{runs:#?}");
    found[0]
}

/// A host with the job types of the file's runs (not `hold`) on `builder`'s database.
fn start_host(builder: runloom::SchedulerBuilder) -> Scheduler {
    builder
        .poll_interval(Duration::from_millis(20))
        .register::<Record>()
        .register::<Flaky>()
        .register::<Noop>()
        .start()
        .unwrap()
}

fn record(test: &str, label: &str) -> Record {
    Record {
        test: test.into(),
        label: label.into(),
    }
}

#[test]
fn copy_to_moves_schedules_and_unfinished_runs_with_their_graph_into_postgres() {
    let Some(pg) = fresh_db() else { return };
    let test = "copy_to_postgres";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.db");
    let src = file.to_str().unwrap().to_owned();
    let uri = pg.uri();

    // The file's own history: a finished run, a run that failed once and waits for its
    // retry, a graph, a unique key, a schedule.
    let s = start_host(Scheduler::builder().database(&file));
    let done = s.enqueue(record(test, "done")).unwrap().id;
    let flaky = s
        .enqueue_with(
            Flaky {
                key: test.into(),
                fail: 1,
            },
            EnqueueOptions::new().backoff(Duration::from_secs(3)),
        )
        .unwrap()
        .id;
    assert!(wait_for(WAIT, || {
        let f = s.run(flaky).unwrap();
        s.run(done).unwrap().status == RunStatus::Completed
            && f.attempt == 1
            && f.status == RunStatus::Pending
    }));
    s.pause().unwrap();
    let mut b = s.batch();
    let a = b.add(record(test, "a")).unwrap();
    let bb = b.add(record(test, "b")).unwrap();
    let c = b.add(record(test, "c")).unwrap();
    b.depends_on(bb, a).unwrap();
    b.depends_on(c, a).unwrap();
    b.depends_on(c, bb).unwrap();
    let graph = b.submit().unwrap();
    s.enqueue_with(Noop, EnqueueOptions::new().unique_key("nightly"))
        .unwrap();
    let task = s
        .schedule("hourly", Noop, ScheduleSpec::cron("0 * * * *"))
        .unwrap();
    s.shutdown(Duration::from_secs(5)).unwrap();

    // A host that dies holding a run.
    let source = Admin::open(&file).unwrap();
    let held = source
        .enqueue_json_any_type(
            "hold",
            r#"{"ms":600000,"effect":false}"#,
            &EnqueueOptions::new(),
        )
        .unwrap()
        .id;
    source.resume().unwrap();
    let mut host = Settings::scheduler(dir.path(), &file, "host");
    host.threads = 1;
    host.lease_ms = 1_000;
    host.heartbeat_ms = 200;
    host.stale_ms = 2_500;
    let mut child = host.spawn();
    assert!(wait_for(WAIT, || source.run(held).unwrap().status
        == RunStatus::Running));
    kill_process(
        Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap(),
        Signal::KILL,
    )
    .unwrap();
    child.wait().unwrap();

    // Refused while the dead host's promise holds: nothing arrives.
    let out = cli(&src, &["copy-to", &uri]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("live"), "{}", stderr(&out));
    let dest = Admin::builder_postgres(&pg.url).open().unwrap();
    assert!(runs_of(&dest).is_empty());
    assert!(dest.tasks(true).unwrap().is_empty());
    assert!(!source.is_paused().unwrap());

    // Refused on a unique key the destination holds, once the host is presumed dead.
    let clash = dest
        .enqueue_json_any_type("noop", "null", &EnqueueOptions::new().unique_key("nightly"))
        .unwrap()
        .id;
    let mut last = None;
    assert!(
        wait_for(WAIT, || {
            let r = source.copy_into(&dest);
            let clashed = matches!(&r, Err(Error::UniqueKeyTaken { key, holder })
                if key == "nightly" && *holder == clash);
            last = Some(format!("{r:?}"));
            clashed
        }),
        "{last:?}"
    );
    assert_eq!(runs_of(&dest).len(), 1);
    assert!(dest.tasks(true).unwrap().is_empty());
    assert!(!source.is_paused().unwrap());
    // The stale-worker and rescue passes did run: the held run waits for its retry.
    let rescued = source.run(held).unwrap();
    assert_eq!(rescued.status, RunStatus::Pending);

    dest.cancel(clash, "in the way of the copy").unwrap();
    let out = cli(&src, &["--json", "copy-to", &uri]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tasks"], 1, "{report}");
    assert_eq!(report["pending"], 4, "{report}"); // flaky, a, nightly, hold
    assert_eq!(report["blocked"], 2, "{report}"); // b, c
    assert_eq!(report["dependencies"], 3, "{report}");
    assert_eq!(report["job_types"], 4, "{report}"); // record, flaky, noop, hold

    // What arrived, field by field.
    let copied = runs_of(&dest);
    assert_eq!(copied.len(), 7, "{copied:#?}"); // with the cancelled clash
    let label = |l: &str| {
        let want = serde_json::json!({ "test": test, "label": l });
        only(&copied, move |r| {
            r.job_type == "record" && r.payload_json().unwrap() == want
        })
        .clone()
    };
    assert!(!copied.iter().any(|r| r.payload.contains("\"done\"")));
    let f = only(&copied, |r| r.job_type == "flaky");
    let f_src = source.run(flaky).unwrap();
    assert_eq!((f.attempt, f.status), (1, RunStatus::Pending));
    assert_eq!(f.errors, f_src.errors);
    assert_eq!(f.scheduled_at, f_src.scheduled_at);
    assert_eq!(f.created_at, f_src.created_at);
    assert_eq!(f.backoff, Duration::from_secs(3));
    let h = only(&copied, |r| r.job_type == "hold");
    assert_eq!((h.attempt, h.status), (1, RunStatus::Pending));
    assert_eq!(
        h.errors.last().map(|e| e.kind),
        Some(AttemptErrorKind::LeaseExpired)
    );
    let nightly = only(&copied, |r| {
        r.unique_key.as_deref() == Some("nightly") && r.status == RunStatus::Pending
    });
    assert_eq!(nightly.job_type, "noop");
    let (ca, cb, cc) = (label("a"), label("b"), label("c"));
    assert_eq!(ca.status, RunStatus::Pending);
    assert_eq!((cb.status, cb.blocked_on), (RunStatus::Blocked, 1));
    assert_eq!((cc.status, cc.blocked_on), (RunStatus::Blocked, 2));
    let mut edges: Vec<_> = dest
        .dependency_graph(ca.id)
        .unwrap()
        .iter()
        .map(|e| (e.downstream, e.upstream, e.on_failure))
        .collect();
    edges.sort();
    let on_failure = source.dependency_graph(graph[0].id).unwrap()[0].on_failure;
    assert_eq!(
        edges,
        vec![
            (cb.id, ca.id, on_failure),
            (cc.id, ca.id, on_failure),
            (cc.id, cb.id, on_failure),
        ]
    );
    let t = dest.task("hourly").unwrap().unwrap();
    assert_eq!(t.schedule, task.schedule);
    assert_eq!(
        t.next_run_at,
        source.task("hourly").unwrap().unwrap().next_run_at
    );
    assert!(t.enabled);
    assert!(t.next_run_at.is_some());

    // The file is paused and marked: a second copy would run everything twice.
    assert!(source.is_paused().unwrap());
    let again = cli(&src, &["copy-to", &uri]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already copied"),
        "{}",
        stderr(&again)
    );
    assert_eq!(runs_of(&dest).len(), 7);

    // A host on PostgreSQL runs the copies: the graph in order, the retry as attempt 2.
    let s = start_host(Scheduler::builder().postgres(&pg.url));
    let ids = [ca.id, cb.id, cc.id, f.id, nightly.id];
    assert!(wait_for(WAIT, || ids.iter().all(|id| s
        .run(*id)
        .unwrap()
        .status
        == RunStatus::Completed)));
    s.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(log_of(test), ["done", "a", "b", "c"]);
    assert_eq!(attempts_of(test), 2);
    assert_eq!(dest.run(f.id).unwrap().result.as_deref(), Some("2"));
}
