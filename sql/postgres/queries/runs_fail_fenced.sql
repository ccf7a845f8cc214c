-- Fail the attempt ($1 run, $2 token) for good: started at $3, lasting $4 ms, error
-- message $5 and its record $6 (JSON text, appended to the run's history), at $7.
-- Fenced by the lease row, deleted first (see runs_complete_fenced.sql).
WITH lease AS (
    DELETE FROM task_locks WHERE run_id = $1 AND token = $2 RETURNING run_id
)
UPDATE task_runs
SET status = 'failed',
    started_at = coalesce($3, started_at),
    duration_ms = $4,
    finished_at = $7,
    last_error = $5,
    errors = coalesce(errors, '[]'::jsonb) || jsonb_build_array($6::text::jsonb)
WHERE id = (SELECT run_id FROM lease)
  AND status = 'running'
  AND lease_token = $2
RETURNING status, cancel_reason;
