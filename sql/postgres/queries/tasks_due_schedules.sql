-- Live, enabled schedules whose next occurrence is due by $1, oldest first (served by
-- tasks_schedule_due). Not locked: two materializers may read the same schedule, and
-- neither doubles anything (runs_insert_occurrence creates each occurrence once,
-- tasks_advance_schedule moves the schedule once).
--   $1 until (bigint ms), $2 limit (bigint)
SELECT id, name, job_type, payload::text AS payload, priority, max_attempts, timeout_ms,
       backoff_ms, unique_key, schedule_kind, cron_expr, interval_ms, timezone,
       misfire_policy, misfire_cap, next_run_at, last_run_at, enabled, is_deleted,
       deleted_at, version, created_at, updated_at, queue
FROM tasks
WHERE schedule_kind <> 'none'
  AND enabled = 1
  AND is_deleted = 0
  AND next_run_at <= $1
ORDER BY next_run_at
LIMIT $2;
