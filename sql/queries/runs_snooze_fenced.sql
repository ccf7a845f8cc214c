-- The attempt asked to be tried again at :until without using an attempt
-- (JobError::snooze): pending again, the attempt it had taken given back, one snooze more
-- on the count that bounds them. Nothing goes into the error history (a snooze is not a
-- failure). A run whose cancel was requested meanwhile is cancelled instead. Fenced like
-- runs_complete_fenced.sql.
UPDATE task_runs
SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'pending' END,
    finished_at = CASE WHEN cancel_requested = 1 THEN :now END,
    scheduled_at = CASE WHEN cancel_requested = 1 THEN scheduled_at ELSE :until END,
    started_at = coalesce(:started_at, started_at),
    duration_ms = :duration_ms,
    attempt = attempt - 1,
    snoozes = snoozes + 1
WHERE id = :id
  AND status = 'running'
  AND attempt >= 1
  AND lease_token = :token
  AND EXISTS (SELECT 1 FROM task_locks WHERE run_id = :id AND token = :token)
RETURNING status, cancel_reason;
