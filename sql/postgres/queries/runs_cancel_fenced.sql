-- The attempt ($1 run, $2 token) stopped on a cancel: reason $3 unless one was given
-- with the request, started at $4, lasting $5 ms, at $6. Fenced by the lease row,
-- deleted first (see runs_complete_fenced.sql).
WITH lease AS (
    DELETE FROM task_locks WHERE run_id = $1 AND token = $2 RETURNING run_id
)
UPDATE task_runs
SET status = 'cancelled',
    cancel_reason = coalesce(cancel_reason, $3),
    started_at = coalesce($4, started_at),
    duration_ms = $5,
    finished_at = $6
WHERE id = (SELECT run_id FROM lease)
  AND status = 'running'
  AND lease_token = $2
RETURNING status, cancel_reason;
