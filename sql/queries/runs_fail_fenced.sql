-- The last attempt failed: the run is failed for good, the error appended to its history.
-- Fenced like runs_complete_fenced.sql.
UPDATE task_runs
SET status = 'failed',
    started_at = coalesce(:started_at, started_at),
    duration_ms = :duration_ms,
    finished_at = :now,
    last_error = :message,
    errors = json_insert(coalesce(errors, '[]'), '$[#]', json(:error))
WHERE id = :id
  AND status = 'running'
  AND lease_token = :token
  AND EXISTS (SELECT 1 FROM task_locks WHERE run_id = :id AND token = :token)
RETURNING status, cancel_reason;
