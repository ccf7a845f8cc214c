-- The attempt ($1 run, $2 token) asked to be tried again at $3 without using an attempt
-- (JobError::snooze): started at $4, lasting $5 ms, at $6. Pending again, the attempt
-- given back and one snooze more counted; nothing goes into the error history. A run
-- whose cancel was requested meanwhile is cancelled instead. Fenced by the lease row,
-- deleted first (see runs_complete_fenced.sql).
WITH lease AS (
    DELETE FROM task_locks WHERE run_id = $1 AND token = $2 RETURNING run_id
)
UPDATE task_runs
SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'pending' END,
    finished_at = CASE WHEN cancel_requested = 1 THEN $6::bigint END,
    scheduled_at = CASE WHEN cancel_requested = 1 THEN scheduled_at ELSE $3::bigint END,
    started_at = coalesce($4::bigint, started_at),
    duration_ms = $5::bigint,
    attempt = attempt - 1,
    snoozes = snoozes + 1
WHERE id = (SELECT run_id FROM lease)
  AND status = 'running'
  AND attempt >= 1
  AND lease_token = $2
RETURNING status, cancel_reason;
