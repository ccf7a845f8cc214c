-- A live instance reports in, on both clocks. No row changes when the instance was marked
-- offline (its heartbeat went stale and its leases were released): the caller learns it
-- from that.
UPDATE workers
SET last_heartbeat = max(:now, last_heartbeat),
    heartbeat_mono = :mono,
    updated_at = :now
WHERE id = :id
  AND status <> 'offline';
