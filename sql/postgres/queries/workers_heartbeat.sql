-- Worker $1 reports in at $2 (its host's clock, shown to people) and now on the
-- database's clock (what staleness is judged by). No row changes when the worker was
-- marked offline (presumed dead, its leases released): the caller learns it from that.
UPDATE workers
SET last_heartbeat = GREATEST($2, last_heartbeat),
    heartbeat_mono = floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint,
    updated_at = $2
WHERE id = $1
  AND status <> 'offline';
