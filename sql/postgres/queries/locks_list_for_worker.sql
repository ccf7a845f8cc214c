-- Every lease worker $1 holds, in run order (task_locks_worker).
SELECT run_id, worker_id, token, acquired_at, expires_at
FROM task_locks
WHERE worker_id = $1
ORDER BY run_id;
