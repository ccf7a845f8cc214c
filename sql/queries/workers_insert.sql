-- A scheduler instance registers, with the promise it will keep (0005): heartbeat every
-- :heartbeat_ms, leases of :lease_ms, presumed dead after :stale_after_ms of silence, all
-- on the monotonic clock of :clock_domain.
INSERT INTO workers (name, host, pid, threads, version, status, started_at, last_heartbeat,
                     updated_at, heartbeat_ms, lease_ms, stale_after_ms, clock_domain,
                     heartbeat_mono)
VALUES (:name, :host, :pid, :threads, :version, 'active', :now, :now, :now, :heartbeat_ms,
        :lease_ms, :stale_after_ms, :clock_domain, :mono);
