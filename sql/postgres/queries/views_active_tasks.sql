-- The active_tasks view, for operators' tools, at most $1 (bigint) rows.
-- Times as SQLite's views write them (RFC 3339 in UTC with milliseconds, whatever the
-- session's TimeZone), numerics as float8: the runtime reads each column by its type,
-- and numeric and timestamptz have none in the client.
SELECT id, name, job_type, schedule_kind, schedule, misfire_policy, priority, max_attempts,
       timeout_ms,
       to_char(next_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS next_run_at,
       to_char(last_run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_run_at,
       version,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at
FROM active_tasks
LIMIT $1;
