-- Complete the attempt ($5 run, $6 token) with result $1 (JSON text), started at $2 and
-- lasting $3 ms, at $4. Fenced: the attempt's lease row is deleted first (lease is
-- empty unless it is still there, so a rescued or re-claimed attempt changes nothing),
-- and the run must still be running under that token. The lease row is locked before
-- the run's, the order every statement that takes both follows (the rescue too), so
-- a completion and a rescue never deadlock.
WITH lease AS (
    DELETE FROM task_locks WHERE run_id = $5 AND token = $6 RETURNING run_id
)
UPDATE task_runs
SET status = 'completed',
    result = $1::text::jsonb,
    started_at = coalesce($2, started_at),
    duration_ms = $3,
    finished_at = $4
WHERE id = (SELECT run_id FROM lease)
  AND status = 'running'
  AND lease_token = $6
RETURNING status;
