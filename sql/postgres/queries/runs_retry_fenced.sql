-- The attempt ($1 run, $2 token) failed and the run is tried again at $3 (or cancelled,
-- when a cancel was requested meanwhile): started at $4, lasting $5 ms, error message
-- $6 and its record $7 (JSON text, appended to the history), at $8. Fenced by the lease
-- row, deleted first (see runs_complete_fenced.sql).
WITH lease AS (
    DELETE FROM task_locks WHERE run_id = $1 AND token = $2 RETURNING run_id
)
UPDATE task_runs
SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'pending' END,
    finished_at = CASE WHEN cancel_requested = 1 THEN $8::bigint END,
    scheduled_at = $3,
    started_at = coalesce($4, started_at),
    duration_ms = $5,
    last_error = $6,
    errors = coalesce(errors, '[]'::jsonb) || jsonb_build_array($7::text::jsonb)
WHERE id = (SELECT run_id FROM lease)
  AND status = 'running'
  AND lease_token = $2
RETURNING status, cancel_reason;
