-- Enqueue one run: the hot path, a single row insert.
INSERT INTO task_runs (
    task_id, job_type, payload, status, priority, max_attempts, timeout_ms, backoff_ms,
    unique_key, scheduled_at, created_at, queue
) VALUES (
    :task_id, :job_type, :payload, 'pending', :priority, :max_attempts, :timeout_ms,
    :backoff_ms, :unique_key, :scheduled_at, :now, :queue
);
