-- A task's payload or run options changed: its occurrences that have not started yet
-- take the new ones.
UPDATE task_runs
SET payload = :payload,
    priority = :priority,
    max_attempts = :max_attempts,
    timeout_ms = :timeout_ms,
    backoff_ms = :backoff_ms,
    queue = :queue
WHERE task_id = :task_id
  AND (status = 'pending' OR status = 'blocked')
  AND attempt = 0;
