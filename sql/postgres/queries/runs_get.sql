-- One run by id ($1). JSON columns are read as text, the model's form.
SELECT id, task_id, job_type, payload::text AS payload, status, priority, attempt,
       max_attempts, timeout_ms, backoff_ms, unique_key, scheduled_at, blocked_on, worker_id,
       lease_token, cancel_requested, cancel_reason, started_at, finished_at, duration_ms,
       result::text AS result, last_error, errors::text AS errors, created_at, snoozes, queue
FROM task_runs
WHERE id = $1;
