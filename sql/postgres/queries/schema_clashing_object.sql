-- The first object of the scheduler's names already in the connection's schema: asked
-- only when no migration history exists, so any hit is not ours (an application's own
-- table named `tasks`, say) and the runner refuses rather than build beside it.
-- Relations of every kind share one namespace (tables, views, indexes, sequences), and
-- functions are ours too. The list is every name any migration creates, those a later
-- one drops included (tests/postgres_migrations.rs checks it against the files).
WITH ours(name) AS (
    VALUES ('active_tasks'), ('active_workers'), ('expired_leases'),
           ('jwt_token_blacklist'), ('jwt_token_blacklist_expiry'),
           ('jwt_token_blacklist_id_seq'), ('jwt_token_blacklist_pkey'),
           ('jwt_token_blacklist_token_id_key'), ('pending_task_runs'),
           ('performance_metrics'), ('runs_by_status'), ('scheduler_notify_queue_resumed'),
           ('scheduler_notify_resumed'),
           ('scheduler_notify_schedules'), ('scheduler_notify_work'),
           ('scheduler_touch_updated_at'), ('stale_workers'), ('system_health'),
           ('system_state'), ('system_state_pkey'), ('task_dependencies'),
           ('task_dependencies_pkey'), ('task_dependencies_upstream'),
           ('task_execution_stats'), ('task_locks'), ('task_locks_expiry_mono'),
           ('task_locks_pkey'), ('task_locks_worker'), ('task_queues'),
           ('task_queues_pkey'), ('task_runs'),
           ('task_runs_archive'), ('task_runs_archive_finished'),
           ('task_runs_archive_pkey'), ('task_runs_blocked'), ('task_runs_finished'),
           ('task_runs_id_seq'), ('task_runs_pending_due'), ('task_runs_pending_queue'), ('task_runs_pkey'),
           ('task_runs_running'), ('task_runs_task_occurrence'),
           ('task_runs_unique_key_live'), ('task_settle_queue'),
           ('task_settle_queue_pkey'), ('tasks'), ('tasks_id_seq'),
           ('tasks_name_live'), ('tasks_pkey'),
           ('tasks_schedule_due'), ('throughput_last_hour'),
           ('workers'), ('workers_clock_domain'), ('workers_heartbeat'),
           ('workers_id_seq'), ('workers_pkey')
)
SELECT name
FROM (
    SELECT c.relname::text AS name
    FROM pg_catalog.pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace
    UNION ALL
    SELECT p.proname::text
    FROM pg_catalog.pg_proc p
    WHERE p.pronamespace = current_schema()::regnamespace
) existing
WHERE name IN (SELECT name FROM ours)
ORDER BY name
LIMIT 1;
