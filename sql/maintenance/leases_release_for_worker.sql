-- Expire every lease of one (dead) worker now, so the next rescue pass takes its runs back.
UPDATE task_locks
SET expires_at = max(:now, acquired_at)
WHERE worker_id = :worker_id
  AND expires_at > :now;
