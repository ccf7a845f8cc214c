-- Instances whose last heartbeat is older than :stale_before are presumed dead: mark them
-- offline (at most :batch per statement). Run leases_release_for_worker.sql for each
-- returned id so their runs are rescued by the lease expiry pass.
UPDATE workers
SET status = 'offline',
    stopped_at = :now,
    updated_at = :now
WHERE id IN (
    SELECT id FROM workers
    WHERE status <> 'offline'
      AND last_heartbeat < :stale_before
    ORDER BY last_heartbeat
    LIMIT :batch
)
RETURNING id;
