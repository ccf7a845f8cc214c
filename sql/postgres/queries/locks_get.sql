-- The lease on run $1, live or expired but not yet rescued.
SELECT run_id, worker_id, token, acquired_at, expires_at
FROM task_locks
WHERE run_id = $1;
