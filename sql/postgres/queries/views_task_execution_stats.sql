-- The task_execution_stats view, for operators' tools (and TaskStats), at most $1
-- (bigint) rows.
-- Times as SQLite's views write them (RFC 3339 in UTC with milliseconds, whatever the
-- session's TimeZone), numerics as float8: the runtime reads each column by its type,
-- and numeric and timestamptz have none in the client.
SELECT job_type, task_id, task_name, runs, completed, failed, cancelled, unfinished,
       success_rate_pct::float8 AS success_rate_pct,
       attempts,
       avg_duration_ms::float8 AS avg_duration_ms,
       max_duration_ms
FROM task_execution_stats
LIMIT $1;
