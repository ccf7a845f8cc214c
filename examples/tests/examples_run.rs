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
    assert!(first.contains("enqueued 7 runs"), "{first}");
    assert!(
        first.contains("send_invoice         completed      1         2"),
        "{first}"
    );
    assert!(
        first.contains("parse_legacy_file    failed         1         2"),
        "{first}"
    );
    assert!(first.contains("0 running, 0 leases left"), "{first}");
    assert!(dir.path().join("scheduler.db").exists());
    let second = run_in(dir.path(), "quickstart");
    assert!(second.contains("database now holds 14 runs"), "{second}");
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
