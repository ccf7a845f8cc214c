-- The first object of the database that bears one of the scheduler's names: asked only
-- when no migration history exists, so any hit is not ours (an application's own table
-- named `tasks`, say) and the runner refuses rather than build beside it. Every other
-- object is the application's and is left alone. SQLite's names are case-insensitive.
-- The list is every name any migration creates, those a later one drops included
-- (tests/migrations.rs checks it against the files).
SELECT name
FROM sqlite_schema
WHERE lower(name) IN (
    'active_tasks', 'active_workers', 'expired_leases', 'jwt_token_blacklist',
    'jwt_token_blacklist_expiry', 'pending_task_runs', 'performance_metrics',
    'runs_by_status', 'stale_workers', 'system_health', 'system_state',
    'system_state_touch_updated_at', 'task_dependencies', 'task_dependencies_upstream',
    'task_execution_stats', 'task_locks', 'task_locks_expiry', 'task_locks_expiry_mono',
    'task_locks_worker', 'task_runs', 'task_runs_archive', 'task_runs_archive_finished',
    'task_runs_blocked', 'task_runs_finished', 'task_runs_keep_newest',
    'task_queues', 'task_runs_pending_due', 'task_runs_pending_queue',
    'task_runs_task_occurrence', 'task_runs_unique_key_live',
    'task_settle_queue', 'tasks', 'tasks_name_live', 'tasks_schedule_due',
    'tasks_touch_updated_at', 'throughput_last_hour', 'workers', 'workers_clock_domain',
    'workers_heartbeat', 'workers_touch_updated_at'
)
ORDER BY name
LIMIT 1;
