-- The active_workers view, for operators' tools, at most $1 (bigint) rows.
-- Times as SQLite's views write them (RFC 3339 in UTC with milliseconds, whatever the
-- session's TimeZone), numerics as float8: the runtime reads each column by its type,
-- and numeric and timestamptz have none in the client.
SELECT id, name, host, pid, threads, status, version,
       to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS started_at,
       to_char(last_heartbeat AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_heartbeat,
       heartbeat_age_s::float8 AS heartbeat_age_s,
       leases_held
FROM active_workers
LIMIT $1;
