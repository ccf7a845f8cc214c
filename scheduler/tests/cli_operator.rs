//! The operator's commands of issue 14: `enqueue` applies the job type's `#[job]`
//! defaults that its hosts recorded, and reads a payload from a file or standard input;
//! `runs retry` by filter; `workers list` columns named for what they hold; `stats`'
//! rate over the time observed; `watch` fitting 80 columns with the running runs and
//! the latest failures; one time format in every JSON output. Each runs the real
//! binary on a real file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
    time::Duration,
};

use common::{TestDb, builder};
use runloom::{Job, JobContext, JobError, Perform, RunFilter, RunId, RunStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(20);

fn on(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runloom"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RUNLOOM_DB")
        .output()
        .expect("the runloom binary starts")
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = on(db, args);
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(db: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(db, &all)).unwrap()
}

/// A job type with defaults of its own.
#[derive(Serialize, Deserialize, Job)]
#[job(priority = 10, max_attempts = 7, timeout = "45s", backoff = "3s")]
struct Invoice {
    number: String,
}

impl Perform for Invoice {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        if self.number.starts_with("bad") {
            return Err(JobError::fail("no such customer"));
        }
        Ok(())
    }
}

/// A database on which a host registered `Invoice` and stopped.
fn registered(db: &TestDb) {
    builder(db)
        .register::<Invoice>()
        .start()
        .unwrap()
        .shutdown(WAIT)
        .unwrap();
}

fn run_of(db: &TestDb, id: i64) -> runloom::Run {
    runloom::Admin::open(&db.path)
        .unwrap()
        .run(RunId::new(id))
        .unwrap()
}

#[test]
fn enqueue_applies_the_job_types_recorded_defaults_and_options_override_them() {
    let db = TestDb::new();
    registered(&db);
    let plain = json(
        &db.path,
        &["enqueue", "invoice", "--payload", r#"{"number":"1"}"#],
    );
    let run = run_of(&db, plain["id"].as_i64().unwrap());
    assert_eq!(run.priority, 10);
    assert_eq!(run.max_attempts, 7);
    assert_eq!(run.timeout, Some(Duration::from_secs(45)));
    assert_eq!(run.backoff, Duration::from_secs(3));
    let set = json(
        &db.path,
        &[
            "enqueue",
            "invoice",
            "--payload",
            r#"{"number":"2"}"#,
            "--priority",
            "3",
            "--max-attempts",
            "2",
        ],
    );
    let run = run_of(&db, set["id"].as_i64().unwrap());
    assert_eq!((run.priority, run.max_attempts), (3, 2));
    assert_eq!(
        run.timeout,
        Some(Duration::from_secs(45)),
        "the rest stays the type's"
    );
}

#[test]
fn enqueue_refuses_a_payload_of_another_shape_than_the_recorded_one() {
    let db = TestDb::new();
    registered(&db);
    for (payload, why) in [
        (r#"{"numbr":"1"}"#, "missing field \"number\""),
        (r#"["1"]"#, "expected an object, got an array"),
    ] {
        let out = on(&db.path, &["enqueue", "invoice", "--payload", payload]);
        assert_eq!(out.status.code(), Some(1), "{payload}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{payload}: {err}");
    }
    let total = runloom::Admin::open(&db.path)
        .unwrap()
        .counts()
        .unwrap()
        .total();
    assert_eq!(total, 0, "nothing was written");
    // Extra fields are fine (the job's decode ignores them, as serde's derive does).
    json(
        &db.path,
        &[
            "enqueue",
            "invoice",
            "--payload",
            r#"{"number":"1","note":"x"}"#,
        ],
    );
}

#[test]
fn a_payload_comes_from_a_file_or_standard_input() {
    let db = TestDb::new();
    registered(&db);
    // Over Linux's limit of 128 KiB for one command-line argument.
    let big = format!(r#"{{"number":"{}"}}"#, "7".repeat(200_000));
    let file = db.dir.path().join("payload.json");
    std::fs::write(&file, &big).unwrap();
    let from_file = json(
        &db.path,
        &[
            "enqueue",
            "invoice",
            "--payload",
            &format!("@{}", file.display()),
        ],
    );
    assert_eq!(run_of(&db, from_file["id"].as_i64().unwrap()).payload, big);

    let mut child = Command::new(env!("CARGO_BIN_EXE_runloom"))
        .arg("--db")
        .arg(&db.path)
        .args(["--json", "enqueue", "invoice", "--payload", "-"])
        .env_remove("RUNLOOM_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"number":"from stdin"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        run_of(&db, v["id"].as_i64().unwrap()).payload,
        r#"{"number":"from stdin"}"#
    );

    // A file that is not there is an error that changes nothing.
    let missing = on(
        &db.path,
        &["enqueue", "invoice", "--payload", "@/no/such/file"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the payload"));
    let total = runloom::Admin::open(&db.path)
        .unwrap()
        .counts()
        .unwrap()
        .total();
    assert_eq!(total, 2);
}

#[test]
fn runs_retry_by_filter_retries_what_matches_and_reports_it() {
    let db = TestDb::new();
    let s = builder(&db).register::<Invoice>().start().unwrap();
    let bad: Vec<RunId> = (0..3)
        .map(|i| {
            s.enqueue(Invoice {
                number: format!("bad-{i}"),
            })
            .unwrap()
            .id
        })
        .collect();
    let good = s
        .enqueue(Invoice {
            number: "good".into(),
        })
        .unwrap()
        .id;
    s.wait_all(&[bad.clone(), vec![good]].concat(), WAIT)
        .unwrap();
    s.pause().unwrap();
    // No id and no filter: refused, nothing retried.
    let refused = on(&db.path, &["runs", "retry"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("at least one filter"));
    let report = json(
        &db.path,
        &["runs", "retry", "--type", "invoice", "--status", "failed"],
    );
    let mut retried: Vec<i64> = report["retried"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    retried.sort_unstable();
    assert_eq!(retried, bad.iter().map(|id| id.get()).collect::<Vec<_>>());
    assert!(report["refused"].as_array().unwrap().is_empty());
    let pending = s
        .runs(&RunFilter::new().status(RunStatus::Pending))
        .unwrap()
        .len();
    assert_eq!(pending, 3);
    assert_eq!(s.run(good).unwrap().status, RunStatus::Completed);
    let text = ok(
        &db.path,
        &["runs", "retry", "--type", "invoice", "--status", "failed"],
    );
    assert!(text.contains("retried 0 run(s), 0 refused"), "{text}");
    s.shutdown(WAIT).unwrap();
}

#[test]
fn workers_stats_and_watch_say_what_they_show_in_80_columns_and_one_time_format() {
    let db = TestDb::new();
    let s = builder(&db).register::<Invoice>().start().unwrap();
    let failed = s
        .enqueue(Invoice {
            number: "bad-watch".into(),
        })
        .unwrap()
        .id;
    s.wait(failed, WAIT).unwrap();

    let workers = ok(&db.path, &["workers", "list"]);
    let header = workers.lines().next().unwrap();
    assert!(
        header.contains("leases at hb") && header.contains("holding runs"),
        "{header}"
    );

    // The rate is over the time observed (this database is seconds old), not an hour.
    let stats = json(&db.path, &["stats"]);
    let observed = stats["last_hour"]["observed_s"].as_u64().unwrap();
    assert!((1..3600).contains(&observed), "{stats}");
    let per_s = stats["last_hour"]["finished_per_s"].as_f64().unwrap();
    #[allow(clippy::cast_precision_loss)]
    let expected = 1.0 / observed as f64;
    assert!((per_s - expected).abs() < 0.002, "{per_s} vs {expected}");

    let frame = ok(&db.path, &["watch", "--count", "1"]);
    for line in frame.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
    assert!(frame.contains("latest failures"), "{frame}");
    assert!(frame.contains("no such customer"), "{frame}");
    // Not a terminal here: no alternate screen.
    assert!(!frame.contains("\x1b[?1049h"));

    // Every time in JSON: RFC 3339, UTC, milliseconds.
    let shape = |t: &str| {
        t.len() == 24 && t.ends_with('Z') && t.as_bytes()[10] == b'T' && t.as_bytes()[19] == b'.'
    };
    let mut times = Vec::new();
    collect_times(&json(&db.path, &["maintenance", "run"]), &mut times);
    collect_times(&stats, &mut times);
    collect_times(
        &json(&db.path, &["runs", "show", &failed.to_string()]),
        &mut times,
    );
    collect_times(&json(&db.path, &["workers", "list"]), &mut times);
    assert!(times.len() > 5, "{times:?}");
    for t in &times {
        assert!(shape(t), "not the one time format: {t}");
    }
    s.shutdown(WAIT).unwrap();
}

/// Every string value under a key that names a time.
fn collect_times(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let timely =
                    k.ends_with("_at") || k == "at" || k == "minute" || k == "last_heartbeat";
                match v {
                    Value::String(s) if timely => out.push(s.clone()),
                    other => collect_times(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_times(i, out)),
        _ => {}
    }
}
