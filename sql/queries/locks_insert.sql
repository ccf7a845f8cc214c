-- A new lease, expiring on both clocks: expires_mono (the host's monotonic clock) is what
-- the rescue judges by; expires_at (wall clock) is for people and for workers of another
-- clock domain (0005).
INSERT INTO task_locks (run_id, worker_id, token, acquired_at, expires_at, expires_mono)
VALUES (:run_id, :worker_id, :token, :now, :expires_at, :expires_mono);
