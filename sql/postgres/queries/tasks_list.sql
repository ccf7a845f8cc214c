-- Every task by id; the soft-deleted ones only when asked.
--   $1 include_deleted (smallint 0/1)
SELECT id, name, job_type, payload::text AS payload, priority, max_attempts, timeout_ms,
       backoff_ms, unique_key, schedule_kind, cron_expr, interval_ms, timezone,
       misfire_policy, misfire_cap, next_run_at, last_run_at, enabled, is_deleted,
       deleted_at, version, created_at, updated_at, queue
FROM tasks
WHERE ($1::smallint = 1 OR is_deleted = 0)
ORDER BY id;
