-- Record success. Fenced: only the holder of the current lease (run_id, token) can
-- finish the run; a worker whose lease was lost changes nothing (0 rows changed). No
-- RETURNING: the new status is known, and SQLite builds a temporary table for the
-- returned rows of each execution.
UPDATE task_runs
SET status = 'completed',
    result = :result,
    started_at = coalesce(:started_at, started_at),
    duration_ms = :duration_ms,
    finished_at = :now
WHERE id = :id
  AND status = 'running'
  AND lease_token = :token
  AND EXISTS (SELECT 1 FROM task_locks WHERE run_id = :id AND token = :token);
