//! Every SQL statement of the crate, embedded from the files under `sql/` at compile
//! time: this is the only place SQL text enters the Rust code. Statements are single
//! statements (so `prepare_cached` can hold them), named `<table>_<verb>.sql`, and bind
//! every value, time included, as a named parameter. The package's `sql` is a link to
//! the workspace's `sql/` folder, so the files are read from inside the package and
//! `cargo package` ships them.

macro_rules! statements {
    ($($name:ident => $path:literal,)*) => {
        $(
            #[doc = concat!("`sql/", $path, "`")]
            pub(crate) const $name: &str =
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/", $path));
        )*

        /// Every embedded statement with its path under `sql/`, so a test can prepare
        /// each against a migrated database and compare the list with the folder.
        #[cfg(test)]
        pub(crate) const ALL: &[(&str, &str)] = &[$(($path, $name)),*];
    };
}

statements! {
    DEPS_COUNT_UPSTREAM => "queries/deps_count_upstream.sql",
    DEPS_DOWNSTREAM_OF => "queries/deps_downstream_of.sql",
    DEPS_EXISTS => "queries/deps_exists.sql",
    DEPS_GRAPH_OF => "queries/deps_graph_of.sql",
    DEPS_HAS_UNRESOLVED_DOWNSTREAM => "queries/deps_has_unresolved_downstream.sql",
    DEPS_INSERT => "queries/deps_insert.sql",
    DEPS_RESOLVE_EDGES => "queries/deps_resolve_edges.sql",
    DEPS_SET_RESOLVED => "queries/deps_set_resolved.sql",
    DEPS_UPSTREAM_IDS => "queries/deps_upstream_ids.sql",
    DEPS_UPSTREAM_OF => "queries/deps_upstream_of.sql",
    LOCKS_DELETE => "queries/locks_delete.sql",
    LOCKS_GET => "queries/locks_get.sql",
    LOCKS_INSERT => "queries/locks_insert.sql",
    LOCKS_LIST_FOR_WORKER => "queries/locks_list_for_worker.sql",
    LOCKS_RENEW => "queries/locks_renew.sql",
    MIGRATIONS_CREATE_TABLE => "queries/migrations_create_table.sql",
    MIGRATIONS_DELETE => "queries/migrations_delete.sql",
    MIGRATIONS_INSERT => "queries/migrations_insert.sql",
    MIGRATIONS_LIST => "queries/migrations_list.sql",
    MIGRATIONS_TABLE_EXISTS => "queries/migrations_table_exists.sql",
    RUNS_BLOCK_BY => "queries/runs_block_by.sql",
    RUNS_CANCEL_FENCED => "queries/runs_cancel_fenced.sql",
    RUNS_CANCEL_REQUESTED_FOR_WORKER => "queries/runs_cancel_requested_for_worker.sql",
    RUNS_CANCEL_UPSTREAM_FAILED => "queries/runs_cancel_upstream_failed.sql",
    RUNS_CANCEL_WAITING => "queries/runs_cancel_waiting.sql",
    RUNS_CLAIM_GROUP => "queries/runs_claim_group.sql",
    RUNS_CLAIM_NEXT_PRIORITY => "queries/runs_claim_next_priority.sql",
    RUNS_COMPLETE_FENCED => "queries/runs_complete_fenced.sql",
    RUNS_COUNT_BY_STATUS => "queries/runs_count_by_status.sql",
    RUNS_IDLE => "queries/runs_idle.sql",
    RUNS_UNFINISHED_BY_TYPE => "queries/runs_unfinished_by_type.sql",
    RUNS_FAIL_FENCED => "queries/runs_fail_fenced.sql",
    RUNS_FIND_LIVE_BY_UNIQUE_KEY => "queries/runs_find_live_by_unique_key.sql",
    RUNS_GET => "queries/runs_get.sql",
    RUNS_GET_STATUS => "queries/runs_get_status.sql",
    RUNS_INSERT => "queries/runs_insert.sql",
    RUNS_INSERT_OCCURRENCE => "queries/runs_insert_occurrence.sql",
    RUNS_LIST => "queries/runs_list.sql",
    RUNS_NEXT_DUE_IN_PRIORITY => "queries/runs_next_due_in_priority.sql",
    RUNS_RELEASE_FENCED => "queries/runs_release_fenced.sql",
    RUNS_SNOOZE_FENCED => "queries/runs_snooze_fenced.sql",
    RUNS_RELEASE_LAST_UPSTREAM => "queries/runs_release_last_upstream.sql",
    RUNS_RELEASE_ONE_UPSTREAM => "queries/runs_release_one_upstream.sql",
    RUNS_REQUEST_CANCEL => "queries/runs_request_cancel.sql",
    RUNS_RETRY_FENCED => "queries/runs_retry_fenced.sql",
    RUNS_RESTORE_HISTORY => "queries/runs_restore_history.sql",
    RUNS_RETRY_FINISHED => "queries/runs_retry_finished.sql",
    RUNS_UPDATE_WAITING_OCCURRENCES => "queries/runs_update_waiting_occurrences.sql",
    RUNS_WAITING_OCCURRENCES => "queries/runs_waiting_occurrences.sql",
    SAVEPOINT_BEGIN => "queries/savepoint_begin.sql",
    SAVEPOINT_RELEASE => "queries/savepoint_release.sql",
    SAVEPOINT_ROLLBACK => "queries/savepoint_rollback.sql",
    SETTLE_QUEUE_ADD => "queries/settle_queue_add.sql",
    SETTLE_QUEUE_ANY => "queries/settle_queue_any.sql",
    SETTLE_QUEUE_TAKE => "queries/settle_queue_take.sql",
    SCHEMA_CLASHING_OBJECT => "queries/schema_clashing_object.sql",
    SCHEMA_DATA_VERSION => "queries/schema_data_version.sql",
    SCHEMA_OBJECTS => "queries/schema_objects.sql",
    SCHEMA_PROBE => "queries/schema_probe.sql",
    SCHEMA_QUICK_CHECK => "queries/schema_quick_check.sql",
    SCHEMA_WAL_CHECKPOINT => "queries/schema_wal_checkpoint.sql",
    SCHEMA_WAL_TRUNCATE => "queries/schema_wal_truncate.sql",
    QUEUES_LIST => "queries/queues_list.sql",
    QUEUES_PAUSED => "queries/queues_paused.sql",
    QUEUES_SET_PAUSED => "queries/queues_set_paused.sql",
    STATE_GET => "queries/state_get.sql",
    STATE_SET => "queries/state_set.sql",
    STATE_TAKE_WRITE_LOCK => "queries/state_take_write_lock.sql",
    TASKS_ADVANCE_SCHEDULE => "queries/tasks_advance_schedule.sql",
    TASKS_DUE_SCHEDULES => "queries/tasks_due_schedules.sql",
    TASKS_GET => "queries/tasks_get.sql",
    TASKS_GET_BY_NAME => "queries/tasks_get_by_name.sql",
    TASKS_INSERT => "queries/tasks_insert.sql",
    TASKS_LIST => "queries/tasks_list.sql",
    TASKS_NEXT_SCHEDULE_DUE => "queries/tasks_next_schedule_due.sql",
    TASKS_SOFT_DELETE => "queries/tasks_soft_delete.sql",
    TASKS_UPDATE => "queries/tasks_update.sql",
    TASKS_VERSION => "queries/tasks_version.sql",
    TOKENS_GET => "queries/tokens_get.sql",
    TOKENS_REVOKE => "queries/tokens_revoke.sql",
    VIEWS_ACTIVE_TASKS => "queries/views_active_tasks.sql",
    VIEWS_ACTIVE_WORKERS => "queries/views_active_workers.sql",
    VIEWS_EXPIRED_LEASES => "queries/views_expired_leases.sql",
    VIEWS_PENDING_TASK_RUNS => "queries/views_pending_task_runs.sql",
    VIEWS_PERFORMANCE_METRICS => "queries/views_performance_metrics.sql",
    VIEWS_RUNS_BY_STATUS => "queries/views_runs_by_status.sql",
    VIEWS_STALE_WORKERS => "queries/views_stale_workers.sql",
    VIEWS_SYSTEM_HEALTH => "queries/views_system_health.sql",
    VIEWS_TASK_EXECUTION_STATS => "queries/views_task_execution_stats.sql",
    VIEWS_THROUGHPUT_LAST_HOUR => "queries/views_throughput_last_hour.sql",
    WORKERS_GET => "queries/workers_get.sql",
    WORKERS_HEARTBEAT => "queries/workers_heartbeat.sql",
    WORKERS_INSERT => "queries/workers_insert.sql",
    WORKERS_LIST => "queries/workers_list.sql",
    WORKERS_MARK_OFFLINE => "queries/workers_mark_offline.sql",
    WORKERS_REACTIVATE => "queries/workers_reactivate.sql",
    WORKERS_SET_STATUS => "queries/workers_set_status.sql",
    LEASES_EXPIRED_ELSEWHERE => "maintenance/leases_expired_elsewhere.sql",
    LEASES_EXPIRED_IN_DOMAIN => "maintenance/leases_expired_in_domain.sql",
    LEASES_RELEASE_FOR_WORKER => "maintenance/leases_release_for_worker.sql",
    RUNS_RESCUE_FENCED => "maintenance/runs_rescue_fenced.sql",
    RUNS_ARCHIVE_COPY => "maintenance/runs_archive_copy.sql",
    RUNS_DELETE_FINISHED => "maintenance/runs_delete_finished.sql",
    TOKENS_PURGE_EXPIRED => "maintenance/tokens_purge_expired.sql",
    WORKERS_MARK_STALE_OFFLINE => "maintenance/workers_mark_stale_offline.sql",
}

crate::backend::migrations::embedded_migrations! {
    MIGRATIONS, "migrations";
    1 "0001" "initial_schema",
    2 "0002" "indexes_optimization",
    3 "0003" "triggers_and_constraints",
    4 "0004" "maintenance_procedures",
    5 "0005" "worker_promises",
    6 "0006" "settle_queue",
    7 "0007" "workers_clock_domain",
    8 "0008" "snoozes",
    9 "0009" "queues",
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::store::{Store, StoreOptions};

    /// A freshly migrated in-memory store.
    fn migrated() -> Store {
        Store::open(StoreOptions::memory()).expect("an in-memory store opens and migrates")
    }

    fn files_in(folder: &str) -> BTreeSet<String> {
        let dir = format!("{}/sql/{folder}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_dir(&dir)
            .expect("the sql folder is readable")
            .map(|e| {
                let e = e.expect("the sql folder lists");
                format!("{folder}/{}", e.file_name().to_string_lossy())
            })
            .filter(|n| n.ends_with(".sql"))
            .collect()
    }

    #[test]
    fn every_sql_file_is_embedded_and_nothing_else() {
        let mut on_disk = files_in("queries");
        on_disk.extend(files_in("maintenance"));
        let embedded: BTreeSet<String> = ALL.iter().map(|(p, _)| (*p).to_owned()).collect();
        assert_eq!(embedded, on_disk);
        let migrations = files_in("migrations");
        assert_eq!(migrations.len(), MIGRATIONS.len() * 2);
    }

    #[test]
    fn every_statement_prepares_against_the_migrated_schema() {
        let store = migrated();
        let conn = store.inner.writer.lock();
        for (path, text) in ALL {
            if *path == "queries/migrations_create_table.sql" {
                continue; // DDL, run with execute_batch
            }
            conn.prepare(text)
                .unwrap_or_else(|e| panic!("sql/{path} does not prepare: {e}"));
        }
    }

    /// The hot path binds these statements by position (and reads the claim's columns
    /// by position): their parameters and columns must stay in this order.
    #[test]
    fn statements_bound_by_position_keep_their_order() {
        let store = migrated();
        let conn = store.inner.writer.lock();
        let params = |text: &str| -> Vec<String> {
            let stmt = conn.prepare(text).expect("the statement prepares");
            (1..=stmt.parameter_count())
                .map(|i| stmt.parameter_name(i).expect("named parameter").to_owned())
                .collect()
        };
        let cases: [(&str, &[&str]); 5] = [
            (
                RUNS_INSERT,
                &[
                    ":task_id",
                    ":job_type",
                    ":payload",
                    ":priority",
                    ":max_attempts",
                    ":timeout_ms",
                    ":backoff_ms",
                    ":unique_key",
                    ":scheduled_at",
                    ":now",
                    ":queue",
                ],
            ),
            (
                LOCKS_INSERT,
                &[
                    ":run_id",
                    ":worker_id",
                    ":token",
                    ":now",
                    ":expires_at",
                    ":expires_mono",
                ],
            ),
            (
                RUNS_COMPLETE_FENCED,
                &[
                    ":result",
                    ":started_at",
                    ":duration_ms",
                    ":now",
                    ":id",
                    ":token",
                ],
            ),
            (LOCKS_DELETE, &[":run_id", ":token"]),
            (DEPS_HAS_UNRESOLVED_DOWNSTREAM, &[":id"]),
        ];
        for (text, expected) in cases {
            assert_eq!(params(text), expected, "{text}");
        }
        let claim = conn.prepare(RUNS_CLAIM_GROUP).expect("the claim prepares");
        assert_eq!(
            claim.column_names(),
            [
                "id",
                "task_id",
                "job_type",
                "payload",
                "attempt",
                "max_attempts",
                "timeout_ms",
                "backoff_ms",
                "priority",
                "scheduled_at",
                "unique_key",
                "lease_token",
                "snoozes",
                "queue"
            ]
        );
    }

    /// The plan of a statement, one line per step.
    fn plan(conn: &rusqlite::Connection, text: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {text}"))
            .expect("the statement prepares");
        let n = stmt.parameter_count();
        let params: Vec<rusqlite::types::Value> = vec![rusqlite::types::Value::Integer(1); n];
        stmt.query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .and_then(|rows| rows.collect::<Result<_, _>>())
        .expect("the plan reads")
    }

    /// The statements every claim, completion, heartbeat, unblock and maintenance batch
    /// runs must seek through indexes: a full scan of task_runs would make their cost grow
    /// with history.
    #[test]
    fn hot_path_statements_never_scan_a_table() {
        let store = migrated();
        let conn = store.inner.writer.lock();
        let hot = [
            RUNS_INSERT,
            RUNS_FIND_LIVE_BY_UNIQUE_KEY,
            RUNS_CLAIM_NEXT_PRIORITY,
            RUNS_CLAIM_GROUP,
            RUNS_NEXT_DUE_IN_PRIORITY,
            LOCKS_INSERT,
            LOCKS_RENEW,
            LOCKS_DELETE,
            RUNS_COMPLETE_FENCED,
            RUNS_RETRY_FENCED,
            RUNS_FAIL_FENCED,
            RUNS_CANCEL_FENCED,
            RUNS_RELEASE_FENCED,
            RUNS_SNOOZE_FENCED,
            RUNS_CANCEL_REQUESTED_FOR_WORKER,
            RUNS_RELEASE_LAST_UPSTREAM,
            RUNS_RELEASE_ONE_UPSTREAM,
            DEPS_HAS_UNRESOLVED_DOWNSTREAM,
            DEPS_RESOLVE_EDGES,
            DEPS_UPSTREAM_OF,
            DEPS_DOWNSTREAM_OF,
            RUNS_COUNT_BY_STATUS,
            RUNS_IDLE,
            QUEUES_PAUSED,
            LEASES_EXPIRED_IN_DOMAIN,
            LEASES_EXPIRED_ELSEWHERE,
            RUNS_RESCUE_FENCED,
            LEASES_RELEASE_FOR_WORKER,
            TOKENS_PURGE_EXPIRED,
            RUNS_ARCHIVE_COPY,
            RUNS_DELETE_FINISHED,
            WORKERS_MARK_STALE_OFFLINE,
        ];
        // The workers table is one row per process, but it keeps the rows of every
        // process that ever ran: the rescue's batches, which can run many times in one
        // pass, must not read all of it.
        let must_seek_workers = [LEASES_EXPIRED_IN_DOMAIN, LEASES_EXPIRED_ELSEWHERE];
        for text in hot {
            let workers_may_scan = !must_seek_workers.contains(&text);
            for step in plan(&conn, text) {
                let not_a_scan = step.contains("USING INDEX")
                    || step.contains("USING COVERING INDEX")
                    || step.contains("CONSTANT ROW")
                    || (workers_may_scan && step.starts_with("SCAN workers"))
                    // Subquery result lists are tiny materialisations.
                    || step.starts_with("SCAN ancestors")
                    || step.contains("LIST SUBQUERY")
                    // The view's own six result rows (each count inside is an index read).
                    || step.starts_with("SCAN runs_by_status")
                    // json_each over the claimer's few job type names.
                    || step.contains("VIRTUAL TABLE")
                    // The queues operators paused: one row per queue ever paused,
                    // operator-sized whatever the runs.
                    || (text == QUEUES_PAUSED && step == "SCAN task_queues")
                    // The idle check: its queues and their priority groups (CTEs of
                    // one row per queue and per group, each found by a seek), and an
                    // EXISTS on the settle queue, which stops at its first row.
                    || (text == RUNS_IDLE
                        && (step == "SCAN g"
                            || step == "SCAN q"
                            || step == "SCAN task_settle_queue"));
                let scans_table = step.starts_with("SCAN ") && !not_a_scan;
                assert!(!scans_table, "full scan in:\n{text}\nstep: {step}");
            }
        }
    }

    /// Maintenance batches take the oldest `:batch` rows inside a write transaction: they
    /// must walk an index in that order and stop, never gather every candidate and sort
    /// it (with a large backlog that sort is the whole backlog, once per batch).
    #[test]
    fn maintenance_batches_read_in_index_order() {
        let store = migrated();
        let conn = store.inner.writer.lock();
        for text in [
            LEASES_EXPIRED_IN_DOMAIN,
            TOKENS_PURGE_EXPIRED,
            RUNS_DELETE_FINISHED,
            WORKERS_MARK_STALE_OFFLINE,
        ] {
            let steps = plan(&conn, text);
            assert!(
                !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                "sorts its candidates:\n{text}\nplan: {steps:#?}"
            );
        }
    }
}
