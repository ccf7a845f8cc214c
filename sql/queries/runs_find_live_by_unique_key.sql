-- The unfinished run holding a unique key, if any (served by task_runs_unique_key_live:
-- the status test is written exactly as the index's WHERE so the planner can use it).
SELECT id, status
FROM task_runs
WHERE unique_key = :unique_key
  AND (status = 'blocked' OR status = 'pending' OR status = 'running');
