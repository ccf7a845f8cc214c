-- Unfinished runs by job type and status, for the metrics gauges (read every few
-- seconds by the metrics thread, on a reader connection). Reads the unfinished runs
-- only: finished ones are most of the table and are counted by status elsewhere.
SELECT job_type, status, count(*) AS n
FROM task_runs
WHERE status IN ('blocked', 'pending', 'running')
GROUP BY job_type, status
ORDER BY job_type, status;
