-- The throughput_last_hour view (oldest minute first), for operators' tools (and
-- MinuteThroughput), at most $1 (bigint) rows.
-- The minute as SQLite's view writes it (2026-01-05T09:41Z, in UTC whatever the
-- session's TimeZone), numerics as float8: the runtime reads each column by its type,
-- and numeric and timestamptz have none in the client.
SELECT to_char(minute AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') AS minute,
       completed, failed, cancelled,
       avg_duration_ms::float8 AS avg_duration_ms
FROM throughput_last_hour
LIMIT $1;
