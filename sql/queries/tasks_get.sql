SELECT id, name, job_type, payload, priority, max_attempts, timeout_ms, backoff_ms,
       unique_key, schedule_kind, cron_expr, interval_ms, timezone, misfire_policy,
       misfire_cap, next_run_at, last_run_at, enabled, is_deleted, deleted_at, version,
       created_at, updated_at, queue
FROM tasks
WHERE id = :id;
