-- The expired_leases view, for operators' tools, at most $1 (bigint) rows.
-- Times as SQLite's views write them (RFC 3339 in UTC with milliseconds, whatever the
-- session's TimeZone), numerics as float8: the runtime reads each column by its type,
-- and numeric and timestamptz have none in the client.
SELECT run_id, job_type, status, attempt, max_attempts, worker_id, worker_name, token,
       to_char(expired_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS expired_at,
       expired_for_s::float8 AS expired_for_s
FROM expired_leases
LIMIT $1;
