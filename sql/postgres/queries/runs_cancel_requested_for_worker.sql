-- Runs held by worker $1 whose cancellation was requested. A leased run is always
-- running, and saying so lets the planner reach task_runs through the small partial
-- index task_runs_running whatever its statistics say (with the run table's estimate
-- alone, a generic plan could hash-join a scan of all of it).
SELECT r.id
FROM task_locks AS l
JOIN task_runs AS r ON r.id = l.run_id
WHERE l.worker_id = $1
  AND r.status = 'running'
  AND r.cancel_requested = 1;
