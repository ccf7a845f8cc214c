-- Worker $1, presumed dead but alive (a long pause), comes back at $2.
UPDATE workers
SET status = 'active',
    stopped_at = NULL,
    last_heartbeat = $2,
    heartbeat_mono = floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint,
    updated_at = $2
WHERE id = $1
  AND status = 'offline';
