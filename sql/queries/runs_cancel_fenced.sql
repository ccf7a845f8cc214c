-- The job stopped itself (or obeyed a cancel request): cancelled, keeping the reason a
-- cancel request recorded, else the job's own. Fenced like runs_complete_fenced.sql.
UPDATE task_runs
SET status = 'cancelled',
    cancel_reason = coalesce(cancel_reason, :reason),
    started_at = coalesce(:started_at, started_at),
    duration_ms = :duration_ms,
    finished_at = :now
WHERE id = :id
  AND status = 'running'
  AND lease_token = :token
  AND EXISTS (SELECT 1 FROM task_locks WHERE run_id = :id AND token = :token)
RETURNING status, cancel_reason;
