-- Live, enabled schedules whose next occurrence is due by :until, oldest first
-- (served by tasks_schedule_due).
SELECT id, name, job_type, payload, priority, max_attempts, timeout_ms, backoff_ms,
       unique_key, schedule_kind, cron_expr, interval_ms, timezone, misfire_policy,
       misfire_cap, next_run_at, last_run_at, enabled, is_deleted, deleted_at, version,
       created_at, updated_at, queue
FROM tasks
WHERE schedule_kind <> 'none'
  AND enabled = 1
  AND is_deleted = 0
  AND next_run_at <= :until
ORDER BY next_run_at
LIMIT :limit;
