-- The pending_task_runs view (claim order), for operators' tools, at most $1 (bigint)
-- rows.
-- Times as SQLite's views write them (RFC 3339 in UTC with milliseconds, whatever the
-- session's TimeZone), numerics as float8: the runtime reads each column by its type,
-- and numeric and timestamptz have none in the client.
SELECT id, job_type, task_name, priority, attempt, max_attempts,
       to_char(scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS scheduled_at,
       is_due,
       waiting_s::float8 AS waiting_s,
       last_error
FROM pending_task_runs
LIMIT $1;
