-- A scheduler instance registers with the promise it keeps:  name,  host,  pid,
-- $4 threads, $5 version, $6 now (its host's clock), heartbeat every $7 ms, leases of
-- $8 ms, presumed dead after $9 ms of silence, on clock domain $10. On PostgreSQL that
-- domain is the database's clock for every host: heartbeat_mono is the database's
-- clock_timestamp() in milliseconds, so staleness never depends on host clocks agreeing.
INSERT INTO workers (name, host, pid, threads, version, status, started_at, last_heartbeat,
                     updated_at, heartbeat_ms, lease_ms, stale_after_ms, clock_domain,
                     heartbeat_mono)
VALUES ($1, $2, $3, $4, $5, 'active', $6, $6, $6, $7, $8, $9, $10,
        floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)
RETURNING id;
