-- One occurrence of a schedule. The unique index on (task_id, scheduled_at) makes it
-- exist once, whichever process creates it first.
INSERT INTO task_runs (
    task_id, job_type, payload, status, priority, max_attempts, timeout_ms, backoff_ms,
    unique_key, scheduled_at, created_at, queue
) VALUES (
    :task_id, :job_type, :payload, 'pending', :priority, :max_attempts, :timeout_ms,
    :backoff_ms, :unique_key, :scheduled_at, :now, :queue
)
ON CONFLICT (task_id, scheduled_at) WHERE task_id IS NOT NULL DO NOTHING;
