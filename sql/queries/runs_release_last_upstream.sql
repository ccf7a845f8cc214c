-- A blocked run whose last unresolved upstream just finished (completed, or failed
-- through an on_failure = 'run' edge) becomes pending. 0 rows changed: it waits on
-- others still (runs_release_one_upstream.sql), or was cancelled meanwhile.
UPDATE task_runs
SET blocked_on = 0,
    status = 'pending'
WHERE id = :id
  AND status = 'blocked'
  AND blocked_on = 1;
