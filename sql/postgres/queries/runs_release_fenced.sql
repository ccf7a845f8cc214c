-- The attempt ($1 run, $2 token) gives its run back unstarted (shutdown): the attempt
-- is not counted, and the release is recorded with reason $3 at $4; a run whose cancel
-- was requested is cancelled instead. Fenced by the lease row, deleted first (see
-- runs_complete_fenced.sql).
WITH lease AS (
    DELETE FROM task_locks WHERE run_id = $1 AND token = $2 RETURNING run_id
)
UPDATE task_runs
SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'pending' END,
    finished_at = CASE WHEN cancel_requested = 1 THEN $4::bigint END,
    attempt = attempt - 1,
    errors = coalesce(errors, '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
        'attempt', attempt, 'at', $4::bigint, 'kind', 'released', 'message', $3::text))
WHERE id = (SELECT run_id FROM lease)
  AND status = 'running'
  AND attempt >= 1
  AND lease_token = $2
RETURNING status, cancel_reason;
