-- A failed attempt with attempts left: back to pending at :retry_at, the error appended
-- to the run's history. If a cancel was requested meanwhile, the run is cancelled instead:
-- the request wins over a retry. Fenced like runs_complete_fenced.sql.
UPDATE task_runs
SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'pending' END,
    finished_at = CASE WHEN cancel_requested = 1 THEN :now END,
    scheduled_at = :retry_at,
    started_at = coalesce(:started_at, started_at),
    duration_ms = :duration_ms,
    last_error = :message,
    errors = json_insert(coalesce(errors, '[]'), '$[#]', json(:error))
WHERE id = :id
  AND status = 'running'
  AND lease_token = :token
  AND EXISTS (SELECT 1 FROM task_locks WHERE run_id = :id AND token = :token)
RETURNING status, cancel_reason;
