-- Workers that broke their own promise are presumed dead, marked offline at $1 (at
-- most $3). Each is judged by the limit it recorded (stale_after_ms), never by the
-- observer's settings, on the database's clock (heartbeat_mono, written by every
-- heartbeat as the database's clock_timestamp()); rows that recorded neither (written
-- by something else) by their wall-clock heartbeat, with $2 ms as the limit. Run
-- leases_release_for_worker.sql for each returned id so its runs are rescued.
UPDATE workers
SET status = 'offline',
    stopped_at = $1,
    updated_at = $1
WHERE id IN (
    SELECT id FROM workers
    WHERE status <> 'offline'
      AND CASE
              WHEN heartbeat_mono IS NOT NULL AND stale_after_ms IS NOT NULL
                  THEN heartbeat_mono + stale_after_ms <= floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint
              ELSE last_heartbeat + coalesce(stale_after_ms, $2) <= $1
          END
    ORDER BY last_heartbeat
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
RETURNING id;
