-- The value of state key $1, its row locked until the transaction ends (read, decide,
-- write: the job-type list, a leadership lease), and the database's clock now in
-- milliseconds, which leadership leases are judged by on every host.
SELECT value, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS db_now
FROM system_state
WHERE key = $1
FOR UPDATE;
