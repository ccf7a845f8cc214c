-- The live task with this name (served by tasks_name_live).
--   $1 name (text)
SELECT id, name, job_type, payload::text AS payload, priority, max_attempts, timeout_ms,
       backoff_ms, unique_key, schedule_kind, cron_expr, interval_ms, timezone,
       misfire_policy, misfire_cap, next_run_at, last_run_at, enabled, is_deleted,
       deleted_at, version, created_at, updated_at, queue
FROM tasks
WHERE name = $1
  AND is_deleted = 0;
