-- An instance that was presumed dead but is alive (a long pause) comes back.
UPDATE workers
SET status = 'active',
    stopped_at = NULL,
    last_heartbeat = :now,
    heartbeat_mono = :mono,
    updated_at = :now
WHERE id = :id
  AND status = 'offline';
