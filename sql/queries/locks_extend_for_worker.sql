-- Heartbeat: extend every lease this worker holds and report which it still holds (a
-- lease missing from the answer was lost: rescued after expiry or taken by another).
UPDATE task_locks
SET expires_at = max(:expires_at, acquired_at)
WHERE worker_id = :worker_id
RETURNING run_id, token;
