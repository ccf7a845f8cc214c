-- The system_health view (one row), for operators' tools (and Health), at most $1
-- (bigint) rows. paused stays boolean (a JSON true/false; SQLite's is 0/1, and Health
-- reads both).
-- Times as SQLite's views write them (RFC 3339 in UTC with milliseconds, whatever the
-- session's TimeZone), numerics as float8: the runtime reads each column by its type,
-- and numeric and timestamptz have none in the client.
SELECT to_char(checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS checked_at,
       paused, live_workers, stale_workers, pending, running, blocked, expired_leases,
       oldest_due_wait_s::float8 AS oldest_due_wait_s,
       completed_last_hour, failed_last_hour
FROM system_health
LIMIT $1;
