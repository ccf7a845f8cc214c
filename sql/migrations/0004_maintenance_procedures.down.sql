-- 0004 down: drops the maintenance views and the archive (with the archived runs) and
-- removes the system_state rows 0004 created.
DELETE FROM system_state
WHERE key IN ('paused', 'maintenance.stale_worker_after_ms', 'database_id');
DROP VIEW IF EXISTS system_health;
DROP VIEW IF EXISTS performance_metrics;
DROP VIEW IF EXISTS throughput_last_hour;
DROP VIEW IF EXISTS stale_workers;
DROP VIEW IF EXISTS expired_leases;
DROP VIEW IF EXISTS runs_by_status;
DROP INDEX IF EXISTS task_runs_archive_finished;
DROP TABLE IF EXISTS task_runs_archive;
