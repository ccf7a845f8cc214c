SELECT id, task_id, job_type, payload, status, priority, attempt, max_attempts, timeout_ms,
       backoff_ms, unique_key, scheduled_at, blocked_on, worker_id, lease_token,
       cancel_requested, cancel_reason, started_at, finished_at, duration_ms, result,
       last_error, errors, created_at, snoozes, queue
FROM task_runs
WHERE id = :id;
