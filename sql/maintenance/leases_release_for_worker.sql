-- Expire every lease of one (dead) worker now, on both clocks, so the next rescue pass
-- takes its runs back.
UPDATE task_locks
SET expires_at = max(min(expires_at, :now), acquired_at),
    expires_mono = min(coalesce(expires_mono, :mono), :mono)
WHERE worker_id = :worker_id;
