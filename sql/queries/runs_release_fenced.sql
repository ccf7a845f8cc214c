-- Graceful shutdown hands a run back unfinished: pending again, due at its old time, and
-- the attempt it had taken is given back (a release is not a failure). The release is
-- recorded in the run's history. A run whose cancel was requested is cancelled instead.
-- Fenced like runs_complete_fenced.sql.
UPDATE task_runs
SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'pending' END,
    finished_at = CASE WHEN cancel_requested = 1 THEN :now END,
    attempt = attempt - 1,
    errors = json_insert(
        coalesce(errors, '[]'), '$[#]',
        json_object('attempt', attempt, 'at', :now, 'kind', 'released', 'message', :reason)
    )
WHERE id = :id
  AND status = 'running'
  AND attempt >= 1
  AND lease_token = :token
  AND EXISTS (SELECT 1 FROM task_locks WHERE run_id = :id AND token = :token)
RETURNING status, cancel_reason;
