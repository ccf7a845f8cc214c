-- The unfinished run holding a unique key, if any (served by task_runs_unique_key_live).
SELECT id, status
FROM task_runs
WHERE unique_key = :unique_key
  AND status IN ('blocked', 'pending', 'running');
