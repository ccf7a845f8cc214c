INSERT INTO task_locks (run_id, worker_id, token, acquired_at, expires_at)
VALUES (:run_id, :worker_id, :token, :now, :expires_at);
