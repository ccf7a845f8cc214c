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
    let out = Command::new(example(name))
        .current_dir(dir)
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
fn storage_tour_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), "storage_tour");
    assert!(out.contains("is completed"), "{out}");
}
