//! Every SQL statement of the PostgreSQL backend, embedded from `sql/postgres/` at
//! compile time: the only place its SQL text enters the Rust code. Parameters are
//! positional (`$1`), PostgreSQL's only form; each file says what they are.

macro_rules! statements {
    ($($name:ident => $path:literal,)*) => {
        $(
            #[doc = concat!("`sql/postgres/", $path, "`")]
            pub(crate) const $name: &str =
                include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sql/postgres/", $path));
        )*
    };
}

statements! {
    // Transactions.
    SAVEPOINT_BEGIN => "queries/savepoint_begin.sql",
    SAVEPOINT_RELEASE => "queries/savepoint_release.sql",
    SAVEPOINT_ROLLBACK => "queries/savepoint_rollback.sql",
    // Migrations and the schema.
    MIGRATIONS_CREATE_TABLE => "queries/migrations_create_table.sql",
    MIGRATIONS_DELETE => "queries/migrations_delete.sql",
    MIGRATIONS_INSERT => "queries/migrations_insert.sql",
    MIGRATIONS_LIST => "queries/migrations_list.sql",
    MIGRATIONS_LOCK => "queries/migrations_lock.sql",
    MIGRATIONS_LOCK_SHARED => "queries/migrations_lock_shared.sql",
    MIGRATIONS_TABLE_EXISTS => "queries/migrations_table_exists.sql",
    SCHEMA_CLASHING_OBJECT => "queries/schema_clashing_object.sql",
}

// Dependencies (deps.rs).
statements! {
    DEPS_COUNT_UPSTREAM => "queries/deps_count_upstream.sql",
    DEPS_DOWNSTREAM_OF => "queries/deps_downstream_of.sql",
    DEPS_EXISTS => "queries/deps_exists.sql",
    DEPS_GRAPH_OF => "queries/deps_graph_of.sql",
    DEPS_HAS_UNRESOLVED_DOWNSTREAM => "queries/deps_has_unresolved_downstream.sql",
    DEPS_INSERT => "queries/deps_insert.sql",
    DEPS_LOCK_GRAPH => "queries/deps_lock_graph.sql",
    DEPS_LOCK_RUNS => "queries/deps_lock_runs.sql",
    DEPS_RESOLVE_EDGES => "queries/deps_resolve_edges.sql",
    DEPS_UPSTREAM_IDS => "queries/deps_upstream_ids.sql",
    DEPS_UPSTREAM_OF => "queries/deps_upstream_of.sql",
    RUNS_BLOCK_BY => "queries/runs_block_by.sql",
    RUNS_CANCEL_UPSTREAM_FAILED => "queries/runs_cancel_upstream_failed.sql",
    RUNS_RELEASE_ONE_UPSTREAM => "queries/runs_release_one_upstream.sql",
    DEPS_WITH_UNRESOLVED_DOWNSTREAM => "queries/deps_with_unresolved_downstream.sql",
    SETTLE_QUEUE_ADD => "queries/settle_queue_add.sql",
    SETTLE_QUEUE_ANY => "queries/settle_queue_any.sql",
    SETTLE_QUEUE_RUN_STATUS => "queries/settle_queue_run_status.sql",
    SETTLE_QUEUE_TAKE => "queries/settle_queue_take.sql",
}

// Tasks and schedules (tasks.rs, schedules.rs).
statements! {
    TASKS_GET => "queries/tasks_get.sql",
    TASKS_GET_FOR_UPDATE => "queries/tasks_get_for_update.sql",
    TASKS_GET_BY_NAME => "queries/tasks_get_by_name.sql",
    TASKS_LIST => "queries/tasks_list.sql",
    TASKS_INSERT => "queries/tasks_insert.sql",
    TASKS_UPDATE => "queries/tasks_update.sql",
    TASKS_SOFT_DELETE => "queries/tasks_soft_delete.sql",
    TASKS_VERSION => "queries/tasks_version.sql",
    TASKS_DUE_SCHEDULES => "queries/tasks_due_schedules.sql",
    TASKS_NEXT_SCHEDULE_DUE => "queries/tasks_next_schedule_due.sql",
    TASKS_ADVANCE_SCHEDULE => "queries/tasks_advance_schedule.sql",
    RUNS_INSERT_OCCURRENCE => "queries/runs_insert_occurrence.sql",
    RUNS_WAITING_OCCURRENCES => "queries/runs_waiting_occurrences.sql",
    RUNS_UPDATE_WAITING_OCCURRENCES => "queries/runs_update_waiting_occurrences.sql",
}

// Figures for operators (views.rs).
statements! {
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
}

// Runs, leases, workers, state, tokens, maintenance.
statements! {
    RUNS_GET => "queries/runs_get.sql",
    RUNS_GET_STATUS => "queries/runs_get_status.sql",
    RUNS_LOCK => "queries/runs_lock.sql",
    RUNS_LIST => "queries/runs_list.sql",
    RUNS_COUNT_BY_STATUS => "queries/runs_count_by_status.sql",
    RUNS_IDLE => "queries/runs_idle.sql",
    RUNS_UNFINISHED_BY_TYPE => "queries/runs_unfinished_by_type.sql",
    RUNS_FIND_LIVE_BY_UNIQUE_KEY => "queries/runs_find_live_by_unique_key.sql",
    RUNS_INSERT => "queries/runs_insert.sql",
    RUNS_INSERT_MANY => "queries/runs_insert_many.sql",
    RUNS_REQUEST_CANCEL => "queries/runs_request_cancel.sql",
    RUNS_CANCEL_WAITING => "queries/runs_cancel_waiting.sql",
    RUNS_RESTORE_HISTORY => "queries/runs_restore_history.sql",
    RUNS_RETRY_FINISHED => "queries/runs_retry_finished.sql",
    DEPS_SET_RESOLVED => "queries/deps_set_resolved.sql",
    LOCKS_GET => "queries/locks_get.sql",
    LOCKS_LIST_FOR_WORKER => "queries/locks_list_for_worker.sql",
    LOCKS_RENEW => "queries/locks_renew.sql",
    RUNS_CANCEL_REQUESTED_FOR_WORKER => "queries/runs_cancel_requested_for_worker.sql",
    RUNS_CLAIM_NEXT_PRIORITY => "queries/runs_claim_next_priority.sql",
    RUNS_NEXT_DUE_IN_PRIORITY => "queries/runs_next_due_in_priority.sql",
    RUNS_CLAIM_GROUP => "queries/runs_claim_group.sql",
    RUNS_COMPLETE_FENCED => "queries/runs_complete_fenced.sql",
    RUNS_FAIL_FENCED => "queries/runs_fail_fenced.sql",
    RUNS_RETRY_FENCED => "queries/runs_retry_fenced.sql",
    RUNS_CANCEL_FENCED => "queries/runs_cancel_fenced.sql",
    RUNS_RELEASE_FENCED => "queries/runs_release_fenced.sql",
    RUNS_SNOOZE_FENCED => "queries/runs_snooze_fenced.sql",
    WORKERS_GET => "queries/workers_get.sql",
    WORKERS_LIST => "queries/workers_list.sql",
    WORKERS_INSERT => "queries/workers_insert.sql",
    WORKERS_HEARTBEAT => "queries/workers_heartbeat.sql",
    WORKERS_REACTIVATE => "queries/workers_reactivate.sql",
    WORKERS_SET_STATUS => "queries/workers_set_status.sql",
    WORKERS_MARK_OFFLINE => "queries/workers_mark_offline.sql",
    CLAIM_PAUSES => "queries/claim_pauses.sql",
    QUEUES_LIST => "queries/queues_list.sql",
    QUEUES_SET_PAUSED => "queries/queues_set_paused.sql",
    STATE_GET => "queries/state_get.sql",
    STATE_SET => "queries/state_set.sql",
    STATE_ENSURE => "queries/state_ensure.sql",
    STATE_LOCK => "queries/state_lock.sql",
    TOKENS_GET => "queries/tokens_get.sql",
    TOKENS_REVOKE => "queries/tokens_revoke.sql",
    WRITE_LIMITS => "queries/write_limits.sql",
    WRITE_LIMITS_RESET => "queries/write_limits_reset.sql",
    SESSION_LIMITS => "queries/session_limits.sql",
    NOTIFY_LISTEN => "queries/notify_listen.sql",
    LEASES_EXPIRED => "maintenance/leases_expired.sql",
    LEASES_RELEASE_FOR_WORKER => "maintenance/leases_release_for_worker.sql",
    LEASES_DELETE_RESCUED => "maintenance/leases_delete_rescued.sql",
    RUNS_RESCUE_FENCED => "maintenance/runs_rescue_fenced.sql",
    RUNS_REMOVE_FINISHED => "maintenance/runs_remove_finished.sql",
    TOKENS_PURGE_EXPIRED => "maintenance/tokens_purge_expired.sql",
    WORKERS_MARK_STALE_OFFLINE => "maintenance/workers_mark_stale_offline.sql",
}

crate::backend::migrations::embedded_migrations! {
    MIGRATIONS, "postgres/migrations";
    1 "0001" "initial_schema",
    2 "0002" "running_index",
    3 "0003" "notify",
    4 "0004" "snoozes",
    5 "0005" "queues",
}
