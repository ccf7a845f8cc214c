-- Mark a completed run's edges to its dependents as settled (their counters were
-- decremented by runs_unblock_dependents.sql in the same transaction).
UPDATE task_dependencies
SET resolved = 1
WHERE upstream_id = :id
  AND resolved = 0;
