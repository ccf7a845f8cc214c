INSERT INTO tasks (
    name, job_type, payload, priority, max_attempts, timeout_ms, backoff_ms, unique_key,
    schedule_kind, cron_expr, interval_ms, timezone, misfire_policy, misfire_cap,
    next_run_at, enabled, created_at, updated_at, queue
) VALUES (
    :name, :job_type, :payload, :priority, :max_attempts, :timeout_ms, :backoff_ms,
    :unique_key, :schedule_kind, :cron_expr, :interval_ms, :timezone, :misfire_policy,
    :misfire_cap, :next_run_at, :enabled, :now, :now, :queue
);
