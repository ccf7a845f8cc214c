-- The task with this id, live or soft-deleted (the payload as text: the runtime reads
-- JSON as text, and jsonb gives it back normalised).
--   $1 id (bigint)
SELECT id, name, job_type, payload::text AS payload, priority, max_attempts, timeout_ms,
       backoff_ms, unique_key, schedule_kind, cron_expr, interval_ms, timezone,
       misfire_policy, misfire_cap, next_run_at, last_run_at, enabled, is_deleted,
       deleted_at, version, created_at, updated_at, queue
FROM tasks
WHERE id = $1;
