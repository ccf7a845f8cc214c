//! Runs every example binary (built by `cargo test` before the tests run) in a fresh
//! folder, twice where it matters, so none of them can rot.

use std::{path::PathBuf, process::Command};

/// `target/<profile>/examples/<name>`, next to this test's own binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    profile_dir.join("examples").join(name)
}

fn run_in(dir: &std::path::Path, name: &str) -> String {
    run_on(dir, name, None)
}

/// Runs example `name` in `dir`, on the database `db` names (`RUNLOOM_DB`) if any.
fn run_on(dir: &std::path::Path, name: &str, db: Option<&str>) -> String {
    let mut cmd = Command::new(example(name));
    cmd.current_dir(dir).env_remove("RUNLOOM_DB");
    if let Some(db) = db {
        cmd.env("RUNLOOM_DB", db);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start example {name}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "example {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn quickstart_runs_to_completion_twice_on_the_default_database() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_in(dir.path(), "quickstart");
    assert!(
        first.contains("enqueued 4 runs and a schedule every 2 s"),
        "{first}"
    );
    assert!(
        first.contains("send_invoice attempt 1 failed (mail server timed out); retrying"),
        "{first}"
    );
    assert!(
        first.contains("build_report     completed      3         3"),
        "{first}"
    );
    assert!(
        first.contains("send_invoice     completed      1         2"),
        "{first}"
    );
    assert!(first.matches("[metrics] collected").count() >= 3, "{first}");
    assert!(first.contains("0 running, 0 leases left"), "{first}");
    assert!(dir.path().join("scheduler.db").exists());
    let seconds: f64 = first
        .split("shut down after ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    assert!(seconds < 30.0, "took {seconds} s");
    // Again, on the same database: no error, and the earlier runs are still there.
    let second = run_in(dir.path(), "quickstart");
    assert!(
        second.contains("send_invoice     completed      1         2"),
        "{second}"
    );
    assert!(second.contains("0 running, 0 leases left"), "{second}");
}

#[test]
fn quickstart_runs_on_postgres_when_runloom_db_is_a_url() {
    let Some(pg) = runloom_testkit::postgres::fresh_db() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = run_on(dir.path(), "quickstart", Some(&pg.uri()));
        assert!(
            out.contains("enqueued 4 runs and a schedule every 2 s into PostgreSQL"),
            "{out}"
        );
        assert!(
            out.contains("build_report     completed      3         3"),
            "{out}"
        );
        assert!(out.contains("0 running, 0 leases left"), "{out}");
    }
    // Nothing went to a file.
    assert!(!dir.path().join("scheduler.db").exists());
    let runs: i64 = pg
        .client()
        .query_one(
            "SELECT count(*) FROM task_runs WHERE job_type = 'build_report'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(runs, 6);
}

#[test]
fn cron_shows_each_misfire_policy_after_the_downtime() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), "cron");
    assert!(
        out.contains("every-minute-run-once  07:59 08:00 08:01"),
        "{out}"
    );
    assert!(
        out.contains("RunOnce: 1 run(s) for the missed hour: 09:01"),
        "{out}"
    );
    assert!(
        out.contains("RunAll:  10 run(s) for the missed hour: 08:52"),
        "{out}"
    );
    assert!(out.contains("Skip:    0 run(s)"), "{out}");
    assert!(
        out.contains("2026-03-29 7:00:00.0Z"),
        "09:00 Paris summer time: {out}"
    );
}

#[test]
fn multi_process_finishes_the_runs_of_the_killed_process() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), "multi_process");
    assert!(out.contains("killed process"), "{out}");
    assert!(out.contains("taken over"), "{out}");
    assert!(out.contains("runs lost: 0"), "{out}");
    assert!(!out.contains("failed"), "{out}");
}

#[test]
fn shutdown_releases_and_the_next_start_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), "shutdown");
    assert!(
        out.contains("2 finished in the grace period, 3 released"),
        "{out}"
    );
    assert!(out.contains("0 stuck"), "{out}");
    assert!(out.contains("released: released at shutdown"), "{out}");
    assert!(out.contains("each with one counted attempt"), "{out}");
}

#[test]
fn dependencies_shows_upstream_failed_and_a_recurring_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), "dependencies");
    assert!(
        out.contains("transform apac   failed            2"),
        "{out}"
    );
    assert!(
        out.contains("load             cancelled         0  upstream_failed"),
        "{out}"
    );
    assert!(
        out.contains("report           cancelled         0  upstream_failed"),
        "{out}"
    );
    assert!(
        out.contains("audit            completed         1"),
        "{out}"
    );
    assert!(
        out.matches("[monitor] cron occurrence").count() >= 3,
        "{out}"
    );
    // Run again on the same database: it works and leaves no schedule behind.
    let again = run_in(dir.path(), "dependencies");
    assert!(again.contains("load             cancelled"), "{again}");
}

#[test]
fn admin_tour_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), "admin_tour");
    assert!(
        out.contains("is completed with result \"hello, world\""),
        "{out}"
    );
    assert!(out.contains("nobody to greet"), "{out}");
    assert!(out.contains("refused: unknown job type"), "{out}");
    assert!(out.contains("paused now: true"), "{out}");
    assert!(out.contains("resumed now: true"), "{out}");
    assert!(out.contains("retried 1 failed run(s), 0 refused"), "{out}");
    assert!(out.contains("is failed again after its retry"), "{out}");
    // A second run on the same file migrates nothing and still works.
    let again = run_in(dir.path(), "admin_tour");
    assert!(again.contains("(0 migration(s) applied now)"), "{again}");
}

/// The operator binary, `target/<profile>/scheduler`: `cargo test --workspace` builds it
/// (the `cli` feature is on in this workspace); a lone `cargo test -p runloom-examples`
/// does not, so build it then.
fn operator_cli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join("runloom");
    if !bin.exists() {
        let mut build = Command::new(env!("CARGO"));
        build.args([
            "build",
            "-p",
            "runloom",
            "--features",
            "cli",
            "--bin",
            "runloom",
        ]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        assert!(
            build.status().unwrap().success(),
            "building the runloom binary"
        );
    }
    bin
}

/// Runs the operator CLI in `dir`; returns (success, stdout, stderr).
fn cli_in(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(operator_cli())
        .current_dir(dir)
        .env_remove("RUNLOOM_DB")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cli_ok(dir: &std::path::Path, args: &[&str]) -> String {
    let (ok, stdout, stderr) = cli_in(dir, args);
    assert!(ok, "scheduler {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

#[test]
fn every_cli_command_works_on_the_database_quickstart_leaves() {
    let dir = tempfile::tempdir().unwrap();
    run_in(dir.path(), "quickstart");
    let d = dir.path();
    // The default database is ./scheduler.db, the one the quickstart used.
    let status = cli_ok(d, &["migrate", "status"]);
    assert!(status.contains("version   9 of 9"), "{status}");
    let up = cli_ok(d, &["migrate", "up", "--dry-run"]);
    assert!(up.contains("nothing to do"), "{up}");
    let down = cli_ok(d, &["migrate", "down", "--to", "6", "--dry-run"]);
    assert!(down.contains("would revert 0009"), "{down}");
    assert!(down.contains("would revert 0007"), "{down}");
    assert_eq!(
        cli_ok(d, &["--json", "migrate", "status"]),
        cli_ok(d, &["migrate", "status", "--json"]),
        "the schema was left as it was by the dry runs"
    );

    let runs = cli_ok(d, &["runs", "list"]);
    for job in ["send_invoice", "build_report", "collect_metrics"] {
        assert!(runs.contains(job), "{runs}");
    }
    let listed: serde_json::Value = serde_json::from_str(&cli_ok(
        d,
        &["runs", "list", "--json", "--status", "completed"],
    ))
    .unwrap();
    let listed = listed.as_array().unwrap();
    assert!(listed.len() >= 7, "{listed:?}");
    let id_of = |job: &str| {
        listed
            .iter()
            .filter(|r| r["job_type"] == job)
            .map(|r| r["id"].as_i64().unwrap())
            .min()
            .unwrap()
            .to_string()
    };
    let invoice = id_of("send_invoice");
    let shown = cli_ok(d, &["runs", "show", &invoice]);
    assert!(shown.contains("mail server timed out"), "{shown}");
    let first_step = id_of("build_report");
    let deps = cli_ok(d, &["deps", &first_step]);
    assert!(deps.contains("downstream"), "{deps}");
    cli_ok(d, &["deps", &first_step, "--graph"]);

    // The quickstart removes its schedule as it exits: `--all` shows the deleted row.
    let tasks = cli_ok(d, &["tasks", "list", "--all"]);
    assert!(tasks.contains("collect_metrics"), "{tasks}");
    let workers = cli_ok(d, &["workers", "list", "--all"]);
    assert!(workers.contains("offline"), "{workers}");
    let queues = cli_ok(d, &["queues", "pause", "default"]);
    assert!(queues.contains("queue default paused"), "{queues}");
    let listed: serde_json::Value =
        serde_json::from_str(&cli_ok(d, &["--json", "queues", "list"])).unwrap();
    assert_eq!(listed[0]["name"], "default", "{listed}");
    assert_eq!(listed[0]["paused"], true, "{listed}");
    let resumed = cli_ok(d, &["queues", "resume", "default"]);
    assert!(resumed.contains("queue default resumed"), "{resumed}");
    assert!(cli_ok(d, &["queues", "list"]).contains("default"));
    let stats = cli_ok(d, &["stats"]);
    assert!(stats.contains("completed"), "{stats}");
    cli_ok(d, &["watch", "--count", "1", "--interval-ms", "10"]);

    assert!(cli_ok(d, &["pause"]).contains("pause"));
    assert!(cli_ok(d, &["stats"]).contains("claiming: PAUSED"));
    cli_ok(d, &["resume"]);
    let maint = cli_ok(d, &["maintenance", "run"]);
    assert!(maint.contains("runs"), "{maint}");

    let enqueued: serde_json::Value = serde_json::from_str(&cli_ok(
        d,
        &[
            "enqueue",
            "send_invoice",
            "--payload",
            r#"{"invoice":"INV-CLI"}"#,
            "--delay",
            "1h",
            "--priority",
            "5",
            "--json",
        ],
    ))
    .unwrap();
    let run = enqueued["id"].as_i64().unwrap().to_string();
    cli_ok(d, &["runs", "cancel", &run]);
    cli_ok(d, &["runs", "retry", &run]);
    let again: serde_json::Value =
        serde_json::from_str(&cli_ok(d, &["runs", "show", &run, "--json"])).unwrap();
    assert_eq!(again["status"], "pending", "{again}");
    cli_ok(d, &["runs", "cancel", &run]);

    // Refusals change nothing and say why in one line.
    let (ok, _, err) = cli_in(d, &["runs", "show", "999999"]);
    assert!(!ok && err.lines().count() == 1, "{err}");
    let (ok, _, err) = cli_in(d, &["enqueue", "send_invoce", "--payload", "{}"]);
    assert!(!ok && err.contains("unknown job type"), "{err}");

    // The quickstart still runs on the database the CLI worked on.
    let third = run_in(d, "quickstart");
    assert!(third.contains("0 running, 0 leases left"), "{third}");
}

#[test]
fn the_service_signs_up_users_over_http_and_welcomes_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), "service");
    assert!(out.contains("signed up ann@example.com"), "{out}");
    assert!(
        out.contains("refused a bad address: not an email address"),
        "{out}"
    );
    assert!(
        out.contains("welcome run 1 completed: hello@example.com -> ann@example.com"),
        "{out}"
    );
    assert!(
        out.contains("users welcomed: 2 (each exactly once)"),
        "{out}"
    );
    // The job's own tracing event sits in its attempt's span.
    assert!(
        out.contains("runloom.attempt{run_id=1 job_type=\"welcome\" attempt=1}"),
        "{out}"
    );
    assert!(
        out.contains("metrics: runloom_runs_completed_total{job_type=\"welcome\"} 2"),
        "{out}"
    );
    assert!(
        out.contains("metrics: runloom_runs{status=\"completed\"} 2"),
        "{out}"
    );
    assert!(dir.path().join("service.db").exists());
}
