//! The hot statements of the PostgreSQL backend stay index scans on a churned table: a
//! real scheduler claims and completes thousands of runs on a throwaway cluster (each
//! leaving dead versions in `task_runs` and `task_locks` behind), with a backlog of
//! delayed runs and finished history beside them, and then the plan of every statement a
//! claim, a completion, a renewal or the rescue runs is read, as the server plans it for
//! the pool's prepared statements (generic plans) and for one execution (custom plans).
//! A reference harness on this machine saw the planner turn the lease delete into a
//! sequential scan of `task_locks` once it filled with dead rows; these would fail then.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{
    jobs::Noop,
    postgres::{PgDb, fresh_db},
    wait_for,
};
use runloom::{EnqueueOptions, RunStatus, Scheduler};

/// A statement file of the PostgreSQL backend, as the binary embeds it.
fn statement(path: &str) -> String {
    let full = format!("{}/sql/postgres/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Every plan node of `plan` (EXPLAIN's JSON) as `(node type, relation)`.
fn nodes(plan: &serde_json::Value, out: &mut Vec<(String, String)>) {
    if let Some(obj) = plan.as_object() {
        if let Some(kind) = obj.get("Node Type").and_then(|v| v.as_str()) {
            let rel = obj
                .get("Relation Name")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            out.push((kind.to_owned(), rel.to_owned()));
        }
        for v in obj.values() {
            nodes(v, out);
        }
    } else if let Some(list) = plan.as_array() {
        for v in list {
            nodes(v, out);
        }
    }
}

/// The plan nodes of `path` executed with `args` (SQL literals), under `mode`
/// (`force_generic_plan` or `force_custom_plan`).
fn plan_of(db: &PgDb, path: &str, args: &str, mode: &str) -> Vec<(String, String)> {
    let mut c = db.client();
    let sql = statement(path);
    let sql = sql.trim().trim_end_matches(';');
    c.batch_execute(&format!(
        "SET plan_cache_mode = {mode}; PREPARE hot AS {sql}"
    ))
    .unwrap_or_else(|e| panic!("{path} prepares: {e:?}"));
    // The simple protocol hands the plan back as text (the column is json).
    let call = if args.is_empty() {
        "hot".to_owned()
    } else {
        format!("hot({args})")
    };
    let messages = c
        .simple_query(&format!("EXPLAIN (FORMAT JSON) EXECUTE {call}"))
        .unwrap_or_else(|e| panic!("{path} is explained: {e:?}"));
    let plan = messages
        .iter()
        .find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{path}: EXPLAIN gave no plan"));
    let text: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let mut out = Vec::new();
    nodes(&text, &mut out);
    out
}

#[test]
fn hot_statements_are_index_scans_after_many_claims_and_completions() {
    let Some(db) = fresh_db() else { return };
    let scheduler = Scheduler::builder()
        .postgres(&db.url)
        .worker_threads(2)
        .poll_interval(Duration::from_millis(20))
        .register::<Noop>()
        .start()
        .unwrap();
    // A backlog that stays pending (due in a day) beside the churn, as a real queue has.
    for _ in 0..500 {
        scheduler
            .enqueue_with(
                Noop,
                EnqueueOptions::new().delay(Duration::from_secs(86_400)),
            )
            .unwrap();
    }
    const RUNS: u64 = 4000;
    for _ in 0..(RUNS / 200) {
        scheduler.enqueue_many((0..200).map(|_| Noop)).unwrap();
    }
    let admin = scheduler.admin();
    assert!(
        wait_for(Duration::from_secs(120), || {
            admin.figures().unwrap().counts.completed >= RUNS
        }),
        "the runs complete: {:?}",
        admin.figures().unwrap().counts
    );
    let counts = admin.figures().unwrap().counts;
    assert_eq!((counts.pending, counts.running), (500, 0));
    let worker = scheduler.worker_id().get();
    scheduler.shutdown(Duration::from_secs(10)).unwrap();

    // Dead versions are there to mislead the planner: the churn left them behind.
    let dead: i64 = db
        .client()
        .query_one(
            "SELECT n_dead_tup + n_tup_del FROM pg_stat_user_tables WHERE relname = 'task_locks'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(dead > 0, "the lease table was churned");

    let now = "(floor(extract(epoch FROM now()) * 1000))::bigint";
    let newest: i64 = db
        .client()
        .query_one("SELECT max(id) FROM task_runs", &[])
        .unwrap()
        .get(0);
    let run = newest.to_string();
    let run = run.as_str();
    let hot: &[(&str, String)] = &[
        (
            "queries/runs_claim_next_priority.sql",
            "100, 'default'".to_owned(),
        ),
        (
            "queries/runs_claim_group.sql",
            format!("{worker}, 0, {now}, 32, NULL, {now} + 30000, 30000, 'default'"),
        ),
        (
            "queries/runs_claim_group.sql",
            format!("{worker}, 0, {now}, 32, ARRAY['noop'], {now} + 30000, 30000, 'default'"),
        ),
        (
            "queries/runs_next_due_in_priority.sql",
            format!("0, {now}, ARRAY['noop'], 'default'"),
        ),
        (
            "queries/runs_complete_fenced.sql",
            format!("'null', NULL, 1, {now}, {run}, 1"),
        ),
        (
            "queries/runs_retry_fenced.sql",
            format!("{run}, 1, {now}, NULL, 1, 'boom', '{{}}', {now}"),
        ),
        (
            "queries/locks_renew.sql",
            format!("{worker}, ARRAY[{run}], ARRAY[1::bigint], {now} + 30000, 30000"),
        ),
        ("queries/locks_list_for_worker.sql", worker.to_string()),
        (
            "queries/runs_cancel_requested_for_worker.sql",
            worker.to_string(),
        ),
        ("queries/workers_heartbeat.sql", format!("{worker}, {now}")),
        ("maintenance/leases_expired.sql", "100".to_owned()),
        (
            "maintenance/runs_rescue_fenced.sql",
            format!(
                "ARRAY[{run}]::bigint[], ARRAY[1]::bigint[], {now}, ARRAY[{now}]::bigint[], \
                 'lease expired'"
            ),
        ),
        (
            "maintenance/leases_delete_rescued.sql",
            format!("ARRAY[{run}]::bigint[], ARRAY[1]::bigint[]"),
        ),
        (
            "maintenance/leases_release_for_worker.sql",
            format!("ARRAY[{worker}]::bigint[], {now}"),
        ),
        ("queries/deps_has_unresolved_downstream.sql", run.to_owned()),
        (
            "queries/deps_with_unresolved_downstream.sql",
            format!("ARRAY[{run}]::bigint[]"),
        ),
        ("queries/runs_count_by_status.sql", String::new()),
        ("queries/runs_idle.sql", now.to_owned()),
        ("queries/queues_list.sql", now.to_owned()),
        ("queries/claim_pauses.sql", String::new()),
        (
            "queries/runs_snooze_fenced.sql",
            format!("{run}, 1, {now}, NULL, 1, {now}"),
        ),
        (
            "maintenance/runs_remove_finished.sql",
            format!("'completed', {now}, 100, 1, {now}"),
        ),
    ];
    for mode in ["force_generic_plan", "force_custom_plan"] {
        for (path, args) in hot {
            let plan = plan_of(&db, path, args, mode);
            let scans: Vec<&(String, String)> = plan
                .iter()
                .filter(|(kind, rel)| {
                    kind == "Seq Scan" && (rel == "task_runs" || rel == "task_locks")
                })
                .collect();
            assert!(
                scans.is_empty(),
                "{path} ({mode}) scans a whole hot table: {plan:?}"
            );
        }
    }
    assert_eq!(
        admin
            .runs(
                &runloom::RunFilter::new()
                    .status(RunStatus::Completed)
                    .limit(10)
            )
            .unwrap()
            .len(),
        10,
        "the completed runs are listed"
    );
}
