-- Heartbeat: extend one lease this worker holds, named by its attempt (run and fencing
-- token). 0 rows changed: the lease was lost (rescued after expiry, or taken by another).
-- A lease the worker no longer knows of is never renewed, so it expires and is rescued.
UPDATE task_locks
SET expires_at = max(:expires_at, acquired_at),
    expires_mono = :expires_mono
WHERE run_id = :run_id
  AND token = :token
  AND worker_id = :worker_id;
