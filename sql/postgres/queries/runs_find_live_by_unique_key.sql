-- The unfinished run holding unique key $1, if any (task_runs_unique_key_live).
SELECT id, status
FROM task_runs
WHERE unique_key = $1
  AND status IN ('blocked', 'pending', 'running');
