-- Instances that have broken their own promise are presumed dead: marked offline (at most
-- :batch per statement). A worker is judged by the limit it recorded (stale_after_ms),
-- never by the observer's settings: on the shared monotonic clock when it runs in the
-- observer's clock domain (one reading, :mono), else by its wall-clock heartbeat, with
-- :fallback_ms for rows written before 0005 that recorded no limit. Run
-- leases_release_for_worker.sql for each returned id so its runs are rescued.
UPDATE workers
SET status = 'offline',
    stopped_at = :now,
    updated_at = :now
WHERE id IN (
    SELECT id FROM workers
    WHERE status <> 'offline'
      AND CASE
              WHEN clock_domain = :domain AND heartbeat_mono IS NOT NULL
                   AND stale_after_ms IS NOT NULL
                  THEN heartbeat_mono + stale_after_ms <= :mono
              ELSE last_heartbeat + coalesce(stale_after_ms, :fallback_ms) <= :now
          END
    ORDER BY last_heartbeat
    LIMIT :batch
)
RETURNING id;
