-- Optimistic locking: the update applies only if the row is still at the version the
-- caller read; the version moves on by one.
UPDATE tasks
SET payload = :payload,
    priority = :priority,
    max_attempts = :max_attempts,
    timeout_ms = :timeout_ms,
    backoff_ms = :backoff_ms,
    unique_key = :unique_key,
    schedule_kind = :schedule_kind,
    cron_expr = :cron_expr,
    interval_ms = :interval_ms,
    timezone = :timezone,
    misfire_policy = :misfire_policy,
    misfire_cap = :misfire_cap,
    next_run_at = :next_run_at,
    last_run_at = :last_run_at,
    enabled = :enabled,
    queue = :queue,
    version = version + 1,
    updated_at = :now
WHERE id = :id
  AND version = :version
  AND is_deleted = 0;
