SELECT run_id, worker_id, token, acquired_at, expires_at
FROM task_locks
WHERE worker_id = :worker_id
ORDER BY run_id;
