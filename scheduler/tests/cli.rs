//! The operator CLI, run as the real `runloom` binary against real database files in
//! temporary folders, most of them used at the same time by a scheduler running in this
//! test process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{
    collections::BTreeSet,
    path::Path,
    process::{Command, Output},
    time::{Duration, Instant},
};

use common::{
    TestDb, builder,
    jobs::{Decides, Double, Flaky, Gate, Noop, open_gate},
    schema_of, snapshot, wait_for,
};
use runloom::clock::HostInstant;
use runloom::{
    Admin, Clock, MaintenanceConfig, RunId, RunStatus, ScheduleSpec, Scheduler, Service,
    SystemClock, WorkerId, WorkerStatus,
    store::{JobTypeFilter, NewRun, NewWorker, Store, StoreOptions},
};
use serde_json::Value;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

const WAIT: Duration = Duration::from_secs(20);

/// Runs the binary with `args` (the database is passed by each caller), without any
/// `RUNLOOM_DB` the environment of the test run may carry.
fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runloom"))
        .args(args)
        .env_remove("RUNLOOM_DB")
        .output()
        .expect("the runloom binary starts")
}

/// `--db PATH` then `args`.
fn on(db: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--db", db.to_str().unwrap()];
    all.extend_from_slice(args);
    cli(&all)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed; returns its stdout.
fn ok(db: &Path, args: &[&str]) -> String {
    let out = on(db, args);
    assert!(
        out.status.success(),
        "scheduler {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a command that must fail with exit code 1 and one `error: ` line on stderr and
/// nothing on stdout; returns the line.
fn fails(db: &Path, args: &[&str]) -> String {
    let out = on(db, args);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "scheduler {args:?} should fail with 1:\nstdout: {}\nstderr: {stderr}",
        text(&out.stdout)
    );
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed on stdout: {}",
        text(&out.stdout)
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    stderr.trim_end().to_owned()
}

/// Runs a read command with `--json` and parses its output.
fn json(db: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let stdout = ok(db, &all);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"))
}

/// The ids of a JSON array of runs, in order.
fn ids(runs: &Value) -> Vec<i64> {
    runs.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

fn set(ids: &[RunId]) -> BTreeSet<i64> {
    ids.iter().map(|i| i.get()).collect()
}

/// What the CLI did is checked through the public operator API, never the storage.
fn admin_of(db: &TestDb) -> Admin {
    Admin::builder(&db.path).open_any_version().unwrap()
}

fn status_of(admin: &Admin, id: RunId) -> RunStatus {
    admin.run(id).unwrap().status
}

fn wait_status(admin: &Admin, id: RunId, status: RunStatus) {
    assert!(
        wait_for(WAIT, || status_of(admin, id) == status),
        "run {id} did not become {status}: it is {}",
        status_of(admin, id)
    );
}

fn total_runs(admin: &Admin) -> u64 {
    admin.counts().unwrap().total()
}

fn worker_status(admin: &Admin, id: WorkerId) -> WorkerStatus {
    admin
        .workers(true)
        .unwrap()
        .into_iter()
        .find(|w| w.worker.id == id)
        .unwrap()
        .worker
        .status
}

fn rfc3339(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().unwrap(), &Rfc3339).unwrap()
}

/// A database migrated by the CLI itself.
fn migrated() -> TestDb {
    let db = TestDb::new();
    ok(&db.path, &["migrate", "up"]);
    db
}

/// Every command but `migrate up`, as it would be typed.
const NOT_CREATING: &[&[&str]] = &[
    &["migrate", "status"],
    &["migrate", "down", "--to", "0"],
    &["migrate", "down", "--to", "0", "--dry-run"],
    &["runs", "list"],
    &["runs", "list", "--status", "failed", "--limit", "3"],
    &["runs", "show", "1"],
    &["runs", "retry", "1"],
    &["runs", "cancel", "1"],
    &["deps", "1"],
    &["tasks", "list"],
    &["workers", "list"],
    &["stats"],
    &["watch", "--count", "1"],
    &["pause"],
    &["resume"],
    &["maintenance", "run"],
    &["maintenance", "run", "--only", "runs"],
    &["enqueue", "double", "--payload", "{\"value\":1}", "--force"],
];

#[test]
fn a_missing_file_is_refused_by_every_command_but_migrate_up_and_never_created() {
    let db = TestDb::new();
    for args in NOT_CREATING {
        for json_flag in [false, true] {
            let mut args = args.to_vec();
            if json_flag {
                args.push("--json");
            }
            let line = fails(&db.path, &args);
            assert!(line.contains("no such database file"), "{args:?}: {line}");
            assert!(line.contains("jobs.db"), "{args:?}: {line}");
            assert!(!db.path.exists(), "{args:?} created the file");
        }
    }
    // A dry run of `migrate up` says what it would do and still creates nothing.
    let plan = ok(&db.path, &["migrate", "up", "--dry-run"]);
    assert!(plan.contains("would apply 0001 initial_schema"), "{plan}");
    assert!(
        plan.contains("would apply 0004 maintenance_procedures"),
        "{plan}"
    );
    assert!(!db.path.exists());
    // A target this binary does not know is refused before any file is made.
    let line = fails(&db.path, &["migrate", "up", "--to", "99"]);
    assert!(line.contains("invalid migration target 99"), "{line}");
    assert!(!db.path.exists());
    // `migrate up` is asked to create it, and does.
    let out = ok(&db.path, &["migrate", "up"]);
    assert!(
        out.contains(&format!("created {}", db.path.display())),
        "{out}"
    );
    assert!(out.contains("the database is at version 9 of 9"), "{out}");
    assert_eq!(admin_of(&db).schema_version().unwrap(), 9);
}

#[test]
fn the_default_database_and_scheduler_db_are_used_without_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("env.db");
    ok(&db, &["migrate", "up"]);
    // RUNLOOM_DB names the file when --db is absent.
    let out = Command::new(env!("CARGO_BIN_EXE_runloom"))
        .args(["stats", "--json"])
        .env("RUNLOOM_DB", &db)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["counts"]["total"], 0);
    // Without either, ./scheduler.db: missing here, so refused, and not created.
    let out = Command::new(env!("CARGO_BIN_EXE_runloom"))
        .args(["runs", "list"])
        .env_remove("RUNLOOM_DB")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("scheduler.db: no such database file"));
    assert!(!dir.path().join("scheduler.db").exists());
    // --db wins over RUNLOOM_DB.
    let out = Command::new(env!("CARGO_BIN_EXE_runloom"))
        .args(["--db", db.to_str().unwrap(), "stats"])
        .env("RUNLOOM_DB", dir.path().join("other.db"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!dir.path().join("other.db").exists());
}

#[test]
fn global_flags_go_before_or_after_the_command_and_usage_errors_exit_2() {
    let db = migrated();
    let path = db.path.to_str().unwrap();
    for args in [
        vec!["--json", "--db", path, "runs", "list"],
        vec!["runs", "list", "--db", path, "--json"],
        vec!["runs", "--json", "list", "--db", path],
    ] {
        let out = cli(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v, Value::Array(vec![]), "{args:?}");
    }
    for args in [
        vec!["--db", path, "runs", "list", "--status", "bogus"],
        vec!["--db", path, "runs", "list", "--since", "yesterday"],
        vec!["--db", path, "runs", "show", "not-a-number"],
        vec!["--db", path, "frobnicate"],
        vec!["--db", path, "migrate", "down"],
        vec!["--db", path, "maintenance", "run", "--only", "everything"],
        // Once a panic (capacity overflow): a count past the limit is a usage error.
        vec![
            "--db",
            path,
            "tasks",
            "list",
            "--next",
            "18446744073709551615",
        ],
    ] {
        let out = cli(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    let help = cli(&["--help"]);
    assert!(help.status.success());
    for command in [
        "migrate", "runs", "tasks", "workers", "deps", "stats", "watch",
    ] {
        assert!(text(&help.stdout).contains(command), "{command}");
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_unchanged() {
    let db = TestDb::new();
    std::fs::write(&db.path, "these are my notes, not a database\n".repeat(200)).unwrap();
    let before = std::fs::read(&db.path).unwrap();
    let mut commands: Vec<&[&str]> = NOT_CREATING.to_vec();
    commands.push(&["migrate", "up"]);
    commands.push(&["migrate", "up", "--dry-run"]);
    for args in commands {
        let line = fails(&db.path, args);
        assert!(line.contains("not a SQLite database"), "{args:?}: {line}");
    }
    assert_eq!(std::fs::read(&db.path).unwrap(), before);
    // An empty file is left empty by everything but `migrate up`.
    std::fs::write(&db.path, "").unwrap();
    for args in NOT_CREATING {
        let line = fails(&db.path, args);
        assert!(line.contains("file is empty"), "{args:?}: {line}");
    }
    ok(&db.path, &["migrate", "up", "--dry-run"]);
    assert_eq!(std::fs::metadata(&db.path).unwrap().len(), 0);
}

#[test]
fn a_newer_schema_is_refused_and_left_unchanged() {
    let db = migrated();
    db.raw()
        .execute(
            "INSERT INTO scheduler_migrations VALUES (99, 'from_the_future', ?, 0, 0)",
            ["f".repeat(64)],
        )
        .unwrap();
    // Fold the WAL into the file so the snapshot is of everything.
    db.raw()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let before = snapshot(&db.path);
    let mut commands: Vec<&[&str]> = NOT_CREATING.to_vec();
    commands.push(&["migrate", "up"]);
    commands.push(&["migrate", "up", "--dry-run"]);
    for args in commands {
        let line = fails(&db.path, args);
        assert!(
            line.contains("database schema version 99 is newer than this binary's 9"),
            "{args:?}: {line}"
        );
        assert!(line.contains("jobs.db"), "{args:?}: {line}");
    }
    assert_eq!(snapshot(&db.path), before);
}

#[test]
fn migrate_status_up_dry_run_down_and_up_again() {
    let db = TestDb::new();
    let out = ok(&db.path, &["migrate", "up", "--to", "2"]);
    assert!(out.contains("applied 0001 initial_schema"), "{out}");
    assert!(out.contains("applied 0002 indexes_optimization"), "{out}");
    assert!(!out.contains("0003"), "{out}");
    assert_eq!(admin_of(&db).schema_version().unwrap(), 2);

    let status = ok(&db.path, &["migrate", "status"]);
    assert!(status.contains("version   2 of 9"), "{status}");
    assert!(status.contains("run `runloom migrate up`"), "{status}");
    let status = json(&db.path, &["migrate", "status"]);
    let states: Vec<&str> = status["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "applied", "applied", "pending", "pending", "pending", "pending", "pending", "pending",
            "pending"
        ]
    );
    assert_eq!(status["version"], 2);

    // Every other command needs the latest schema and says how to get it.
    for args in [&["stats"][..], &["runs", "list"], &["pause"]] {
        let line = fails(&db.path, args);
        assert!(
            line.contains("schema is at version 2 but this binary needs 9"),
            "{line}"
        );
        assert!(line.contains("migrate up"), "{line}");
    }

    let schema_at_2 = schema_of(&db.raw());
    let plan = ok(&db.path, &["migrate", "up", "--dry-run"]);
    assert!(
        plan.contains("would apply 0003 triggers_and_constraints"),
        "{plan}"
    );
    assert!(
        plan.contains("would apply 0004 maintenance_procedures"),
        "{plan}"
    );
    assert!(plan.contains("would apply 0005 worker_promises"), "{plan}");
    assert!(plan.contains("would apply 0006 settle_queue"), "{plan}");
    assert!(
        plan.contains("would apply 0007 workers_clock_domain"),
        "{plan}"
    );
    assert!(plan.contains("would apply 0008 snoozes"), "{plan}");
    assert!(plan.contains("would apply 0009 queues"), "{plan}");
    assert!(plan.contains("dry run: nothing changed"), "{plan}");
    let plan = json(&db.path, &["migrate", "up", "--dry-run"]);
    assert_eq!(plan["steps"].as_array().unwrap().len(), 7);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(schema_of(&db.raw()), schema_at_2);
    assert_eq!(admin_of(&db).schema_version().unwrap(), 2);

    let out = ok(&db.path, &["migrate", "up"]);
    assert!(
        out.contains("applied 0003 triggers_and_constraints"),
        "{out}"
    );
    assert!(out.contains("version 9 of 9"), "{out}");
    assert_eq!(admin_of(&db).schema_version().unwrap(), 9);
    let schema_at_5 = schema_of(&db.raw());
    let again = ok(&db.path, &["migrate", "up"]);
    assert!(again.contains("nothing to do"), "{again}");

    let plan = ok(&db.path, &["migrate", "down", "--to", "2", "--dry-run"]);
    assert!(plan.contains("would revert 0009 queues"), "{plan}");
    assert!(plan.contains("would revert 0008 snoozes"), "{plan}");
    assert!(
        plan.contains("would revert 0007 workers_clock_domain"),
        "{plan}"
    );
    assert!(plan.contains("would revert 0006 settle_queue"), "{plan}");
    assert!(plan.contains("would revert 0005 worker_promises"), "{plan}");
    assert!(
        plan.contains("would revert 0004 maintenance_procedures"),
        "{plan}"
    );
    assert!(
        plan.contains("would revert 0003 triggers_and_constraints"),
        "{plan}"
    );
    assert_eq!(schema_of(&db.raw()), schema_at_5);

    let out = ok(&db.path, &["migrate", "down", "--to", "2"]);
    assert!(
        out.contains("reverted 0004 maintenance_procedures"),
        "{out}"
    );
    assert!(out.contains("version 2 of 9"), "{out}");
    assert_eq!(admin_of(&db).schema_version().unwrap(), 2);
    assert_eq!(schema_of(&db.raw()), schema_at_2);
    let line = fails(&db.path, &["migrate", "down", "--to", "3"]);
    assert!(line.contains("invalid migration target 3"), "{line}");

    let out = json(&db.path, &["migrate", "up"]);
    assert_eq!(out["version"], 9);
    assert_eq!(out["steps"][0]["version"], 3);
    assert_eq!(out["steps"][0]["direction"], "up");
    assert_eq!(schema_of(&db.raw()), schema_at_5);
}

/// Runs of every kind on a file a running scheduler uses: completed, retried then
/// completed, failed for good, one running under a lease with a blocked dependent.
struct Scene {
    db: TestDb,
    scheduler: Scheduler,
    admin: Admin,
    double: RunId,
    flaky: RunId,
    failed: RunId,
    gate: RunId,
    after: RunId,
}

fn scene(gate_name: &str, flaky_key: &str) -> Scene {
    let db = TestDb::new();
    let scheduler = builder(&db)
        .worker_threads(4)
        .register::<Double>()
        .register::<Flaky>()
        .register::<Decides>()
        .register::<Gate>()
        .start()
        .unwrap();
    let admin = admin_of(&db);
    let double = scheduler.enqueue(Double { value: 21 }).unwrap().id;
    wait_status(&admin, double, RunStatus::Completed);
    let flaky = scheduler
        .enqueue(Flaky {
            key: flaky_key.into(),
            fail: 1,
        })
        .unwrap()
        .id;
    wait_status(&admin, flaky, RunStatus::Completed);
    // Apart in time from the runs before, for the time-range filters.
    std::thread::sleep(Duration::from_millis(20));
    let failed = scheduler
        .enqueue(Decides { how: "fail".into() })
        .unwrap()
        .id;
    wait_status(&admin, failed, RunStatus::Failed);
    let mut batch = scheduler.batch();
    let g = batch
        .add(Gate {
            gate: gate_name.into(),
            max_ms: 60_000,
            cooperative: true,
        })
        .unwrap();
    let a = batch.add(Double { value: 1 }).unwrap();
    batch.depends_on(a, g).unwrap();
    let inserted = batch.submit().unwrap();
    let (gate, after) = (inserted[0].id, inserted[1].id);
    wait_status(&admin, gate, RunStatus::Running);
    assert_eq!(status_of(&admin, after), RunStatus::Blocked);
    Scene {
        db,
        scheduler,
        admin,
        double,
        flaky,
        failed,
        gate,
        after,
    }
}

#[test]
fn runs_list_filters_by_status_type_time_and_limit() {
    let s = scene("cli-list", "cli-list-flaky");
    let db = &s.db.path;
    let all = json(db, &["runs", "list"]);
    assert_eq!(
        ids(&all),
        vec![
            s.after.get(),
            s.gate.get(),
            s.failed.get(),
            s.flaky.get(),
            s.double.get()
        ]
    );
    let table = ok(db, &["runs", "list"]);
    assert_eq!(table.lines().count(), 6, "{table}");
    assert!(table.lines().next().unwrap().starts_with("id"), "{table}");
    assert!(table.contains("failure 1 of 1"), "{table}");

    let completed = json(db, &["runs", "list", "--status", "completed"]);
    assert_eq!(
        ids(&completed).into_iter().collect::<BTreeSet<_>>(),
        set(&[s.double, s.flaky])
    );
    assert!(
        completed
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "completed")
    );
    assert_eq!(
        ids(&json(db, &["runs", "list", "--status", "running"])),
        [s.gate.get()]
    );
    assert_eq!(
        ids(&json(db, &["runs", "list", "--status", "blocked"])),
        [s.after.get()]
    );
    assert_eq!(
        ids(&json(db, &["runs", "list", "--type", "double"])),
        [s.after.get(), s.double.get()]
    );
    assert_eq!(
        ids(&json(
            db,
            &["runs", "list", "--type", "double", "--status", "completed"]
        )),
        [s.double.get()]
    );
    assert_eq!(
        ids(&json(db, &["runs", "list", "--limit", "2"])),
        [s.after.get(), s.gate.get()]
    );
    let none = ok(db, &["runs", "list", "--type", "nothing_of_this_type"]);
    assert_eq!(none, "no runs match\n");

    // --since is inclusive, --until exclusive: split at the failed run's creation.
    let split = s.admin.run(s.failed).unwrap().created_at;
    let at = scheduler_time(split);
    assert_eq!(
        ids(&json(db, &["runs", "list", "--since", &at])),
        [s.after.get(), s.gate.get(), s.failed.get()]
    );
    assert_eq!(
        ids(&json(db, &["runs", "list", "--until", &at])),
        [s.flaky.get(), s.double.get()]
    );
    let later = scheduler_time(split + time::Duration::milliseconds(1));
    assert_eq!(
        ids(&json(
            db,
            &["runs", "list", "--since", &at, "--until", &later]
        )),
        [s.failed.get()]
    );
    // An offset other than UTC means the same instant.
    let paris = split
        .to_offset(time::UtcOffset::from_hms(1, 0, 0).unwrap())
        .format(&Rfc3339)
        .unwrap();
    assert_eq!(
        ids(&json(db, &["runs", "list", "--until", &paris])),
        [s.flaky.get(), s.double.get()]
    );
    open_gate("cli-list");
    s.scheduler.shutdown(Duration::from_secs(5)).unwrap();
}

fn scheduler_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

#[test]
fn runs_show_gives_attempt_errors_the_lease_the_worker_and_dependencies() {
    let s = scene("cli-show", "cli-show-flaky");
    let db = &s.db.path;

    let flaky = json(db, &["runs", "show", &s.flaky.to_string()]);
    assert_eq!(flaky["status"], "completed");
    assert_eq!(flaky["attempt"], 2);
    assert_eq!(flaky["result"], 2);
    let attempts = flaky["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{flaky}");
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["outcome"], "error");
    assert_eq!(attempts[0]["message"], "failure 1 of 1");
    assert_eq!(attempts[1]["outcome"], "completed");
    assert!(flaky["lease"].is_null());
    assert_eq!(flaky["worker"]["id"], s.scheduler.worker_id().get());
    let text = ok(db, &["runs", "show", &s.flaky.to_string()]);
    assert!(text.contains("failure 1 of 1"), "{text}");
    assert!(text.contains("attempts      2 of 5"), "{text}");

    let failed = ok(db, &["runs", "show", &s.failed.to_string()]);
    assert!(failed.contains("permanently broken"), "{failed}");
    assert!(failed.contains("status        failed"), "{failed}");

    let gate = json(db, &["runs", "show", &s.gate.to_string()]);
    assert_eq!(gate["status"], "running");
    let lease = &gate["lease"];
    assert_eq!(lease["worker_id"], s.scheduler.worker_id().get());
    assert_eq!(lease["expired"], false);
    assert!(lease["token"].as_i64().unwrap() > 0);
    assert!(rfc3339(&lease["expires_at"]) > SystemClock.now());
    assert_eq!(gate["worker"]["id"], s.scheduler.worker_id().get());
    assert_eq!(gate["worker"]["status"], "active");
    assert_eq!(gate["downstream"][0]["run"], s.after.get());
    assert_eq!(gate["downstream"][0]["status"], "blocked");
    assert_eq!(gate["upstream"], Value::Array(vec![]));
    let text = ok(db, &["runs", "show", &s.gate.to_string()]);
    assert!(
        text.contains(&format!("holder       worker {}", s.scheduler.worker_id())),
        "{text}"
    );
    assert!(text.contains("status     active"), "{text}");

    let after = json(db, &["runs", "show", &s.after.to_string()]);
    assert_eq!(after["upstream"][0]["run"], s.gate.get());
    assert_eq!(after["upstream"][0]["status"], "running");
    assert_eq!(after["upstream"][0]["resolved"], false);

    let deps = json(db, &["deps", &s.after.to_string()]);
    assert_eq!(deps["upstream"][0]["run"], s.gate.get());
    assert_eq!(deps["downstream"], Value::Array(vec![]));
    let deps = json(db, &["deps", &s.gate.to_string(), "--graph"]);
    assert_eq!(deps["downstream"][0]["run"], s.after.get());
    assert_eq!(deps["graph"].as_array().unwrap().len(), 1);
    let text = ok(db, &["deps", &s.after.to_string()]);
    assert!(
        text.contains(&format!("upstream (run {} waits for)", s.after)),
        "{text}"
    );
    assert!(
        text.lines().any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.len() == 5 && cols[0] == s.gate.to_string() && cols[1..3] == ["gate", "running"]
        }),
        "{text}"
    );

    for args in [
        &["runs", "show", "99999"][..],
        &["runs", "cancel", "99999"],
        &["runs", "retry", "99999"],
        &["deps", "99999"],
    ] {
        let line = fails(db, args);
        assert_eq!(line, "error: run 99999 not found", "{args:?}");
    }
    open_gate("cli-show");
    wait_status(&s.admin, s.after, RunStatus::Completed);
    s.scheduler.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn runs_cancel_and_retry_act_on_runs_of_a_running_scheduler() {
    let s = scene("cli-cancel", "cli-cancel-flaky");
    let db = &s.db.path;
    let before = total_runs(&s.admin);

    // Finished runs cannot be cancelled, completed ones not retried: nothing changes.
    let line = fails(db, &["runs", "cancel", &s.failed.to_string()]);
    assert_eq!(
        line,
        format!("error: cannot cancel run {}: it is failed", s.failed)
    );
    let line = fails(db, &["runs", "retry", &s.double.to_string()]);
    assert_eq!(
        line,
        format!("error: cannot retry run {}: it is completed", s.double)
    );
    assert_eq!(status_of(&s.admin, s.double), RunStatus::Completed);

    // A failed run retried by the CLI is run again by the host (and fails again).
    let out = ok(db, &["runs", "retry", &s.failed.to_string()]);
    assert!(out.contains("is pending again"), "{out}");
    assert!(wait_for(WAIT, || {
        let r = s.admin.run(s.failed).unwrap();
        r.status == RunStatus::Failed && r.attempt == 2
    }));
    let shown = json(db, &["runs", "show", &s.failed.to_string()]);
    let errors = shown["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{shown}");
    assert!(errors.iter().all(|e| e["message"] == "permanently broken"));

    // A running run is asked to stop; the holder's next heartbeat tells the job, and
    // its blocked dependent is cancelled with it.
    let out = ok(db, &["runs", "cancel", &s.gate.to_string()]);
    assert!(out.contains("cancellation requested"), "{out}");
    wait_status(&s.admin, s.gate, RunStatus::Cancelled);
    wait_status(&s.admin, s.after, RunStatus::Cancelled);
    let gate = s.admin.run(s.gate).unwrap();
    assert!(gate.cancel_reason.is_some(), "{gate:?}");

    // A pending run is cancelled at once, with the reason given.
    let later = s
        .scheduler
        .enqueue_with(
            Double { value: 3 },
            runloom::EnqueueOptions::new().delay(Duration::from_secs(3600)),
        )
        .unwrap()
        .id;
    let out = json(
        db,
        &[
            "runs",
            "cancel",
            &later.to_string(),
            "--reason",
            "not today",
        ],
    );
    assert_eq!(out["outcome"], "cancelled");
    assert_eq!(out["status"], "cancelled");
    let r = s.admin.run(later).unwrap();
    assert_eq!(r.status, RunStatus::Cancelled);
    assert_eq!(r.cancel_reason.as_deref(), Some("not today"));

    // The cancelled gate retried runs again and, with its gate open, completes.
    open_gate("cli-cancel");
    let retried = json(db, &["runs", "retry", &s.gate.to_string()]);
    assert_eq!(retried["status"], "pending");
    wait_status(&s.admin, s.gate, RunStatus::Completed);
    assert_eq!(total_runs(&s.admin), before + 1);
    s.scheduler.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn workers_list_shows_the_running_instance_with_its_in_flight_runs() {
    let s = scene("cli-workers", "cli-workers-flaky");
    let db = &s.db.path;
    let me = s.scheduler.worker_id().get();
    let workers = json(db, &["workers", "list"]);
    let w = workers
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == me)
        .unwrap_or_else(|| panic!("worker {me} missing: {workers}"));
    assert_eq!(w["status"], "active");
    assert_eq!(w["in_flight"], 1);
    assert_eq!(w["in_flight_runs"], serde_json::json!([s.gate.get()]));
    assert_eq!(w["threads"], 4);
    assert_eq!(w["pid"], std::process::id());
    assert_eq!(w["stale"], false);
    assert!(w["heartbeat_age_ms"].as_i64().unwrap() < 5_000, "{w}");
    let table = ok(db, &["workers", "list"]);
    let row = table
        .lines()
        .find(|l| l.starts_with(&format!("{me} ")))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains("active"), "{row}");
    assert!(row.contains(" ago"), "{row}");
    assert!(row.contains(&s.gate.to_string()), "{row}");

    open_gate("cli-workers");
    wait_status(&s.admin, s.after, RunStatus::Completed);
    s.scheduler.shutdown(Duration::from_secs(5)).unwrap();
    // Stopped: gone from the default list, there with --all as offline.
    let live = json(db, &["workers", "list"]);
    assert!(
        live.as_array().unwrap().iter().all(|w| w["id"] != me),
        "{live}"
    );
    assert_eq!(
        ok(db, &["workers", "list"]),
        "no live workers (--all lists stopped ones)\n"
    );
    let all = json(db, &["workers", "list", "--all"]);
    let w = all
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == me)
        .unwrap();
    assert_eq!(w["status"], "offline");
    assert_eq!(w["in_flight"], 0);
}

#[test]
fn tasks_list_shows_each_schedule_with_its_next_fire_time() {
    let db = TestDb::new();
    let scheduler = builder(&db)
        .register::<Double>()
        .register::<Noop>()
        .start()
        .unwrap();
    let nightly = scheduler
        .schedule(
            "nightly",
            Double { value: 1 },
            ScheduleSpec::cron("0 3 * * *"),
        )
        .unwrap();
    let tick = scheduler
        .schedule(
            "tick",
            Noop,
            ScheduleSpec::every(Duration::from_millis(100)),
        )
        .unwrap();
    let admin = admin_of(&db);
    assert!(wait_for(WAIT, || {
        scheduler
            .runs(&runloom::RunFilter::new().task(tick.id))
            .unwrap()
            .iter()
            .any(|r| r.status == RunStatus::Completed)
    }));

    let tasks = json(&db.path, &["tasks", "list", "--next", "3"]);
    let find = |name: &str| {
        tasks
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {tasks}"))
            .clone()
    };
    let n = find("nightly");
    assert_eq!(n["id"], nightly.id.get());
    assert_eq!(n["schedule"]["kind"], "cron");
    assert_eq!(n["schedule"]["cron"], "0 3 * * *");
    let fires: Vec<OffsetDateTime> = n["next_fire_times"]
        .as_array()
        .unwrap()
        .iter()
        .map(rfc3339)
        .collect();
    assert_eq!(fires, scheduler.next_fire_times("nightly", 3).unwrap());
    assert_eq!(fires[0].time(), time::macros::time!(03:00));
    assert_eq!(fires[1] - fires[0], time::Duration::days(1));
    let t = find("tick");
    assert_eq!(t["schedule"]["interval_ms"], 100);
    assert_eq!(t["next_fire_times"].as_array().unwrap().len(), 3);

    let table = ok(&db.path, &["tasks", "list"]);
    let row = table.lines().find(|l| l.contains("nightly")).unwrap();
    assert!(row.contains("cron 0 3 * * * (UTC)"), "{table}");
    assert!(row.contains("enabled"), "{table}");
    let first = scheduler.next_fire_times("nightly", 1).unwrap()[0];
    assert!(
        row.contains(&first.format(&Rfc3339).unwrap().replace('Z', ".000Z")),
        "{table}"
    );
    assert!(table.contains("every 100ms"), "{table}");

    // The task filter of `runs list`, by name and by id.
    let by_name = json(&db.path, &["runs", "list", "--task", "tick"]);
    assert!(!by_name.as_array().unwrap().is_empty());
    assert!(
        by_name
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["task_id"] == tick.id.get() && r["job_type"] == "noop")
    );
    let by_id = json(&db.path, &["runs", "list", "--task", &tick.id.to_string()]);
    assert!(!by_id.as_array().unwrap().is_empty());
    assert!(
        by_id
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["task_id"] == tick.id.get())
    );
    assert_eq!(
        json(&db.path, &["runs", "list", "--task", "nightly"]),
        Value::Array(vec![])
    );
    let line = fails(&db.path, &["runs", "list", "--task", "no-such-task"]);
    assert_eq!(line, "error: task \"no-such-task\" not found");

    // A removed schedule leaves the default list and shows as deleted with --all.
    assert!(scheduler.unschedule("tick").unwrap());
    let table = ok(&db.path, &["tasks", "list"]);
    assert!(!table.contains("tick"), "{table}");
    let table = ok(&db.path, &["tasks", "list", "--all"]);
    let row = table.lines().find(|l| l.contains("tick")).unwrap();
    assert!(row.contains("deleted"), "{table}");
    drop(admin);
    scheduler.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn tasks_disable_enable_and_trigger_act_on_a_running_hosts_schedule() {
    let db = TestDb::new();
    let scheduler = builder(&db).register::<Double>().start().unwrap();
    let hourly = scheduler
        .schedule(
            "hourly",
            Double { value: 2 },
            ScheduleSpec::every(Duration::from_secs(3600)),
        )
        .unwrap();
    let admin = admin_of(&db);

    let off = json(&db.path, &["tasks", "disable", "hourly"]);
    assert_eq!(off["enabled"], false);
    assert_eq!(off["changed"], true);
    assert!(!admin.task("hourly").unwrap().unwrap().enabled);
    let again = ok(&db.path, &["tasks", "disable", "hourly"]);
    assert!(again.contains("already disabled"), "{again}");
    let tasks = json(&db.path, &["tasks", "list"]);
    let listed = &tasks.as_array().unwrap()[0];
    assert_eq!(listed["enabled"], false);
    assert_eq!(listed["next_fire_times"].as_array().unwrap().len(), 0);

    let on = ok(&db.path, &["tasks", "enable", "hourly"]);
    assert!(on.starts_with("enabled hourly: next occurrence"), "{on}");
    let task = admin.task("hourly").unwrap().unwrap();
    assert!(task.enabled);
    // It continues from now: the next occurrence is about an hour away.
    let wait = task.next_run_at.unwrap() - SystemClock.now();
    assert!(
        (time::Duration::minutes(59)..=time::Duration::minutes(61)).contains(&wait),
        "{wait}"
    );

    // Trigger: one run now, executed by the running host, the schedule unmoved.
    let before = admin.task("hourly").unwrap().unwrap().next_run_at;
    let fired = json(&db.path, &["tasks", "trigger", "hourly"]);
    assert_eq!(fired["created"], true);
    let id = RunId::new(fired["id"].as_i64().unwrap());
    wait_status(&admin, id, RunStatus::Completed);
    let run = admin.run(id).unwrap();
    assert_eq!(run.task_id, Some(hourly.id));
    assert_eq!(run.result.as_deref(), Some("4"));
    assert_eq!(admin.task("hourly").unwrap().unwrap().next_run_at, before);

    let line = fails(&db.path, &["tasks", "trigger", "no-such-task"]);
    assert!(line.contains("no-such-task"), "{line}");
    let line = fails(&db.path, &["tasks", "disable", "no-such-task"]);
    assert!(line.contains("no-such-task"), "{line}");
    scheduler.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn stats_and_watch_show_counts_success_rates_throughput_and_workers() {
    let s = scene("cli-stats", "cli-stats-flaky");
    let db = &s.db.path;
    let stats = json(db, &["stats"]);
    assert_eq!(stats["paused"], false);
    let counts = &stats["counts"];
    assert_eq!(counts["completed"], 2);
    assert_eq!(counts["failed"], 1);
    assert_eq!(counts["running"], 1);
    assert_eq!(counts["blocked"], 1);
    assert_eq!(counts["total"], 5);
    let per_task = stats["per_task"].as_array().unwrap();
    let decides = per_task
        .iter()
        .find(|r| r["job_type"] == "decides")
        .unwrap();
    assert_eq!(decides["failed"], 1);
    assert_eq!(decides["success_rate_pct"], 0.0);
    let flaky = per_task.iter().find(|r| r["job_type"] == "flaky").unwrap();
    assert_eq!(flaky["success_rate_pct"], 100.0);
    assert_eq!(flaky["attempts"], 2);
    assert_eq!(stats["last_hour"]["finished_last_hour"], 3);
    let per_minute: i64 = stats["throughput_per_minute"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["completed"].as_i64().unwrap() + m["failed"].as_i64().unwrap())
        .sum();
    assert_eq!(per_minute, 3);
    let text = ok(db, &["stats"]);
    assert!(text.contains("claiming: running"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("decides") && l.contains(" 0.0 ")),
        "{text}"
    );
    assert!(text.contains("completed  2"), "{text}");

    let started = Instant::now();
    let watch = ok(db, &["watch", "--count", "2", "--interval-ms", "300"]);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(watch.matches("\x1b[2J\x1b[H").count(), 2, "{watch}");
    assert_eq!(watch.matches("runloom watch: ").count(), 2, "{watch}");
    assert!(watch.contains("completed 2"), "{watch}");
    assert!(watch.contains("running 1"), "{watch}");
    let me = s.scheduler.worker_id().to_string();
    assert!(
        watch
            .lines()
            .any(|l| l.split_whitespace().next() == Some(me.as_str()) && l.contains("active")),
        "{watch}"
    );
    let frames = ok(
        db,
        &["watch", "--count", "2", "--interval-ms", "50", "--json"],
    );
    let frames: Vec<Value> = frames
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(frames.len(), 2);
    for f in &frames {
        assert_eq!(f["counts"]["total"], 5);
        assert_eq!(f["health"]["live_workers"], 1);
        assert_eq!(f["workers"][0]["id"], s.scheduler.worker_id().get());
        assert_eq!(f["workers"][0]["in_flight_runs"][0], s.gate.get());
    }
    open_gate("cli-stats");
    wait_status(&s.admin, s.after, RunStatus::Completed);
    s.scheduler.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn pause_holds_a_cli_enqueued_run_until_resume() {
    let db = TestDb::new();
    let scheduler = builder(&db).register::<Double>().start().unwrap();
    let admin = admin_of(&db);
    let out = ok(&db.path, &["pause"]);
    assert!(out.starts_with("paused"), "{out}");
    assert!(admin.is_paused().unwrap());
    assert!(scheduler.is_paused().unwrap());
    assert_eq!(ok(&db.path, &["pause"]), "already paused\n");

    let enq = json(
        &db.path,
        &["enqueue", "double", "--payload", r#"{"value":5}"#],
    );
    assert_eq!(enq["created"], true);
    let id = RunId::new(enq["id"].as_i64().unwrap());
    // Many poll intervals (20 ms) pass: paused, nobody claims it.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(status_of(&admin, id), RunStatus::Pending);
    assert_eq!(json(&db.path, &["stats"])["paused"], true);

    let out = json(&db.path, &["resume"]);
    assert_eq!(out, serde_json::json!({ "paused": false, "changed": true }));
    wait_status(&admin, id, RunStatus::Completed);
    let run = admin.run(id).unwrap();
    assert_eq!(run.result.as_deref(), Some("10"));
    assert_eq!(ok(&db.path, &["resume"]), "not paused: nothing to resume\n");
    scheduler.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn enqueue_runs_registered_types_and_refuses_the_rest_writing_nothing() {
    let db = TestDb::new();
    let scheduler = builder(&db).register::<Double>().start().unwrap();
    let admin = admin_of(&db);
    let before = total_runs(&admin);
    for (args, says) in [
        (
            &["enqueue", "mystery", "--payload", "{}"][..],
            "unknown job type \"mystery\" (registered: double)",
        ),
        (
            &["enqueue", "double", "--payload", r#"{"value":"#],
            "the payload is not valid JSON",
        ),
        (
            &["enqueue", "double", "--payload", "not json"],
            "the payload is not valid JSON",
        ),
        (
            &["enqueue", "double", "--payload", "{}", "--priority", "101"],
            "invalid priority",
        ),
        (
            &[
                "enqueue",
                "double",
                "--payload",
                "{}",
                "--max-attempts",
                "0",
            ],
            "invalid max_attempts",
        ),
    ] {
        let line = fails(&db.path, args);
        assert!(line.contains(says), "{args:?}: {line}");
    }
    assert_eq!(total_runs(&admin), before, "a refused enqueue wrote a run");

    let out = ok(
        &db.path,
        &[
            "enqueue",
            "double",
            "--payload",
            r#"{"value":4}"#,
            "--priority",
            "7",
            "--max-attempts",
            "2",
        ],
    );
    assert!(out.starts_with("enqueued run "), "{out}");
    let id: i64 = out["enqueued run ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let id = RunId::new(id);
    wait_status(&admin, id, RunStatus::Completed);
    let run = admin.run(id).unwrap();
    assert_eq!(run.result.as_deref(), Some("8"));
    assert_eq!(run.priority, 7);
    assert_eq!(run.max_attempts, 2);

    // Later, by time or by delay: the run waits for it.
    let at = SystemClock.now() + time::Duration::hours(2);
    let at = at.replace_nanosecond(0).unwrap();
    let later = json(
        &db.path,
        &[
            "enqueue",
            "double",
            "--payload",
            r#"{"value":1}"#,
            "--at",
            &at.format(&Rfc3339).unwrap(),
        ],
    );
    let later = admin
        .run(RunId::new(later["id"].as_i64().unwrap()))
        .unwrap();
    assert_eq!(later.scheduled_at, at);
    assert_eq!(later.status, RunStatus::Pending);
    let delayed = json(
        &db.path,
        &[
            "enqueue",
            "double",
            "--payload",
            r#"{"value":1}"#,
            "--delay",
            "1h",
        ],
    );
    let delayed = admin
        .run(RunId::new(delayed["id"].as_i64().unwrap()))
        .unwrap();
    let wait = delayed.scheduled_at - delayed.created_at;
    assert!(
        (time::Duration::minutes(59)..=time::Duration::minutes(61)).contains(&wait),
        "{wait}"
    );

    // A unique key held by an unfinished run: reported, nothing new.
    let first = json(
        &db.path,
        &[
            "enqueue",
            "double",
            "--payload",
            "{\"value\":1}",
            "--delay",
            "1h",
            "--unique-key",
            "k1",
        ],
    );
    let second = json(
        &db.path,
        &[
            "enqueue",
            "double",
            "--payload",
            "{\"value\":1}",
            "--unique-key",
            "k1",
        ],
    );
    assert_eq!(second["created"], false);
    assert_eq!(second["id"], first["id"]);

    // --force writes a type no host runs; it stays pending.
    let forced = json(
        &db.path,
        &["enqueue", "mystery", "--payload", "null", "--force"],
    );
    let forced = RunId::new(forced["id"].as_i64().unwrap());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(status_of(&admin, forced), RunStatus::Pending);
    assert_eq!(total_runs(&admin), before + 5);
    scheduler.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn maintenance_run_does_one_pass_now_and_prints_what_it_did() {
    let db = TestDb::new();
    // The host's own maintenance is off, so every change below is the CLI's.
    let scheduler = builder(&db)
        .register::<Double>()
        .maintenance(MaintenanceConfig::default().enabled(false))
        .start()
        .unwrap();
    let admin = admin_of(&db);
    let old = scheduler.enqueue(Double { value: 1 }).unwrap().id;
    let fresh = scheduler.enqueue(Double { value: 2 }).unwrap().id;
    wait_status(&admin, old, RunStatus::Completed);
    wait_status(&admin, fresh, RunStatus::Completed);
    // One completed run from two days ago: past the 24 h retention.
    let two_days = 2 * 86_400_000_i64;
    db.raw()
        .execute(
            "UPDATE task_runs SET created_at = created_at - ?1, scheduled_at = scheduled_at - ?1,
                    started_at = started_at - ?1, finished_at = finished_at - ?1 WHERE id = ?2",
            rusqlite::params![two_days, old.get()],
        )
        .unwrap();
    // A dead process: its heartbeat two hours old, holding an expired lease on a run.
    let long_ago = SystemClock.now() - time::Duration::hours(2);
    let long_ago_host = HostInstant::from_millis(HostInstant::now().millis() - 7_200_000);
    // A dead process cannot be made through the public API: the storage layer sets it up.
    let store = Store::open(
        StoreOptions::file(&db.path)
            .create_if_missing(false)
            .migrate(false),
    )
    .unwrap();
    let (ghost, orphan) = store
        .write(|tx| {
            let ghost = tx.register_worker(
                &NewWorker::new("ghost", "elsewhere", 1),
                long_ago,
                long_ago_host,
            )?;
            let orphan = tx
                .insert_run(&NewRun::new("orphan", "{}", long_ago), long_ago)?
                .id;
            let claimed = tx.claim_runs(
                ghost,
                1,
                long_ago,
                long_ago_host,
                Duration::from_secs(10),
                &JobTypeFilter::only(["orphan"]),
            )?;
            assert_eq!(claimed.len(), 1);
            Ok((ghost, orphan))
        })
        .unwrap();

    let only = json(&db.path, &["maintenance", "run", "--only", "runs"]);
    let passes = only.as_array().unwrap();
    assert_eq!(passes.len(), 1);
    assert_eq!(passes[0]["service"], "runs");
    assert_eq!(passes[0]["counts"]["completed"], 1);
    assert_eq!(passes[0]["counts"]["deleted"], 1);
    assert!(admin.run(old).is_err_and(|e| e.is_not_found()));
    assert_eq!(status_of(&admin, fresh), RunStatus::Completed);
    // The other services did not run.
    assert_eq!(status_of(&admin, orphan), RunStatus::Running);
    assert_eq!(worker_status(&admin, ghost), WorkerStatus::Active);

    let out = ok(&db.path, &["maintenance", "run"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("service"), "{out}");
    assert!(
        lines[1].starts_with("workers") && lines[1].contains("offline 1"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("leases") && lines[2].contains("requeued 1"),
        "{out}"
    );
    assert!(lines[3].starts_with("tokens"), "{out}");
    assert!(
        lines[4].starts_with("runs") && lines[4].contains("deleted 0"),
        "{out}"
    );
    assert_eq!(worker_status(&admin, ghost), WorkerStatus::Offline);
    let orphan = admin.run_details(orphan).unwrap();
    assert_eq!(orphan.run.status, RunStatus::Pending);
    assert!(orphan.lease.is_none());
    // The live host was not taken for dead.
    assert_eq!(
        worker_status(&admin, scheduler.worker_id()),
        WorkerStatus::Active
    );
    // Each pass is recorded as the maintenance thread records its own.
    let history = admin.maintenance_history().unwrap();
    let (_, recorded) = history
        .iter()
        .find(|(service, _)| *service == Service::LeaseRescue)
        .unwrap();
    assert!(recorded.contains("\"requeued\":1"), "{recorded}");
    scheduler.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn every_read_command_prints_json_that_parses() {
    let s = scene("cli-json", "cli-json-flaky");
    let db = &s.db.path;
    let id = s.gate.to_string();
    for args in [
        &["migrate", "status"][..],
        &["runs", "list"],
        &["runs", "list", "--status", "running"],
        &["runs", "show", &id],
        &["tasks", "list"],
        &["tasks", "list", "--all"],
        &["workers", "list"],
        &["workers", "list", "--all"],
        &["deps", &id],
        &["deps", &id, "--graph"],
        &["stats"],
        &["maintenance", "run", "--only", "tokens"],
        &["migrate", "up", "--dry-run"],
    ] {
        let v = json(db, args);
        assert!(v.is_object() || v.is_array(), "{args:?}: {v}");
    }
    open_gate("cli-json");
    wait_status(&s.admin, s.after, RunStatus::Completed);
    s.scheduler.shutdown(Duration::from_secs(5)).unwrap();
}
