//! The operator CLI on a PostgreSQL database (`--db postgres://…`), on the test
//! cluster: migrations, an enqueue, the run's listing, pause and resume, each through
//! the binary; and a URL's password never appears in what it prints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output};

use common::postgres::fresh_db;

fn cli(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_runloom"))
        .args(["--db", url])
        .args(args)
        .env_remove("RUNLOOM_DB")
        .output()
        .expect("the runloom binary starts")
}

fn ok(url: &str, args: &[&str]) -> String {
    let out = cli(url, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_cli_migrates_enqueues_lists_and_pauses_a_postgres_database() {
    let Some(db) = fresh_db() else { return };
    let url = db.uri();
    let plan = ok(&url, &["migrate", "up", "--dry-run"]);
    assert!(plan.contains("0001"), "{plan}");
    ok(&url, &["migrate", "up"]);
    let status = ok(&url, &["--json", "migrate", "status"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["version"], status["latest"], "{status}");
    assert!(status["latest"].as_u64().unwrap() >= 3, "{status}");

    let enqueued = ok(
        &url,
        &[
            "--json",
            "enqueue",
            "report",
            "--payload",
            r#"{"day":1}"#,
            "--force",
        ],
    );
    let enqueued: serde_json::Value = serde_json::from_str(&enqueued).unwrap();
    let id = enqueued["id"].as_i64().unwrap();
    let listed: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM task_runs WHERE id = $1 AND job_type = 'report'",
            &[&id],
        )
        .unwrap()
        .get(0);
    assert_eq!(listed, 1, "the run is in the database");
    let runs = ok(&url, &["runs", "list"]);
    assert!(runs.contains("report"), "{runs}");

    ok(&url, &["pause"]);
    let paused: String = db
        .client()
        .query_one("SELECT value FROM system_state WHERE key = 'paused'", &[])
        .unwrap()
        .get(0);
    assert_eq!(paused, "1");
    ok(&url, &["resume"]);
}

#[test]
fn a_urls_password_is_never_printed() {
    let out = cli(
        "postgres://jobs:s3cret-pw@%2Fno-such-folder:5432/jobs?connect_timeout=2",
        &["stats"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("s3cret-pw"), "{err}");
    assert!(err.contains("postgres://jobs:***@"), "{err}");
}
