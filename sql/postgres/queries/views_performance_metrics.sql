-- The performance_metrics view (one row), for operators' tools (and LastHour), at most
-- $1 (bigint) rows.
-- Numerics as float8: the runtime reads each column by its type, and numeric has none
-- in the client.
SELECT finished_last_hour, completed_last_hour, failed_last_hour,
       finished_per_s::float8 AS finished_per_s,
       avg_duration_ms::float8 AS avg_duration_ms,
       max_duration_ms,
       avg_start_delay_ms::float8 AS avg_start_delay_ms,
       max_start_delay_ms
FROM performance_metrics
LIMIT $1;
