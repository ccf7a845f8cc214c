-- The first object of the scheduler's names already in the connection's schema: asked
-- only when no migration history exists, so any hit is not ours (an application's own
-- table named `tasks`, say) and the runner refuses rather than build beside it.
SELECT c.relname::text AS name
FROM pg_catalog.pg_class c
WHERE c.relnamespace = current_schema()::regnamespace
  AND c.relname IN ('tasks', 'workers', 'task_runs', 'task_dependencies', 'task_locks',
                    'jwt_token_blacklist', 'system_state', 'task_runs_archive',
                    'task_settle_queue', 'active_tasks', 'pending_task_runs',
                    'active_workers', 'task_execution_stats', 'runs_by_status',
                    'expired_leases', 'stale_workers', 'throughput_last_hour',
                    'performance_metrics', 'system_health')
ORDER BY c.relname
LIMIT 1;
