-- Newest first, each filter optional (NULL = any).
SELECT id, task_id, job_type, payload, status, priority, attempt, max_attempts, timeout_ms,
       backoff_ms, unique_key, scheduled_at, blocked_on, worker_id, lease_token,
       cancel_requested, cancel_reason, started_at, finished_at, duration_ms, result,
       last_error, errors, created_at, snoozes, queue
FROM task_runs
WHERE (:status IS NULL OR status = :status)
  AND (:job_type IS NULL OR job_type = :job_type)
  AND (:task_id IS NULL OR task_id = :task_id)
  AND (:queue IS NULL OR queue = :queue)
  AND (:created_after IS NULL OR created_at >= :created_after)
  AND (:created_before IS NULL OR created_at < :created_before)
  AND (:before_id IS NULL OR id < :before_id)
ORDER BY id DESC
LIMIT :limit;
