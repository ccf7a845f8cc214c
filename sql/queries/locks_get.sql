SELECT run_id, worker_id, token, acquired_at, expires_at
FROM task_locks
WHERE run_id = :run_id;
